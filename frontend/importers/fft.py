"""Band-limited FFT convolutions into Relax: `sedge.FFTConv`.

Generic path: the real 2-D DFT as matmuls with constant cosine / sine matrices (Relax has no
FFT op), the per-frequency complex channel contraction as one batched matmul (real and
imaginary input rows against real and imaginary filter columns), and an inverse DFT
whose matrices keep only the cropped, strided output rows and columns. The band is a
rectangle of the one-sided spectrum (its kept rows x its first columns), so every matrix
is restricted to it: only kept coefficients are computed, multiplied and stored (the
filter spectra, computed from the weights once at load time), as methods.md §4 says
inference needs; zeroing the rest after a full product made resnet18-fft-50's dominant
frequency contractions stream twice the filter bytes. It is exact but O(N^2) per
transform: no pass replaces it with a fast FFT yet.
"""
import numpy as np
from tvm import relax
from tvm.relax.frontend.onnx.onnx_frontend import OnnxOpConverter

from sedge.frontend.importers.construct import add_channel_bias, emit_sedge_call, shape_of
from sedge.frontend.layers.fft import band_mask, fft_geometry
from sedge.frontend.loaders.pytorch import register_torch_converter
from sedge.frontend.onnx_ops import register_converter


def dft_matrices(hf, wf, band_rows, band_cols, rows, cols):
    """Forward (cos, sin) along W (Wf x band columns) and H (band rows x Hf); inverse ones
    from the band to the output `rows` / `cols`."""
    angle_w = 2 * np.pi * np.outer(np.arange(wf), band_cols) / wf
    angle_h = 2 * np.pi * np.outer(band_rows, np.arange(hf)) / hf
    # c2r weights: the DC and (even-length) Nyquist columns count once, the others twice
    weight = np.where((band_cols == 0) | ((wf % 2 == 0) & (band_cols == wf // 2)), 1.0, 2.0)[:, None]
    inverse_w = 2 * np.pi * np.outer(band_cols, cols) / wf
    inverse_h = 2 * np.pi * np.outer(rows, band_rows) / hf

    def f32(m):
        return relax.const(np.ascontiguousarray(m, dtype=np.float32))
    return {"cw": f32(np.cos(angle_w)), "sw": f32(np.sin(angle_w)), "ch": f32(np.cos(angle_h)),
            "sh": f32(np.sin(angle_h)), "ich": f32(np.cos(inverse_h) / hf), "ish": f32(np.sin(inverse_h) / hf),
            "icw": f32(weight * np.cos(inverse_w) / wf), "isw": f32(weight * np.sin(inverse_w) / wf)}


def emit_fft_conv(bb, x, weight, bias, stride, padding, index):
    batch, C, H, W = shape_of(x)
    O, _, kernel, _ = shape_of(weight)
    hf, wf = fft_geometry(H, W, kernel, padding)
    mask = band_mask(hf, wf, index).numpy() > 0
    band_rows, band_cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    rows = np.arange(0, H + 2 * padding - kernel + 1, stride)
    cols = np.arange(0, W + 2 * padding - kernel + 1, stride)
    settings = {"in_channels": C, "out_channels": O, "kernel_size": kernel, "strides": [stride, stride],
                "pads": [padding] * 4, "index": index, "fft_shape": [hf, wf]}

    def body(builder, params):
        if not mask.any():  # an empty band passes nothing but the bias
            y = relax.op.zeros([batch, O, len(rows), len(cols)], "float32")
            return add_channel_bias(builder, builder.emit(y), params[2]) if bias is not None else builder.emit(y)
        m = dft_matrices(hf, wf, band_rows, band_cols, rows, cols)
        mm, emit = relax.op.matmul, builder.emit
        kept = len(band_rows) * len(band_cols)

        def spectrum(tensor, top, left):
            padded = emit(relax.op.nn.pad(tensor, [0, 0, 0, 0, top, hf - shape_of(tensor)[2] - top, left,
                                              wf - shape_of(tensor)[3] - left]))
            real, imag = emit(mm(padded, m["cw"])), emit(relax.op.negative(mm(padded, m["sw"])))
            return (emit(relax.op.add(mm(m["ch"], real), mm(m["sh"], imag))),
                    emit(relax.op.subtract(mm(m["ch"], imag), mm(m["sh"], real))))

        def by_frequency(tensor, axes):
            permuted = emit(relax.op.permute_dims(tensor, axes))
            return emit(relax.op.reshape(permuted, [kept] + [shape_of(tensor)[a] for a in axes[2:]]))

        xr, xi = spectrum(params[0], padding, padding)
        fr, fi = spectrum(params[1], 0, 0)
        # the sum over channels of X * conj(F) as one product per frequency:
        # (kept, [Xr; Xi]: 2B, C) @ (kept, C, [Fr, Fi]: 2O) holds Xr Fr, Xr Fi, Xi Fr, Xi Fi.
        # Each filter spectrum (the bytes that dominate at batch 1) is read once; four
        # separate matmuls read each twice
        inputs = emit(relax.op.concat([by_frequency(xr, [2, 3, 0, 1]), by_frequency(xi, [2, 3, 0, 1])], axis=1))
        filters = emit(relax.op.concat([by_frequency(fr, [2, 3, 1, 0]), by_frequency(fi, [2, 3, 1, 0])], axis=2))
        products = emit(mm(inputs, filters))

        def part(row, column):
            return relax.op.strided_slice(products, [1, 2], [row * batch, column * O],
                                          [(row + 1) * batch, (column + 1) * O])

        def back(product):  # (kept, B, O) -> (B, O, band rows, band columns)
            product = emit(relax.op.reshape(emit(product), [len(band_rows), len(band_cols), batch, O]))
            return emit(relax.op.permute_dims(product, [2, 3, 0, 1]))

        yr = back(relax.op.add(part(0, 0), part(1, 1)))
        yi = back(relax.op.subtract(part(1, 0), part(0, 1)))
        zr = emit(relax.op.subtract(mm(m["ich"], yr), mm(m["ish"], yi)))
        zi = emit(relax.op.add(mm(m["ich"], yi), mm(m["ish"], yr)))
        y = emit(relax.op.subtract(mm(zr, m["icw"]), mm(zi, m["isw"])))
        return add_channel_bias(builder, y, params[2]) if bias is not None else y

    return emit_sedge_call(bb, "FFTConv", [x, weight] + ([bias] if bias is not None else []), settings, body)


@register_converter("FFTConv")
class FFTConvConverter(OnnxOpConverter):
    @classmethod
    def _impl_v1(cls, bb, inputs, attr, params):
        return emit_fft_conv(bb, inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None, attr["strides"][0],
                             attr["pads"][0], attr["index"])


def convert_fft_conv(node, importer):
    x, weight, bias, stride, padding, index = node.args
    env = importer.env
    return emit_fft_conv(importer.block_builder, env[x], env[weight], env[bias] if bias is not None else None,
                         stride, padding, index)


# TVM keys custom ops by the OpOverload name without its namespace
register_torch_converter("fft_conv.default")(convert_fft_conv)
