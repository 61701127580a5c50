"""sedge.FFTConv (methods.md §4) as an ONNX function.

sedge.FFTConv(X, W, B) -> Y, attributes strides ([s, s]), pads ([p, p, p, p]), index (the
kept band's idx; -1 keeps the whole spectrum). The body pads X and W to Hf x Wf, takes the
one-sided 2-D DFT of both as matmuls with cosine / sine matrices built from the shapes (ONNX
Runtime's DFT has no one-sided inverse), multiplies X by conj(W) summed over channels, masks the
band, and inverts only the cropped, strided output rows and columns.
"""
import math

import torch
from onnx import TensorProto
from torch.onnx import symbolic_helper

from sedge.frontend.onnx_functions.body import DOMAIN, Body, make_function
from sedge.frontend.onnx_functions.typing import conv_output

FLOAT = TensorProto.FLOAT


def _trig(b: Body, rows, cols, n):
    """(cos, sin) of 2 pi (r c mod n) / n over rows x cols (int64 ranges); the mod keeps floats exact."""
    product = b.op("Mod", b.op("Mul", b.op("Unsqueeze", rows, b.const([1])), b.op("Unsqueeze", cols, b.const([0]))), n)
    angle = b.op("Div", b.op("Mul", b.op("Cast", product, to=FLOAT), b.const(2 * math.pi, "float32")),
                 b.op("Cast", n, to=FLOAT))
    return b.op("Cos", angle), b.op("Sin", angle)


def fft_conv_function():
    b = Body()
    zero, one, two = b.const(0), b.const(1), b.const(2)
    def rng(start, stop, step=one):
        return b.op("Range", start, stop, step)
    sub, add, mul, mm = (lambda x, y, op=op: b.op(op, x, y) for op in ("Sub", "Add", "Mul", "MatMul"))
    pad = b.op("Gather", b.attr_ints("pads"), zero)
    stride = b.op("Gather", b.attr_ints("strides"), zero)
    index = b.attr_int("index")
    height, width, kernel = b.dim("X", 2), b.dim("X", 3), b.dim("W", 3)
    sizes = []
    for n in (height, width):
        padded = add(n, mul(pad, two))
        valid = add(sub(padded, kernel), one)
        sizes.append((valid, sub(add(padded, b.op("Max", valid, kernel)), one)))
    (rows_valid, hf), (cols_valid, wf) = sizes
    wk = add(b.op("Div", wf, two), one)
    xp = b.op("Pad", "X", b.vector(0, 0, pad, pad, 0, 0, sub(sub(hf, height), pad), sub(sub(wf, width), pad)))
    wp = b.op("Pad", "W", b.vector(0, 0, 0, 0, 0, 0, sub(hf, kernel), sub(wf, kernel)))
    cw, sw = _trig(b, rng(zero, wf), rng(zero, wk), wf)
    ch, sh = _trig(b, rng(zero, hf), rng(zero, hf), hf)

    def spectrum(t):
        real, imag = mm(t, cw), b.op("Neg", mm(t, sw))
        return add(mm(ch, real), mm(sh, imag)), sub(mm(ch, imag), mm(sh, real))

    (xr, xi), (fr, fi) = spectrum(xp), spectrum(wp)
    def contract(x, f):
        return b.op("Einsum", x, f, equation="bchw,ochw->bohw")
    row, col = rng(zero, hf), rng(zero, wk)
    keep_rows = b.op("Or", b.op("Less", row, index), b.op("GreaterOrEqual", row, add(sub(hf, index), one)))
    band = b.op("And", b.op("Unsqueeze", keep_rows, b.const([1])), b.op("Unsqueeze", b.op("Less", col, index),
                                                                         b.const([0])))
    mask = b.op("Cast", b.op("Or", band, b.op("Less", index, zero)), to=FLOAT)
    yr = mul(add(contract(xr, fr), contract(xi, fi)), mask)
    yi = mul(sub(contract(xi, fr), contract(xr, fi)), mask)
    # inverse, restricted to the cropped and strided outputs; c2r counts DC and Nyquist once
    ich, ish = _trig(b, rng(zero, rows_valid, stride), rng(zero, hf), hf)
    icw, isw = _trig(b, col, rng(zero, cols_valid, stride), wf)
    nyquist = b.op("And", b.op("Equal", b.op("Mod", wf, two), zero), b.op("Equal", col, b.op("Div", wf, two)))
    weight = b.op("Where", b.op("Or", b.op("Equal", col, zero), nyquist), b.const(1.0, "float32"),
                  b.const(2.0, "float32"))
    scale_w = b.op("Div", b.op("Unsqueeze", weight, b.const([1])), b.op("Cast", wf, to=FLOAT))
    scale_h = b.op("Cast", hf, to=FLOAT)
    ich, ish = b.op("Div", ich, scale_h), b.op("Div", ish, scale_h)
    icw, isw = mul(icw, scale_w), mul(isw, scale_w)
    zr, zi = sub(mm(ich, yr), mm(ish, yi)), add(mm(ich, yi), mm(ish, yr))
    out = add(sub(mm(zr, icw), mm(zi, isw)), b.op("Reshape", "B", b.const([1, -1, 1, 1])))
    return make_function("FFTConv", ["X", "W", "B"], [out], b, ["strides", "pads", "index"])


@symbolic_helper.parse_args("v", "v", "v", "i", "i", "i")
def fft_conv_symbolic(g, x, weight, bias, stride, padding, index):
    out_channels, _, kernel, _ = symbolic_helper._get_tensor_sizes(weight)
    if symbolic_helper._is_none(bias):
        bias = g.op("Constant", value_t=torch.zeros(out_channels))
    out = g.op(f"{DOMAIN}::FFTConv", x, weight, bias, strides_i=[stride, stride], pads_i=[padding] * 4, index_i=index)
    return conv_output(out, x, out_channels, kernel, [stride] * 2, [padding] * 2, [1, 1])


FUNCTIONS = {"FFTConv": (fft_conv_function, ())}
SYMBOLICS = {"sedge::fft_conv": fft_conv_symbolic}
