"""Associative (CSG) convolutions into Relax: `sedge.CSGConv` with codes and the shared generator.

Generic path: kernel = reshape(codes @ G^T)[:O, :I], then conv2d (inference option (a) of
methods.md §3); the generator stays one weight that every CSG layer's call reads.
"""
import math

from tvm import relax
from tvm.relax.frontend.onnx.onnx_frontend import OnnxOpConverter

from sedge.frontend.importers.construct import add_channel_bias, emit_sedge_call, shape_of
from sedge.frontend.loaders.pytorch import register_torch_converter
from sedge.frontend.onnx_ops import register_converter


def emit_csg_conv(bb, x, codes, generator, bias, out_channels, slice_shape, strides, padding, dilation):
    """padding: [top, left, bottom, right]; bias may be None."""
    in_channels = shape_of(x)[1]
    s0, s1 = slice_shape
    settings = {"in_channels": in_channels, "out_channels": out_channels, "slice": [s0, s1, 3, 3],
                "code_length": shape_of(codes)[1], "strides": list(strides), "pads": list(padding),
                "dilations": list(dilation)}

    def body(builder, params):
        full = builder.emit(relax.op.matmul(params[1], builder.emit(relax.op.permute_dims(params[2]))))
        rows, columns = math.ceil(out_channels / s0) * s0, math.ceil(in_channels / s1) * s1
        full = builder.emit(relax.op.reshape(full, [rows, columns, 3, 3]))
        kernel = builder.emit(relax.op.strided_slice(full, [0, 1], [0, 0], [out_channels, in_channels]))
        y = builder.emit(relax.op.nn.conv2d(params[0], kernel, strides=strides, padding=padding, dilation=dilation))
        return add_channel_bias(builder, y, params[3]) if bias is not None else y

    args = [x, codes, generator] + ([bias] if bias is not None else [])
    return emit_sedge_call(bb, "CSGConv", args, settings, body)


@register_converter("CSGConv")
class CSGConvConverter(OnnxOpConverter):
    @classmethod
    def _impl_v1(cls, bb, inputs, attr, params):
        return emit_csg_conv(bb, inputs[0], inputs[1], inputs[2], inputs[3] if len(inputs) > 3 else None,
                             attr["out_channels"], attr["slice"][:2], attr["strides"], attr["pads"], attr["dilations"])


def convert_csg_conv(node, importer):
    x, codes, generator, bias, out_channels, slice_shape, stride, padding, dilation = node.args
    env = importer.env
    return emit_csg_conv(importer.block_builder, env[x], env[codes], env[generator],
                         env[bias] if bias is not None else None, out_channels, slice_shape, stride, padding * 2,
                         dilation)


# TVM keys custom ops by the OpOverload name without its namespace
register_torch_converter("csg_conv.default")(convert_csg_conv)
