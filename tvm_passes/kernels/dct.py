"""Fast orthonormal DCT-II / DCT-III in TE: O(N log N), one transform per SIMD lane.

The transforms run along axis 0 of a (N, V) tensor: V vectors (batch x pixels) side by side,
the vector index innermost, so every butterfly is a contiguous V-wide vector operation (the
"vertical" vectorisation of pocketfft's multi_iter; anchors.md). N is a power of two.

DCT-II by Makhoul's reordering (what FFTW's REDFT10 and pocketfft do):
    v[n] = x[2n], v[N-1-n] = x[2n+1]             (n < N/2)
    V = FFT_N(v)                                 (radix-2 Stockham stages: natural order, no bit reversal)
    X[k] = f_k Re(exp(-i pi k / 2N) V[k])        (f_0 = sqrt(1/N), f_k = sqrt(2/N): scipy norm='ortho')
DCT-III (its inverse) backwards: with c_k = X[k] / f_k, V[k] = exp(i pi k / 2N)(c_k - i c_{N-k})
(c_N = 0), v = IFFT_N(V), then x[2n] = v[n], x[2n+1] = v[N-1-n].

Per Stockham stage (length n, stride s, n s = N, m = n/2), output j = q + s r (q < s):
    a = x[q + s p], b = x[q + s (p + m)], p = r // 2;  y[j] = a + b (r even), (a - b) w^(p s) (r odd)
with w = exp(-+2 pi i / N) from a twiddle table passed as a constant input (no sin/cos in the loop).
Diagonal scalings (ACDC's A before a DCT-II, D after it) are folded into the first and last pass.
The FFT is complex on a real input (5 N log2 N flops where a real FFT needs half): the
half-length real-FFT split is the next step.
"""
from __future__ import annotations

import math
import re

import numpy as np
from tvm import te, tirx


def twiddles(N: int, sign: int, dtype=np.float32) -> np.ndarray:
    """(2, N/2): re / im of exp(sign 2 pi i t / N), t < N/2."""
    t = np.arange(N // 2)
    w = np.exp(sign * 2j * np.pi * t / N)
    return np.stack([w.real, w.imag]).astype(dtype)


def makhoul_phases(N: int, dtype=np.float32) -> np.ndarray:
    """(2, N): re / im of exp(-i pi k / 2N)."""
    w = np.exp(-1j * np.pi * np.arange(N) / (2 * N))
    return np.stack([w.real, w.imag]).astype(dtype)


def _fft_stages(re, im, tw, N: int, V: int, tag: str):
    """Stockham radix-2 stages on (N, V) re / im; tw the (2, N/2) twiddle table of the direction."""
    n, s, stage = N, 1, 0
    while n > 1:
        m = n // 2

        def butterfly(j, v, n=n, s=s, m=m, re=re, im=im):
            q, r = j % s, j // s
            p = r // 2
            lo, hi = q + s * p, q + s * (p + m)
            ar, ai, br, bi = re[lo, v], im[lo, v], re[hi, v], im[hi, v]
            wr, wi = tw[0, p * s], tw[1, p * s]
            dr, di = ar - br, ai - bi
            odd = r % 2 == 1
            return (tirx.if_then_else(odd, dr * wr - di * wi, ar + br),
                    tirx.if_then_else(odd, dr * wi + di * wr, ai + bi))

        # n, s, m, re, im bound by default arguments would be refused by te.compute: a closure per stage
        re, im = te.compute((N, V), _bind(butterfly), name=f"{tag}_fft{stage}")
        n, s, stage = m, s * 2, stage + 1
    return re, im


def _bind(f):
    return lambda j, v: f(j, v)


def dct2(x, tw, phase, N: int, V: int, scale_in=None, scale_out=None, tag="dct2"):
    """Orthonormal DCT-II along axis 0 of x (N, V); scale_in / scale_out: optional (N,) diagonals
    multiplied before / after (ACDC's A and D)."""
    half = N // 2

    def load(n, v):
        src = tirx.if_then_else(n < half, 2 * n, 2 * (N - 1 - n) + 1)
        value = x[src, v]
        return value * scale_in[src].astype(x.dtype) if scale_in is not None else value

    re = te.compute((N, V), load, name=f"{tag}_reorder")
    im = te.compute((N, V), lambda n, v: tirx.const(0.0, x.dtype), name=f"{tag}_zero")
    re, im = _fft_stages(re, im, tw, N, V, tag)
    f0, fk = 1 / math.sqrt(N), math.sqrt(2 / N)

    def post(k, v):
        value = (re[k, v] * phase[0, k] - im[k, v] * phase[1, k]) * tirx.if_then_else(k == 0, tirx.const(f0, x.dtype),
                                                                                    tirx.const(fk, x.dtype))
        return value * scale_out[k].astype(x.dtype) if scale_out is not None else value

    return te.compute((N, V), post, name=f"{tag}_post")


def dct3(X, tw_inv, phase, N: int, V: int, tag="dct3"):
    """Orthonormal DCT-III (the inverse of dct2) along axis 0 of X (N, V); tw_inv: twiddles(N, +1)."""
    f0, fk = math.sqrt(N), math.sqrt(N / 2)  # 1 / f_k

    def pre(k, v):
        c = X[k, v] * tirx.if_then_else(k == 0, tirx.const(f0, X.dtype), tirx.const(fk, X.dtype))
        mirror = tirx.if_then_else(k == 0, tirx.const(0.0, X.dtype), X[(N - k) % N, v] * fk)
        # exp(+i pi k / 2N) = conj(phase)
        cr, ci = phase[0, k], -phase[1, k]
        return c * cr + mirror * ci, c * ci - mirror * cr

    re, im = te.compute((N, V), pre, name=f"{tag}_pre")
    re, im = _fft_stages(re, im, tw_inv, N, V, tag)

    def store(n, v):
        src = tirx.if_then_else(n % 2 == 0, n // 2, N - 1 - n // 2)
        return re[src, v] * tirx.const(1.0 / N, X.dtype)

    return te.compute((N, V), store, name=f"{tag}_store")


def flops(N: int, vectors: int) -> float:
    """benchFFT's count for a real transform: 2.5 N log2 N per vector."""
    return 2.5 * N * math.log2(N) * vectors



def acdc_stack(x, a, d, bias, tw, tw_inv, phase, N: int, V: int):
    """A whole ACDC stack on x (V, N), vectors as rows as Relax has them: (V, N) out.

    Per factor: DCT-II with A folded into its reorder pass and D into its last pass, DCT-III,
    then the riffle and the bias (a gather + add the next pass inlines). Internally (N, V):
    the vectors across the SIMD lanes; the transposes in and out are the first and last
    passes' own index maps. The arithmetic runs in x's dtype (float64 for the load-time fold)."""
    factors = int(a.shape[0])
    half = N // 2
    h = te.compute((N, V), lambda n, v: x[v, n], name="acdc_in")
    for layer in range(factors):
        ai = te.compute((N,), _row(a, layer), name=f"acdc_a{layer}")
        di = te.compute((N,), _row(d, layer), name=f"acdc_d{layer}")
        spectrum = dct2(h, tw, phase, N, V, ai, di, tag=f"acdc{layer}_dct")
        y = dct3(spectrum, tw_inv, phase, N, V, tag=f"acdc{layer}_idct")
        h = te.compute((N, V), _riffle(y, bias, layer, half), name=f"acdc{layer}_riffle")
    return te.compute((V, N), lambda v, n: h[n, v], name="acdc_out")


def _row(w, layer):
    return lambda n: w[layer, n]


def _riffle(y, bias, layer, half):
    """out[2i] = y[i], out[2i+1] = y[N/2 + i], + the factor's bias (before the riffle)."""
    def f(k, v):
        src = tirx.if_then_else(k % 2 == 0, k // 2, half + k // 2)
        return y[src, v] + bias[layer, src].astype(y.dtype) if bias is not None else y[src, v]
    return f


# a butterfly pass is named <tag>_fft<k> (_v0 / _v1: its real and imaginary outputs, one
# loop nest): stage k has stride s = 2^k (_fft_stages)
_STAGE = re.compile(r"_fft(\d+)(?:_v\d+)?$")


def _vectorize_stage(sch, loop, N: int, s: int, lanes: int) -> None:
    """One vector: output j = q + s r of stage k (s = 2^k) split as (r, q), so that the
    index arithmetic folds away (j % s = q, j // s = r) and q runs across the lanes: both
    inputs x[q + s p] and x[q + s (p + m)] are contiguous in q, the twiddle and the
    butterfly's branch depend on r only. Stages with s < 2 stay scalar."""
    if s < 2:
        return
    _, q = sch.split(loop, [N // s, s])
    if s > lanes:
        _, q = sch.split(q, [None, lanes])
    sch.vectorize(q)


def schedule_dct(sch, lanes: int, parallel_min: int = 1 << 14) -> None:
    """Every pass of the kernel: the vector axis split by `lanes` and vectorised, the
    transform axis parallel when the pass is big enough; the diagonals, the zero imaginary
    part and the riffles inlined into the passes that read them. With a single vector there
    are no vectors to put across the lanes: each butterfly pass runs its transform axis
    across them instead (`_vectorize_stage`)."""
    for block in sch.get_child_blocks(sch.get_sblock("root")):
        name = sch.get(block).name_hint
        if name.endswith("_zero") or "riffle" in name or name.startswith("acdc_a") or name.startswith("acdc_d"):
            sch.compute_inline(block)
    for block in sch.get_child_blocks(sch.get_sblock("root")):
        loops = sch.get_loops(block)
        extents = [int(sch.get(loop).extent) for loop in loops]
        if len(loops) != 2:
            continue
        outer, inner = loops
        stage = _STAGE.search(sch.get(block).name_hint)
        if extents[1] == 1 and stage is not None:
            _vectorize_stage(sch, outer, extents[0], 1 << int(stage.group(1)), lanes)
            continue
        if extents[0] == 1 and extents[1] % lanes == 0 and sch.get(block).name_hint == "acdc_out":
            _, vec = sch.split(inner, [None, lanes])
            sch.vectorize(vec)
            continue
        if sch.get(block).name_hint == "acdc_out":  # (V, N): the transform axis is innermost
            if extents[0] * extents[1] >= parallel_min:
                sch.parallel(outer)
            continue
        if extents[1] % lanes == 0:
            _, vec = sch.split(inner, [None, lanes])
            sch.vectorize(vec)
        if extents[0] * extents[1] >= parallel_min:
            sch.parallel(outer)
