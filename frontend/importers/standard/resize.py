"""Resize's `antialias` (opset 18): refused where it changes the result.

TVM's converter ignores the attribute. With antialias=1, a linear or cubic Resize that
downscales an axis widens its interpolation filter by 1 / scale (ONNX's reference, like
Pillow's resampling); TVM's resize has no such filter. Nearest mode and upscaling axes
are unaffected by antialias and import as TVM does; the rest is refused in one line.
"""
import tvm
from tvm.relax.frontend.onnx import onnx_frontend

from sedge.frontend.importers.standard.common import refuse, static_shape, text
from sedge.frontend.onnx_ops import register_standard_converter


def _downscales(inputs, params, axes) -> bool | None:
    """Whether the Resize shrinks some axis (None: its sizes / scales are known only at run time)."""
    shape = static_shape(inputs[0])
    if shape is None:
        return None
    dims = [shape[int(a) % len(shape)] for a in axes] if axes else shape
    for index in (3, 2):  # sizes, then scales
        if inputs[index] is None:
            continue
        value = onnx_frontend.get_constant(inputs[index], params)
        if not isinstance(value, tvm.ir.GenericConst):
            return None
        values = value.value.numpy().tolist()
        if values:
            return any(size < dim for size, dim in zip(values, dims)) if index == 3 else min(values) < 1
    return None


@register_standard_converter("Resize")
class Resize(onnx_frontend.Resize):
    @classmethod
    def _impl_v18(cls, bb, inputs, attr, params):
        mode = text(attr.get("mode"), "nearest")
        if int(attr.get("antialias", 0)) and mode in ("linear", "cubic"):
            axes = attr.get("axes")
            shrinks = _downscales(inputs, params, axes)
            if shrinks is None or shrinks:
                refuse(f"Resize with antialias=1 in {mode} mode downscaling (ONNX widens the filter by 1/scale, "
                       "TVM's resize has no such filter); allowed: antialias=0, nearest mode, or upscaling")
        return super()._impl_v18(bb, inputs, attr, params)
