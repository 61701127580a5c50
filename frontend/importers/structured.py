"""Structured convolutions into Relax: `sedge.StructuredConv` (and a bare `sedge.SumPool`).

Generic path: the sum-pool as a channel sum (a 1x1 conv with a constant 0/1 band weight)
and a spatial box sum (a depthwise conv with an all-ones weight; stride 1, the layer's
padding and dilation), then the small conv (padding 0, the layer's stride and dilation).
"""
import numpy as np
from tvm import relax
from tvm.relax.frontend.onnx.onnx_frontend import OnnxOpConverter

from sedge.frontend.importers.construct import add_channel_bias, emit_sedge_call, shape_of
from sedge.frontend.layers.structured import sum_pool_weight
from sedge.frontend.loaders.pytorch import register_torch_converter
from sedge.frontend.onnx_ops import register_converter


def _sum_pool(builder, x, c, window, padding, dilation, groups):
    """The 3-D box sum as its two separable parts: a sliding sum over channels (a 1x1 conv
    with a 0/1 band weight, only where the channel window is wider than 1), then the
    spatial box sum (a depthwise conv with an all-ones weight). One conv with the 3-D 0/1
    weight would multiply every zero of it: C x more work when c = C, as in struct-a."""
    channels = shape_of(x)[1]
    if channels // groups != c:
        band = sum_pool_weight(channels, groups * c, 1, groups).contiguous().numpy()
        x = builder.emit(relax.op.nn.conv2d(x, relax.const(band), groups=groups))
    if window == 1 and not any(padding):
        return x
    ones = np.ones((groups * c, 1, window, window), dtype="float32")
    return builder.emit(relax.op.nn.conv2d(x, relax.const(ones), padding=padding, dilation=dilation,
                                           groups=groups * c))


def emit_structured_conv(bb, x, alpha, bias, kernel_size, strides, padding, dilation, groups):
    """padding: [top, left, bottom, right]; bias may be None."""
    O, c, n, _ = shape_of(alpha)
    settings = {"in_channels": shape_of(x)[1], "out_channels": O, "kernel_size": kernel_size, "c": c, "n": n,
                "strides": list(strides), "pads": list(padding), "dilations": list(dilation), "group": groups}

    def body(builder, params):
        pooled = _sum_pool(builder, params[0], c, kernel_size - n + 1, padding, dilation, groups)
        y = builder.emit(relax.op.nn.conv2d(pooled, params[1], strides=strides, dilation=dilation, groups=groups))
        return add_channel_bias(builder, y, params[2]) if bias is not None else y

    return emit_sedge_call(bb, "StructuredConv", [x, alpha] + ([bias] if bias is not None else []), settings, body)


def emit_sum_pool(bb, x, c, n, kernel_size, padding, dilation, groups):
    """The sum-pool of a structured (c, n) decomposition of a kernel_size conv, alone."""
    settings = {"c": c, "n": n, "kernel_size": kernel_size, "pads": list(padding), "dilations": list(dilation),
                "group": groups}
    window = kernel_size - n + 1
    return emit_sedge_call(bb, "SumPool", [x], settings,
                           lambda builder, params: _sum_pool(builder, params[0], c, window, padding, dilation, groups))


@register_converter("StructuredConv")
class StructuredConvConverter(OnnxOpConverter):
    @classmethod
    def _impl_v1(cls, bb, inputs, attr, params):
        bias = inputs[2] if len(inputs) > 2 else None
        return emit_structured_conv(bb, inputs[0], inputs[1], bias, attr["kernel_size"], attr["strides"],
                                    attr["pads"], attr["dilations"], attr["group"])


@register_converter("SumPool")
class SumPoolConverter(OnnxOpConverter):
    @classmethod
    def _impl_v1(cls, bb, inputs, attr, params):
        return emit_sum_pool(bb, inputs[0], attr["c"], attr["n"], attr["kernel_size"], attr["pads"], attr["dilations"],
                             attr["group"])


def convert_structured_conv(node, importer):
    x, alpha, bias, kernel_size, stride, padding, dilation, groups = node.args
    env = importer.env
    return emit_structured_conv(importer.block_builder, env[x], env[alpha], env[bias] if bias is not None else None,
                                kernel_size, stride, padding * 2, dilation, groups)


# TVM keys custom ops by the OpOverload name without its namespace
register_torch_converter("structured_conv.default")(convert_structured_conv)
