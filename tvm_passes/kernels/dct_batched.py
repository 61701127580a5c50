"""Fast DCT-II / DCT-III for many vectors at once: one transform per SIMD lane, a real FFT.

kernels/dct.py's TE kernel puts the transform axis across the lanes at one vector, and its
(N, V) passes over all vectors at once otherwise: a complex radix-2 FFT on real data, one
full pass over memory per stage. This kernel is written loop by loop (IRBuilder, as
sum_pool.py): the vectors in blocks of B (a multiple of the SIMD width), blocks in parallel,
and each block runs the whole transform (or a whole ACDC stack, every factor) in two
scratch buffers of (2, N/2, B) floats that stay in the core's cache, every butterfly a
B-wide vector operation (the "vertical" vectorisation of pocketfft's multi_iter).

Per DCT-II of a real length-N vector u (N a power of two, N >= 8), M = N/2:
1. Makhoul's reorder and the real-FFT pairing in one gather:
       v[n] = u[2n], v[N-1-n] = u[2n+1] (n < M);  z[n] = v[2n] + i v[2n+1]  (n < M)
2. Z = FFT_M(z): Stockham radix-8 stages (one radix-2 or radix-4 stage first where log2 M
   is no multiple of 3), natural order, twiddles from a constant table (exp(-2 pi i t / N),
   t < N), each butterfly's 8 points in registers;
3. one pass over the pairs (k, M - k), k <= M/2, that splits Z into the real FFT
   V[k] = (Z[k] + conj Z[M-k]) / 2 - i w^k (Z[k] - conj Z[M-k]) / 2 (w = exp(-2 pi i / N),
   V[N-k] = conj V[k]) and twists it: X[k] = f_k Re(exp(-i pi k / 2N) V[k])
   (f_0 = sqrt(1/N), f_k = sqrt(2/N): scipy's norm='ortho').
So ~2.5 N log2 N flops per vector, half a complex FFT of length N (kernels/dct.py).

An ACDC factor (DCT-II, D, DCT-III) fuses step 3 with D and the inverse's first step: from
Z[k], Z[M-k] the pass computes V, c_j = D_j Re(exp(-i pi j / 2N) V[j]) at j = k, N-k, M-k,
M+k (the orthonormal f_j cancel), the inverse's spectrum U[j] = exp(i pi j / 2N)(c_j - i c_{N-j})
and the half-length spectrum Z'[k] = (U[k] + U[k+M]) / 2 + i w^-k (U[k] - U[k+M]) / 2, in
place. IFFT_M(Z') (conjugate twiddles) then holds the DCT-III's reordered output in its real
and imaginary parts: one gather pass un-pairs and un-reorders it, riffles it, adds the bias,
scales it by the next factor's A and reorders and pairs it for the next DCT-II (or writes
the stack's output); where the forward FFT's first pass has an even count of butterflies
(M / radix even: every N >= 32) that gather is no pass either: the first pass reads through
it (`transform_of`), its butterflies in pairs so that every index it reads is affine. Per
factor: 2 log8 M butterfly passes + 1; A, D, the riffle and the biases cost no pass of their
own. Every pass runs over the block's scratch in L1 / L2: at
N >= 1024 the passes are bound by the L2's bandwidth (~70 GB/s a core here), so fewer,
wider passes (radix 8 over radix 4: N = 1024, one block, 14 -> 10 us) are what pays.
sedge/fast_dct.py holds this structure as numbers (stages, passes, multiplies and adds per
vector) for the layer records and the hardware models; tests/tvm_passes/test_dct_batched.py
checks its counts against this TIR.
"""
from __future__ import annotations

import math

import numpy as np
from tvm import te, tirx
from tvm.script.ir_builder import IRBuilder
from tvm.script.ir_builder import tirx as T

# the kernel's structure as plain numbers, shared with the records and the hardware models:
# MIN_N (the gathers run k in residues mod 8, PERIOD), the block of vectors, the FFT stages
from sedge.fast_dct import MIN_N, block_size, fuses_gather, radices  # noqa: F401

KERNEL_TAG = "dct_batched"


def tables(N: int, dtype=np.float32) -> list[np.ndarray]:
    """The kernel's constant inputs: (2, N) exp(-2 pi i t / N) and (2, N) exp(-i pi k / 2N)."""
    t = np.arange(N)
    w = np.exp(-2j * np.pi * t / N)
    phase = np.exp(-1j * np.pi * t / (2 * N))
    return [np.stack([w.real, w.imag]).astype(dtype), np.stack([phase.real, phase.imag]).astype(dtype)]


SQRT_HALF = math.sqrt(0.5)


def _dft4(x, inverse):
    """The 4-point DFT of x (4 (re, im) pairs): 16 adds, no multiply."""
    let = T.Bind
    (x0r, x0i), (x1r, x1i), (x2r, x2i), (x3r, x3i) = x
    a0r, a0i, a1r, a1i = (let(v) for v in (x0r + x2r, x0i + x2i, x0r - x2r, x0i - x2i))
    a2r, a2i, dr, di = (let(v) for v in (x1r + x3r, x1i + x3i, x1r - x3r, x1i - x3i))
    # a1 -+ i (x1 - x3): y1 and y3 forward, y3 and y1 inverse
    minus_i, plus_i = (a1r + di, a1i - dr), (a1r - di, a1i + dr)
    return [(a0r + a2r, a0i + a2i), plus_i if inverse else minus_i,
            (a0r - a2r, a0i - a2i), minus_i if inverse else plus_i]


def butterfly(x, inverse, sqrt_half):
    """The r-point DFT (r = 2, 4, 8) of x, a list of r (re, im) pairs; exp(-+2 pi i / r)."""
    let = T.Bind
    if len(x) == 2:
        (ar, ai), (br, bi) = x
        return [(ar + br, ai + bi), (ar - br, ai - bi)]
    if len(x) == 4:
        return _dft4(x, inverse)
    # radix 8 = 2 x 4: b_t = x_t + x_{t+4}, c_t = (x_t - x_{t+4}) w8^t (w8 = exp(-+i pi / 4));
    # y_{2v} = DFT4(b)_v, y_{2v+1} = DFT4(c)_v, the multiplies by -+i and the signs of w8^t
    # folded into the adds of the second DFT4
    even = _dft4([(let(x[t][0] + x[t + 4][0]), let(x[t][1] + x[t + 4][1])) for t in range(4)], inverse)
    (d0r, d0i), (d1r, d1i), (d2r, d2i), (d3r, d3i) = [
        (let(x[t][0] - x[t + 4][0]), let(x[t][1] - x[t + 4][1])) for t in range(4)]
    if not inverse:
        c1r, c1i = let((d1r + d1i) * sqrt_half), let((d1i - d1r) * sqrt_half)  # d1 (1 - i) / sqrt2
        e3r, e3i = let((d3i - d3r) * sqrt_half), let((d3r + d3i) * sqrt_half)  # d3 (-1 - i) / sqrt2 = (e3r, -e3i)
        a0r, a0i, a1r, a1i = (let(v) for v in (d0r + d2i, d0i - d2r, d0r - d2i, d0i + d2r))  # d0 +- d2 (-i)
        a2r, a2i, dr, di = (let(v) for v in (c1r + e3r, c1i - e3i, c1r - e3r, c1i + e3i))  # c1 +- c3
        odd = [(a0r + a2r, a0i + a2i), (a1r + di, a1i - dr), (a0r - a2r, a0i - a2i), (a1r - di, a1i + dr)]
    else:
        c1r, c1i = let((d1r - d1i) * sqrt_half), let((d1r + d1i) * sqrt_half)  # d1 (1 + i) / sqrt2
        f3r, f3i = let((d3r + d3i) * sqrt_half), let((d3r - d3i) * sqrt_half)  # d3 (-1 + i) / sqrt2 = (-f3r, f3i)
        a0r, a0i, a1r, a1i = (let(v) for v in (d0r - d2i, d0i + d2r, d0r + d2i, d0i - d2r))  # d0 +- d2 (+i)
        a2r, a2i, dr, di = (let(v) for v in (c1r - f3r, c1i + f3i, c1r + f3r, c1i - f3i))  # c1 +- c3
        odd = [(a0r + a2r, a0i + a2i), (a1r - di, a1i + dr), (a0r - a2r, a0i - a2i), (a1r + di, a1i - dr)]
    return [y for pair in zip(even, odd) for y in pair]


def cmul(ar, ai, br, bi, conj=False):
    """(ar + i ai)(br + i bi), or times conj(b): 4 multiplies, 2 adds."""
    if conj:
        return ar * br + ai * bi, ai * br - ar * bi
    return ar * br - ai * bi, ar * bi + ai * br


PAD_ROWS, SHIFT_ROWS = 1, 3


class _View:
    """A buffer proxy at an offset."""

    def __init__(self, proxy, base: int):
        self.proxy, self.base = proxy, base

    def __getitem__(self, index):
        return self.proxy[self.base + index]

    def __setitem__(self, index, value):
        self.proxy[self.base + index] = value


class _Block:
    """The code of one block of B vectors: two scratch buffers of (re | im) x (M, B), flat."""

    def __init__(self, N: int, B: int, w, phase, dtype: str):
        self.N, self.M, self.B = N, N // 2, B
        self.w, self.phase, self.dtype = w, phase, dtype
        # one allocation, two views; the parts and the views padded off multiples of 4 KiB
        # (PAD_ROWS, SHIFT_ROWS): at powers of two a pass's loads and stores alias in the low 12
        # address bits (store-to-load false dependencies) and in the L1 sets
        self.part = self.M + PAD_ROWS
        view = 2 * self.part + SHIFT_ROWS
        scratch = T.buffer_proxy(T.decl_buffer([2 * view * B], dtype, scope="global"))
        self.bufs = [_View(scratch, 0), _View(scratch, view * B)]
        self.cur = 0  # the buffer holding the data

    def const(self, value):
        return tirx.const(value, self.dtype)

    def at(self, row, part, lane):
        """Flat index of row `row` (< M), part 0 (re) / 1 (im), lane."""
        return (part * self.part + row) * self.B + lane

    def lanes(self, body):
        with T.vectorized(0, self.B) as lane:
            body(lane)

    def tw(self, e):
        """(re, im) of exp(-2 pi i e / N) from the table (e < N)."""
        return self.w[0, e], self.w[1, e]

    # --- the FFT of length M on the current buffer (into the other one, stage by stage)

    def fft(self, inverse: bool, value=None):
        """The FFT of the current buffer; with `value` (as `load` takes it) the first stage
        reads the paired, reordered form of u[k] = value(...) itself, no gather pass first."""
        n, s = self.M, 1
        for i, r in enumerate(radices(self.M)):
            m = n // r
            src, dst = self.bufs[self.cur], self.bufs[1 - self.cur]
            self._stage(src, dst, r, m, s, inverse, self._paired(value, r, m) if i == 0 and value else None)
            self.cur = 1 - self.cur
            n, s = m, s * r

    def transform_of(self, value):
        """The forward FFT of the paired, reordered form of u[k] = value(g, r, k, lane), read
        by its first stage where it can (`fuses_load`), else gathered into a buffer first
        (never the current one: `value` may read it)."""
        if self.fuses_load():
            self.fft(inverse=False, value=value)
        else:
            self.cur = 1 - self.cur
            self.load(value)
            self.fft(inverse=False)

    def fuses_load(self) -> bool:
        """Whether the first stage can read through the gather: its butterfly index p runs in
        pairs (p = 2 pp + rho), so that every k it reads is 8 g + a fixed residue."""
        return fuses_gather(self.N)

    def _paired(self, value, r, m):
        """loader(t, part, pp, rho, lane): entry (part, row p + m t), p = 2 pp + rho, of the
        paired form, i.e. u[k] with k = 2 j (j < N/2) or 2 (N - 1 - j) + 1, j = 2 row + part."""
        N = self.N

        def load(t, part, pp, rho, lane):
            c = 4 * rho + 4 * m * t + 2 * part  # k = c + 8 pp in the first half
            kc, ks = (c, PERIOD) if t < r // 2 else (2 * N - 1 - c, -PERIOD)
            residue = kc % PERIOD
            g = (kc - residue) // PERIOD + (ks // PERIOD) * pp
            return value(g, residue, kc + ks * pp, lane)
        return load

    def _stage(self, src, dst, r, m, s, inverse, loader=None):
        """y[q + s (r p + u)] = w_n^(u p) sum_t x[q + s (p + m t)] (-+i)^(t u), n = r m."""
        let = T.Bind

        def one(p, pp=None, rho=None):
            # twiddle w_M^(u p s) = table[2 u p s], one per output u > 0, bound once per p
            tws = [None] + [tuple(let(c) for c in self.tw(2 * u * s * p)) if m > 1 else None
                            for u in range(1, r)]
            with T.serial(0, s) as q:
                def body(lane):
                    if loader is None:
                        rows = [q + s * (p + m * t) for t in range(r)]
                        x = [(let(src[self.at(row, 0, lane)]), let(src[self.at(row, 1, lane)])) for row in rows]
                    else:  # the first stage (s = 1) reading through the gather
                        x = [(let(loader(t, 0, pp, rho, lane)), let(loader(t, 1, pp, rho, lane))) for t in range(r)]
                    ys = butterfly(x, inverse, self.const(SQRT_HALF))
                    for u, (yr, yi) in enumerate(ys):
                        if tws[u] is not None:
                            yr, yi = cmul(let(yr), let(yi), *tws[u], conj=inverse)
                        row = q + s * (r * p + u)
                        dst[self.at(row, 0, lane)] = yr
                        dst[self.at(row, 1, lane)] = yi
                self.lanes(body)

        if loader is None:
            with T.serial(0, m) as p:
                one(p)
        else:
            with T.serial(0, m // 2) as pp:
                for rho in range(2):
                    one(2 * pp + rho, pp, rho)

    # --- the real-FFT split and the DCT twist

    def _spectrum(self, buf, k, lane):
        """V[k], V[M-k] (re, im) of the real FFT from Z[k], Z[M-k], times 2."""
        M = self.M
        k2 = (M - k) % M
        let = T.Bind
        zr, zi = let(buf[self.at(k, 0, lane)]), let(buf[self.at(k, 1, lane)])
        yr, yi = let(buf[self.at(k2, 0, lane)]), let(buf[self.at(k2, 1, lane)])

        def split(ar, ai, br, bi, e):
            # 2 V = (Z_a + conj Z_b) - i w^e (Z_a - conj Z_b)
            er, ei = ar + br, ai - bi  # Z_a + conj Z_b
            dr, di = let(ar - br), let(ai + bi)  # Z_a - conj Z_b
            tr, ti = cmul(dr, di, *self.tw(e))  # w^e (Z_a - conj Z_b)
            return let(er + ti), let(ei - tr)  # - i t = (ti, -tr)

        return split(zr, zi, yr, yi, k), split(yr, yi, zr, zi, M - k)

    def _twist(self, vr, vi, j, conj=False):
        """Re(exp(-i pi j / 2N) V) (V conjugated when `conj`), j < N."""
        pr, pi = self.phase[0, j], self.phase[1, j]
        return vr * pr + vi * pi if conj else vr * pr - vi * pi

    def dct2_out(self, store):
        """The DCT-II from Z in the current buffer: store(k, lane, X[k]) for every k < N."""
        N, M, buf = self.N, self.M, self.bufs[self.cur]
        f0, fk = self.const(math.sqrt(1 / N) / 2), self.const(math.sqrt(2 / N) / 2)  # V is doubled
        with T.serial(0, M // 2 + 1) as k:
            def body(lane):
                (vr, vi), (ur, ui) = self._spectrum(buf, k, lane)
                # X[N-k] first: at k = 0 it lands on X[0] (c_N is no output), which X[k] overwrites
                store((N - k) % N, lane, self._twist(vr, vi, (N - k) % N, conj=True) * fk)
                store(k, lane, self._twist(vr, vi, k) * tirx.if_then_else(k == 0, f0, fk))
                store(M - k, lane, self._twist(ur, ui, M - k) * fk)
                store(M + k, lane, self._twist(ur, ui, M + k, conj=True) * fk)
            self.lanes(body)

    def acdc_middle(self, d):
        """In place on the current buffer: Z -> (DCT-II, times d (a (N,) callable), DCT-III
        up to its inverse FFT) -> Z', the inverse FFT's input, times 4."""
        N, M, buf = self.N, self.M, self.bufs[self.cur]
        with T.serial(0, M // 2 + 1) as k:
            def body(lane):
                k2 = (M - k) % M
                (vr, vi), (ur, ui) = self._spectrum(buf, k, lane)
                nk = (N - k) % N
                # c_j = d_j Re(exp(-i pi j / 2N) V[j]) (doubled), at j = k, N-k, M-k, M+k; c_N = 0
                let = T.Bind
                c_k = let(self._twist(vr, vi, k) * d(k))
                c_nk = let(tirx.if_then_else(k == 0, self.const(0), self._twist(vr, vi, nk, conj=True) * d(nk)))
                c_mk = let(self._twist(ur, ui, M - k) * d(M - k))
                c_pk = let(self._twist(ur, ui, M + k, conj=True) * d(M + k))

                def spectrum(c, c_mirror, j):
                    # U[j] = conj(exp(-i pi j / 2N)) (c_j - i c_{N-j})
                    pr, pi = self.phase[0, j], self.phase[1, j]
                    return let(c * pr - c_mirror * pi), let(self.const(0) - (c * pi + c_mirror * pr))

                u_k = spectrum(c_k, c_nk, k)
                u_pk = spectrum(c_pk, c_mk, M + k)
                u_mk = spectrum(c_mk, c_pk, M - k)
                u_nk = (u_k[0], self.const(0) - u_k[1])  # U[N-k] = conj U[k]

                def half(ua, ub, e):
                    # Z'[e] = (U[e] + U[e+M]) + i w^-e (U[e] - U[e+M])  (doubled)
                    sr, si = ua[0] + ub[0], ua[1] + ub[1]
                    dr, di = let(ua[0] - ub[0]), let(ua[1] - ub[1])
                    tr, ti = cmul(dr, di, *self.tw(e), conj=True)
                    return sr - ti, si + tr  # + i t = (-ti, tr)

                z_k = half(u_k, u_pk, k)
                z_mk = half(u_mk, u_nk, (M - k) % M)
                # k2 first: at k = 0 both are Z'[0] (equal), at k = M/2 both Z'[M/2]
                buf[self.at(k2, 0, lane)] = z_mk[0]
                buf[self.at(k2, 1, lane)] = z_mk[1]
                buf[self.at(k, 0, lane)] = z_k[0]
                buf[self.at(k, 1, lane)] = z_k[1]
            self.lanes(body)

    # --- gathers: into the paired, reordered form and out of it

    def slot(self, piece, g, lane):
        """Flat index of the (part, row0 + drow g) entry of the current layout."""
        part, row0, drow = piece
        return self.at(row0 + drow * g, part, lane)

    def gather(self, body):
        """One pass over k < N in 8 residues k = 8 g + r, each an affine piece of every map
        (`pieces`): body(g, r, lane) with no index arithmetic left but a multiply-add."""
        with T.serial(0, self.N // PERIOD) as g:
            for r in range(PERIOD):
                self.lanes(lambda lane, r=r: body(g, r, lane))

    def load(self, value):
        """The current buffer <- the paired, reordered form of u[k] = value(g, r, k, lane)."""
        buf, dst = self.bufs[self.cur], pieces(self.N, pair_slot)

        def body(g, r, lane):
            buf[self.slot(dst[r], g, lane)] = value(g, r, PERIOD * g + r, lane)
        self.gather(body)


PERIOD = 8  # the gathers' residues: every map below is affine in g on each k = 8 g + r


def pair_slot(k: int, N: int) -> tuple[int, int]:
    """(part, row) of u[k] in the paired form z[n] = v[2n] + i v[2n+1], v Makhoul's reorder of u
    (v[j] = u[2j], v[N-1-j] = u[2j+1]); also where the DCT-III's output y[k] lies in its inverse
    FFT's output (y[2n] = v[n], y[2n+1] = v[N-1-n]: the same map)."""
    j = k // 2 if k % 2 == 0 else N - 1 - k // 2
    return j % 2, j // 2


def riffle_source(k: int, N: int) -> int:
    """The stack's riffle: out[2i] = y[i], out[2i+1] = y[N/2 + i]."""
    return k // 2 if k % 2 == 0 else N // 2 + k // 2


def unriffled_slot(k: int, N: int) -> tuple[int, int]:
    """(part, row) in the inverse FFT's output of the riffled output k."""
    return pair_slot(riffle_source(k, N), N)


def pieces(N: int, fn) -> list:
    """fn(k, N) (an int or a tuple ending in one) on k = 8 g + r as affine pieces per r:
    [(fixed fields..., value at g = 0, step per g)]; asserts the map is affine there."""
    out = []
    for r in range(PERIOD):
        values = [fn(PERIOD * g + r, N) for g in range(N // PERIOD)]
        values = [v if isinstance(v, tuple) else (v,) for v in values]
        head, start = values[0][:-1], values[0][-1]
        step = values[1][-1] - start if len(values) > 1 else 0
        assert all(v[:-1] == head and v[-1] == start + step * g for g, v in enumerate(values)), (N, r)
        out.append((*head, start, step))
    return out


def dct2_extern(x: te.Tensor, N: int, vectors: int, lanes: int, w: te.Tensor, phase: te.Tensor) -> te.Tensor:
    """Orthonormal DCT-II along axis 0 of x (N, vectors) -> (N, vectors)."""
    B = block_size(vectors, lanes)
    blocks = -(-vectors // B)

    def gen(xb, wb, pb, yb):
        with IRBuilder() as ib:
            xs, ys = T.buffer_proxy(xb), T.buffer_proxy(yb)
            with (T.parallel if blocks > 1 else T.serial)(0, blocks) as blk:  # no thread launch for one block
                block = _Block(N, B, T.buffer_proxy(wb), T.buffer_proxy(pb), x.dtype)

                def vec(lane):  # a vector past the last one repeats it (same value, same store)
                    return blk * B + lane if vectors % B == 0 else tirx.min(blk * B + lane, vectors - 1)

                block.transform_of(lambda g, r, k, lane: xs[k, vec(lane)])
                block.dct2_out(lambda k, lane, value: ys.__setitem__((k, vec(lane)), value))
        return ib.get()

    return te.extern([(N, vectors)], [x, w, phase], lambda ins, outs: gen(*ins, outs[0]), dtype=[x.dtype],
                     name="dct2_batched", tag=KERNEL_TAG)


def acdc_extern(x: te.Tensor, a: te.Tensor, d: te.Tensor, bias, w: te.Tensor, phase: te.Tensor,
                N: int, vectors: int, lanes: int) -> te.Tensor:
    """A whole ACDC stack on x (vectors, N) -> (vectors, N): per factor
    h <- riffle(DCT-III(d * DCT-II(a * h)) + bias)."""
    factors = int(a.shape[0])
    B = block_size(vectors, lanes)
    blocks = -(-vectors // B)
    M = N // 2

    def gen(xb, ab, db, bb, wb, pb, yb):
        with IRBuilder() as ib:
            xs, As, Ds, ys = (T.buffer_proxy(b) for b in (xb, ab, db, yb))
            bs = T.buffer_proxy(bb) if bb is not None else None
            with (T.parallel if blocks > 1 else T.serial)(0, blocks) as blk:  # no thread launch for one block
                block = _Block(N, B, T.buffer_proxy(wb), T.buffer_proxy(pb), x.dtype)

                def vec(lane):
                    return blk * B + lane if vectors % B == 0 else tirx.min(blk * B + lane, vectors - 1)

                def pending(g, r, k, lane):  # the next forward FFT's input u[k]
                    return xs[vec(lane), k] * As[0, k]
                # the inverse FFT's output is 4 M times the DCT-III's (V doubled, Z' doubled, no 1/M)
                scale = block.const(1 / (4 * M))
                src, bias_at = pieces(N, unriffled_slot), pieces(N, riffle_source)
                for layer in range(factors):
                    block.transform_of(pending)
                    block.acdc_middle(lambda j, layer=layer: Ds[layer, j])
                    block.fft(inverse=True)
                    done = block.bufs[block.cur]

                    def riffled(g, r, lane, layer=layer, done=done):
                        value = done[block.slot(src[r], g, lane)] * scale
                        return value + bs[layer, bias_at[r][0] + bias_at[r][1] * g] if bs is not None else value

                    if layer + 1 < factors:
                        def pending(g, r, k, lane, riffled=riffled, layer=layer):
                            return riffled(g, r, lane) * As[layer + 1, k]
                    else:
                        block.gather(lambda g, r, lane, riffled=riffled:
                                     ys.__setitem__((vec(lane), PERIOD * g + r), riffled(g, r, lane)))
        return ib.get()

    ins = [x, a, d] + ([bias] if bias is not None else []) + [w, phase]

    def build(ins_, outs):
        if bias is None:
            ins_ = ins_[:3] + [None] + ins_[3:]
        return gen(*ins_, outs[0])

    return te.extern([(vectors, N)], ins, build, dtype=[x.dtype], name="acdc_batched", tag=KERNEL_TAG)


def stack_func(N: int, vectors: int, factors: int, bias: bool, lanes: int, opaque: int) -> tirx.PrimFunc:
    """The PrimFunc of a whole stack: (x (V, N), a, d[, bias], w, phase) -> (V, N), private
    (add_func names it), scheduled (it carries its own loops) and opaque to fusion."""
    x = te.placeholder((vectors, N), "float32", "x")
    a, d, b = (te.placeholder((factors, N), "float32", n) for n in ("a", "d", "bias"))
    w, phase = te.placeholder((2, N), "float32", "w"), te.placeholder((2, N), "float32", "phase")
    y = acdc_extern(x, a, d, b if bias else None, w, phase, N, vectors, lanes)
    func = te.create_prim_func([x, a, d] + ([b] if bias else []) + [w, phase, y])
    return func.without_attr("global_symbol").with_attr({"tirx.is_scheduled": True, "op_pattern": opaque})
