"""MatMul of 1-D operands, with numpy's matmul meaning.

ONNX's MatMul is numpy's: a 1-D left operand is a row (its axis dropped from the result),
a 1-D right operand a column (likewise), two 1-D operands give their 0-d dot product.
TVM's `relax.matmul` takes such operands, but sedge's layer records (and its matmul
kernels) read a matmul's reduction from the operands' last two axes: here each 1-D operand
is given its unit axis, and the result loses it again.
"""
from tvm import relax
from tvm.relax.frontend.onnx import onnx_frontend

from sedge.frontend.importers.standard.common import rank_of
from sedge.frontend.onnx_ops import register_standard_converter


@register_standard_converter("MatMul")
class MatMul(onnx_frontend.MatMul):
    @classmethod
    def _impl_v13(cls, bb, inputs, attr, params):
        a, b = inputs
        a_rank, b_rank = rank_of(a), rank_of(b)
        if a_rank != 1 and b_rank != 1:
            return super()._impl_v13(bb, inputs, attr, params)
        if a_rank == 1:
            a = bb.emit(relax.op.expand_dims(a, 0))
        if b_rank == 1:
            b = bb.emit(relax.op.expand_dims(b, 1))
        product = bb.emit(relax.op.matmul(a, b))
        rank = rank_of(product)
        unit_axes = ([rank - 2] if a_rank == 1 else []) + ([rank - 1] if b_rank == 1 else [])
        return relax.op.squeeze(product, unit_axes)
