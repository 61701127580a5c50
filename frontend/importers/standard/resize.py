"""Resize's `antialias` (opset 18), which TVM's converter ignores.

With antialias=1, a linear or cubic Resize that downscales an axis widens its
interpolation filter by 1 / scale (ONNX's reference, like Pillow's resampling); TVM's
resize has no such filter. Such a Resize is separable and its shapes are static, so each
resized axis is one constant (out x in) matrix: its rows are the weights ONNX's reference
interpolation (`onnx.reference.ops.op_resize`) gives each output position, read off by
interpolating the unit vectors, and the Resize is a matmul per resized axis. Nearest mode
and upscaling are unaffected by antialias and import as TVM does. Refused in one line:
sizes / scales known only at run time, tf_crop_and_resize, keep_aspect_ratio_policy
other than stretch, and integer tensors (ONNX rounds and saturates those), each beside
antialias when it downscales.
"""
import numpy as np
import tvm
from tvm import relax
from tvm.relax.frontend.onnx import onnx_frontend

from sedge.frontend.importers.standard.common import dtype_of, refuse, static_shape, text
from sedge.frontend.onnx_ops import register_standard_converter


def _sizes_and_scales(inputs, params, shape, axes):
    """{axis: (output size, scale factor)} of the resized axes, or None where they are known only at run time."""
    sizes = scales = None
    for index in (2, 3):
        if inputs[index] is None:
            continue
        value = onnx_frontend.get_constant(inputs[index], params)
        if not isinstance(value, tvm.ir.GenericConst):
            return None
        values = value.value.numpy().tolist()
        if values:
            sizes, scales = (None, values) if index == 2 else (values, None)
    if sizes is None and scales is None:
        return None
    resized = {}
    for i, axis in enumerate(axes):
        if scales is not None:
            resized[axis] = (int(scales[i] * shape[axis]), float(scales[i]))
        else:
            resized[axis] = (int(sizes[i]), sizes[i] / shape[axis])
    return resized


class _Row:
    """A row of weights that numpy's object-array dot product scales and adds as one value."""

    def __init__(self, weights):
        self.weights = weights

    def __mul__(self, factor):
        return _Row(self.weights * factor)

    __rmul__ = __mul__

    def __add__(self, other):
        return _Row(self.weights + (other.weights if isinstance(other, _Row) else other))

    __radd__ = __add__

    def item(self):  # what the reference calls on its dot product
        return self


def _axis_matrix(n_in: int, n_out: int, scale: float, mode: str, attr) -> np.ndarray:
    """The (n_out, n_in) weights of one axis, as ONNX's reference interpolates it."""
    from onnx.reference.ops import op_resize

    if mode == "linear":
        coeffs = op_resize._linear_coeffs_antialias
    else:
        a = float(attr.get("cubic_coeff_a", -0.75))

        def coeffs(ratio, factor):
            return op_resize._cubic_coeffs_antialias(ratio, factor, A=a)

    units, identity = np.empty(n_in, dtype=object), np.eye(n_in)
    for j in range(n_in):  # interpolating the unit vectors gives each output's row of weights
        units[j] = _Row(identity[j])
    mode_name = text(attr.get("coordinate_transformation_mode"), "half_pixel")
    rows = [op_resize._interpolate_1d_with_x(units, scale, n_out, x, coeffs, coordinate_transformation_mode=mode_name,
                                             exclude_outside=bool(attr.get("exclude_outside", 0)))
            for x in range(n_out)]
    return np.stack([row.weights for row in rows])


def _antialiased(bb, x, resized, mode, attr):
    rank = len(static_shape(x))
    dtype = dtype_of(x)
    for axis, (n_out, scale) in sorted(resized.items()):
        n_in = static_shape(x)[axis]
        weights = _axis_matrix(n_in, n_out, scale, mode, attr).T.astype(dtype)  # (in, out)
        order = [a for a in range(rank) if a != axis] + [axis]
        moved = x if axis == rank - 1 else bb.emit(relax.op.permute_dims(x, order))
        product = bb.emit(relax.op.matmul(moved, relax.const(weights, dtype)))
        back = list(range(rank - 1))
        back.insert(axis, rank - 1)
        x = product if axis == rank - 1 else bb.emit(relax.op.permute_dims(product, back))
    return x


@register_standard_converter("Resize")
class Resize(onnx_frontend.Resize):
    @classmethod
    def _impl_v18(cls, bb, inputs, attr, params):
        mode = text(attr.get("mode"), "nearest")
        if not (int(attr.get("antialias", 0)) and mode in ("linear", "cubic")):
            return super()._impl_v18(bb, inputs, attr, params)
        what = f"Resize with antialias=1 in {mode} mode"
        shape = static_shape(inputs[0])
        axes = [int(a) % len(shape) for a in attr.get("axes", range(len(shape)))] if shape else None
        resized = _sizes_and_scales(inputs, params, shape, axes) if shape else None
        if resized is None:
            refuse(f"{what} with sizes or scales known only at run time; allowed: sizes or scales stored in the model")
        if not any(scale < 1 for _, scale in resized.values()):  # antialias filters only downscaling
            return super()._impl_v18(bb, inputs, attr, params)
        coordinates = text(attr.get("coordinate_transformation_mode"), "half_pixel")
        policy = text(attr.get("keep_aspect_ratio_policy"), "stretch")
        if coordinates == "tf_crop_and_resize" or policy != "stretch":
            refuse(f"{what} downscaling with coordinate_transformation_mode={coordinates}, keep_aspect_ratio_policy="
                   f"{policy}; allowed beside antialias: stretch, and any coordinate mode but tf_crop_and_resize")
        if np.dtype(dtype_of(inputs[0])).kind != "f":
            refuse(f"{what} downscaling a {dtype_of(inputs[0])} tensor; allowed: float tensors")
        resized = {a: (n, s) for a, (n, s) in resized.items() if not (s == 1 and n == shape[a])}
        return _antialiased(bb, inputs[0], resized, mode, attr)
