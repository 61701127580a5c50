"""ACDC layers into Relax: `sedge.ACDC` over the last dimension (SECL's pointwise part).

Per factor: multiply by A, by the orthonormal DCT matrix, by D, by its transpose, add the
bias, riffle. The riffle only reorders the columns of the last product, so it is folded
into that matrix's columns (and the bias's): emitted as reshape / transpose / reshape it
was a gather kernel per factor, a quarter of wrn-40-2-acdc's time.
"""
import numpy as np
import torch
from tvm import relax
from tvm.relax.frontend.onnx.onnx_frontend import OnnxOpConverter

from sedge.frontend.importers.construct import emit_sedge_call, shape_of
from sedge.frontend.layers.acdc import dct_matrix, riffle
from sedge.frontend.loaders.pytorch import register_torch_converter
from sedge.frontend.onnx_ops import register_converter


def emit_acdc(bb, x, a, d, bias):
    factors, N = shape_of(a)
    shape = shape_of(x)
    settings = {"factors": factors, "n": N, "bias": int(bias is not None)}

    def body(builder, params):
        dct = dct_matrix(N).numpy().astype(np.float32)
        order = riffle(torch.arange(N)).numpy()  # riffle(h)[:, k] = h[:, order[k]]
        forward, inverse = relax.const(np.ascontiguousarray(dct.T)), relax.const(np.ascontiguousarray(dct[:, order]))
        emit = builder.emit
        y = emit(relax.op.reshape(params[0], [-1, N]))
        for layer in range(factors):
            def pick(tensor):
                return relax.op.strided_slice(tensor, [0], [layer], [layer + 1])  # row (1, N)
            h = emit(relax.op.matmul(relax.op.multiply(y, pick(params[1])), forward))
            y = emit(relax.op.matmul(relax.op.multiply(h, pick(params[2])), inverse))
            if bias is not None:  # a weight: reordered once, at load time
                y = emit(relax.op.add(y, relax.op.take(pick(params[3]), relax.const(order), axis=1)))
        return builder.emit(relax.op.reshape(y, shape))

    return emit_sedge_call(bb, "ACDC", [x, a, d] + ([bias] if bias is not None else []), settings, body)


@register_converter("ACDC")
class ACDCConverter(OnnxOpConverter):
    @classmethod
    def _impl_v1(cls, bb, inputs, attr, params):
        return emit_acdc(bb, inputs[0], inputs[1], inputs[2], inputs[3] if len(inputs) > 3 else None)


def convert_acdc(node, importer):
    x, a, d, bias = node.args
    env = importer.env
    return emit_acdc(importer.block_builder, env[x], env[a], env[d], env[bias] if bias is not None else None)


# TVM keys custom ops by the OpOverload name without its namespace
register_torch_converter("acdc.default")(convert_acdc)
