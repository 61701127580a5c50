"""The band-limited conv's four pruned FFT passes as TIR, one transform per SIMD lane.

The `fft` lowering (passes/fft_conv.py) runs, per image, in NHWC:

1. `forward_w`: along W, the real rows x[b, h, :, c] (only the W nonzero points of the
   padded Wf-point axis) to the band's columns 0..nk-1: t (B, H, 2, nk, C);
2. `forward_h`: along H, the complex columns of t (only the H nonzero points of Hf) to the
   band's rows, written straight into the channel mixing's layout (kept, [re; im]: 2B, C);
3. the mixing (a batched matmul over the kept frequencies, not here): (kept, 2B, 2O);
4. `inverse_h`: the products combined into X conj(F) as they are read, then along H to the
   cropped, strided output rows only: u (B, Ho, 2, nk, O);
5. `inverse_w`: the Hermitian extension of the band's columns, along W to the cropped,
   strided output columns, the real part only, plus the bias: y (B, Ho, Wo, O).

Each pass is one program of kernels/fft_program.py (a pruned mixed-radix FFT of the
method's size, Rader's algorithm for its prime factors above 13) run one transform per SIMD
lane by kernels/lane_programs.py: the lanes are channels, so every butterfly is a vertical
vector add or multiply and nothing is shuffled (pocketfft's multi-transform layout). The
scale 1 / (Hf Wf) of the inverse is in the filter spectra (passes/fft_conv.py), not here.
"""
from __future__ import annotations

from tvm import te

from sedge.tvm_passes.kernels.fft_program import forward_h, forward_w, inverse_h, inverse_w
from sedge.tvm_passes.kernels.lane_programs import opaque_func, run_per_lane


def forward_w_func(batch, H, W, C, wf, padding, nk, lanes, gpu=False):
    """(B, H, W, C) -> (B, H, 2, nk, C)."""
    prog, outs = forward_w(wf, W, padding, nk)
    x = te.placeholder((batch, H, W, C), "float32", "x")

    def gen(xs, ts):
        def store(row, c, k, part, v):
            ts[row // H, row % H, part, k, c] = v
        run_per_lane(prog, outs, batch * H, C, lanes, gpu, lambda row, c, key: xs[row // H, row % H, key[1], c], store)
    return opaque_func("fft_forward_w", [x], (batch, H, 2, nk, C), gen)


def forward_h_func(batch, H, C, hf, padding, rows, nk, lanes, gpu=False):
    """(B, H, 2, nk, C) -> (nr nk, 2B, C): X[r, k] at [ri nk + k, part B + b, c]."""
    prog, outs = forward_h(hf, H, padding, rows)
    t = te.placeholder((batch, H, 2, nk, C), "float32", "t")

    def gen(ts, xs):
        def load(row, c, key):
            return ts[row // nk, key[1], int(key[0] == "im"), row % nk, c]

        def store(row, c, ri, part, v):
            xs[ri * nk + row % nk, part * batch + row // nk, c] = v
        run_per_lane(prog, outs, batch * nk, C, lanes, gpu, load, store)
    return opaque_func("fft_forward_h", [t], (len(rows) * nk, 2 * batch, C), gen)


def inverse_h_func(batch, O, hf, rows, nk, out_rows, lanes, gpu=False):
    """The mixing's products (kept, 2B, 2O) ([Xr; Xi] x [Fr, Fi]) -> u (B, Ho, 2, nk, O):
    Y = X conj(F) (re = Xr Fr + Xi Fi, im = Xi Fr - Xr Fi) along H to the output rows."""
    prog, outs = inverse_h(hf, rows, out_rows)
    p = te.placeholder((len(rows) * nk, 2 * batch, 2 * O), "float32", "products")

    def gen(ps, us):
        def load(row, o, key):
            f, b = key[1] * nk + row % nk, row // nk
            if key[0] == "re":
                return ps[f, b, o] + ps[f, batch + b, O + o]
            return ps[f, batch + b, o] - ps[f, b, O + o]

        def store(row, o, i, part, v):
            us[row // nk, i, part, row % nk, o] = v
        run_per_lane(prog, outs, batch * nk, O, lanes, gpu, load, store)
    return opaque_func("fft_inverse_h", [p], (batch, len(out_rows), 2, nk, O), gen)


def inverse_w_func(batch, O, wf, nk, h_out, out_cols, lanes, bias=False, gpu=False):
    """u (B, Ho, 2, nk, O)[, bias (O,)] -> y (B, Ho, Wo, O)."""
    prog, outs = inverse_w(wf, nk, out_cols)
    u = te.placeholder((batch, h_out, 2, nk, O), "float32", "u")
    inputs = [u] + ([te.placeholder((O,), "float32", "bias")] if bias else [])

    def gen(us, *rest):
        bs, ys = (rest[0], rest[1]) if bias else (None, rest[0])

        def load(row, o, key):
            return us[row // h_out, row % h_out, int(key[0] == "im"), key[1], o]

        def store(row, o, j, part, v):
            if part == 0:
                ys[row // h_out, row % h_out, j, o] = v + bs[o] if bias else v
        run_per_lane(prog, outs, batch * h_out, O, lanes, gpu, load, store)
    return opaque_func("fft_inverse_w", inputs, (batch, h_out, len(out_cols), O), gen)
