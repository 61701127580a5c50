"""sedge.CSGConv (methods.md §3) as an ONNX function.

sedge.CSGConv(X, codes, G, B) -> Y, attributes out_channels, slice ([s0, s1, 3, 3]), strides,
pads, dilations: codes (n_l x K) are the layer's, G (s0*s1*9 x K) the network's shared
generator (one initializer read by every CSG layer). Kernel = reshape(codes G^T,
[ceil(O/s0)*s0, ceil(I/s1)*s1, 3, 3])[:O, :I], then Conv(X, kernel, B).
"""
import torch
from torch.onnx import symbolic_helper

from sedge.frontend.onnx_functions.body import DOMAIN, INTS, Body, make_function
from sedge.frontend.onnx_functions.typing import conv_output

CSG_ATTRS = ("out_channels", "slice", "strides", "pads", "dilations")


def csg_conv_function():
    b = Body()
    one = b.const(1)
    out_channels, in_channels = b.attr_int("out_channels"), b.dim("X", 1)
    slice_shape = b.attr_ints("slice")
    s0, s1 = (b.op("Gather", slice_shape, b.const(i)) for i in (0, 1))
    def round_up(n, s):
        return b.op("Mul", b.op("Div", b.op("Sub", b.op("Add", n, s), one), s), s)
    full = b.op("MatMul", "codes", b.op("Transpose", "G", perm=[1, 0]))
    full = b.op("Reshape", full, b.vector(round_up(out_channels, s0), round_up(in_channels, s1), 3, 3))
    kernel = b.op("Slice", full, b.const([0, 0]), b.vector(out_channels, in_channels), b.const([0, 1]))
    out = b.op("Conv", "X", kernel, "B", refs={"strides": ("strides", INTS), "pads": ("pads", INTS),
                                               "dilations": ("dilations", INTS)})
    return make_function("CSGConv", ["X", "codes", "G", "B"], [out], b, list(CSG_ATTRS))


@symbolic_helper.parse_args("v", "v", "v", "v", "i", "is", "is", "is", "is")
def csg_conv_symbolic(g, x, codes, generator, bias, out_channels, slice_shape, stride, padding, dilation):
    if symbolic_helper._is_none(bias):
        bias = g.op("Constant", value_t=torch.zeros(out_channels))
    out = g.op(f"{DOMAIN}::CSGConv", x, codes, generator, bias, out_channels_i=out_channels,
               slice_i=list(slice_shape) + [3, 3], strides_i=stride, pads_i=padding * 2, dilations_i=dilation)
    return conv_output(out, x, out_channels, 3, stride, padding, dilation)


FUNCTIONS = {"CSGConv": (csg_conv_function, ())}
SYMBOLICS = {"sedge::csg_conv": csg_conv_symbolic}
