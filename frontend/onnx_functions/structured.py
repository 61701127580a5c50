"""sedge.SumPool and sedge.StructuredConv (methods.md §1) as ONNX functions.

sedge.SumPool(X) -> Y, attributes c, n, kernel_size, pads, dilations, group: the 3-D sum-pool of
a structured (c, n) decomposition of an N x N conv (channel window C/group - c + 1 within each
group, spatial window N - n + 1, stride 1), computed by a grouped Conv with a 0/1 weight.
sedge.StructuredConv(X, alpha, B) -> Y, attributes c, n, kernel_size, strides, pads, dilations,
group: SumPool then Conv(alpha, B) with the layer's stride and dilation and no padding.
"""
import torch
from onnx import TensorProto
from torch.onnx import symbolic_helper

from sedge.frontend.onnx_functions.body import DOMAIN, INT, INTS, Body, make_function
from sedge.frontend.onnx_functions.typing import conv_output

SUM_POOL_ATTRS = ("c", "n", "kernel_size", "pads", "dilations", "group")
STRUCTURED_ATTRS = ("c", "n", "kernel_size", "strides", "pads", "dilations", "group")


def sum_pool_function():
    b = Body()
    one, zero = b.const(1), b.const(0)
    group, c = b.attr_int("group"), b.attr_int("c")
    window = b.op("Add", b.op("Sub", b.attr_int("kernel_size"), b.attr_int("n")), one)
    group_in = b.op("Div", b.dim("X", 1), group)
    channel_window = b.op("Add", b.op("Sub", group_in, c), one)
    # band[ci, cc] = 1 where 0 <= cc - ci < channel window
    offset = b.op("Sub", b.op("Unsqueeze", b.op("Range", zero, group_in, one), b.const([0])),
                  b.op("Unsqueeze", b.op("Range", zero, c, one), b.const([1])))
    band = b.op("Cast", b.op("And", b.op("GreaterOrEqual", offset, zero), b.op("Less", offset, channel_window)),
                to=TensorProto.FLOAT)
    tiled = b.op("Tile", band, b.vector(group, 1))
    weight = b.op("Expand", b.op("Unsqueeze", tiled, b.const([2, 3])), b.vector(1, 1, window, window))
    out = b.op("Conv", "X", weight, refs={"pads": ("pads", INTS), "dilations": ("dilations", INTS),
                                          "group": ("group", INT)})
    return make_function("SumPool", ["X"], [out], b, list(SUM_POOL_ATTRS))


def structured_conv_function():
    b = Body()
    pooled = b.op("SumPool", "X", domain=DOMAIN, refs={name: (name, INTS if name in ("pads", "dilations") else INT)
                                                       for name in SUM_POOL_ATTRS})
    out = b.op("Conv", pooled, "alpha", "B", refs={"strides": ("strides", INTS), "dilations": ("dilations", INTS),
                                                   "group": ("group", INT)})
    return make_function("StructuredConv", ["X", "alpha", "B"], [out], b, list(STRUCTURED_ATTRS), uses_sedge=True)


@symbolic_helper.parse_args("v", "v", "v", "i", "is", "is", "is", "i")
def structured_conv_symbolic(g, x, alpha, bias, kernel_size, stride, padding, dilation, groups):
    out_channels, c, n, _ = symbolic_helper._get_tensor_sizes(alpha)
    if symbolic_helper._is_none(bias):
        bias = g.op("Constant", value_t=torch.zeros(out_channels))
    out = g.op(f"{DOMAIN}::StructuredConv", x, alpha, bias, c_i=c, n_i=n, kernel_size_i=kernel_size,
               strides_i=stride, pads_i=padding * 2, dilations_i=dilation, group_i=groups)
    return conv_output(out, x, out_channels, kernel_size, stride, padding, dilation)


FUNCTIONS = {"SumPool": (sum_pool_function, ()), "StructuredConv": (structured_conv_function, ("SumPool",))}
SYMBOLICS = {"sedge::structured_conv": structured_conv_symbolic}
