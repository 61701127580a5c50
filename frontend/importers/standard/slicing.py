"""Slice to an empty range: refused in one line.

A Slice whose start lies past its end (an out-of-bounds start, say) gives a tensor with a
0-sized axis. TVM's converter emits the strided_slice and its schedule then divides by the
0 extent at compile time; as a constant, the empty tensor cannot be stored in a package
either. sedge compiles tensors with at least one element: the Slice is refused naming its
empty shape.
"""
from tvm import relax
from tvm.relax.frontend.onnx import onnx_frontend

from sedge.frontend.importers.standard.common import refuse, static_shape
from sedge.frontend.onnx_ops import register_standard_converter


@register_standard_converter("Slice")
class Slice(onnx_frontend.Slice):
    @classmethod
    def _impl_v13(cls, bb, inputs, attr, params):
        sliced = super()._impl_v13(bb, inputs, attr, params)
        if not isinstance(sliced, relax.Call):
            return sliced
        sliced = bb.normalize(sliced)
        shape = static_shape(sliced)
        if shape is not None and 0 in shape:
            refuse(f"Slice gives an empty tensor (shape {shape}: its range along an axis holds no element); "
                   "sedge compiles tensors of one element or more")
        return sliced
