"""Pruned mixed-radix FFTs of any length as straight-line programs (a codelet generator).

The band-limited conv's transforms have the method's sizes, Hf = H + 2p + Ho - 1 (methods.md
§4): 15, 17, 29, 33, 57, 65, 113 in the zoo, odd and often prime, so neither a radix-2 FFT nor
a choice of "fast" size applies (the band mask is defined on that grid). This module writes
the DFT of such a length as a program of real adds, subtracts and multiplies by constants,
as FFTW's genfft writes its codelets:

- a composite length by Cooley-Tukey decimation in time, radix 4 first, then the smallest
  prime factor (each butterfly's twiddles are constants; exact ones, 1, -1, +-i, cost no
  multiply);
- a prime length up to RADER_ABOVE by the symmetric direct formula (pairs n, N - n share
  their cosines: (p - 1)^2 / 4 complex-by-real products);
- a larger prime p by Rader's algorithm: the DFT of the p - 1 nonzero indices is a cyclic
  convolution of length p - 1 (composite) run as two FFTs of that length and p - 1 products
  with the constant spectrum of the twiddle sequence.

The program is pruned at both ends while it is built and walked: an input known to be zero
(the padding, the imaginary part of real data, the frequencies outside the band) is the
constant zero and every add or multiply with it disappears; an output nobody reads, and
everything only it reads, is never emitted (`Program.live`). What is left is a DAG of
`Node`s, a few hundred to a few thousand, that kernels/fft_conv.py emits as vector code,
one transform per SIMD lane. `Program.counts` gives its adds and multiplies for the records.
"""
from __future__ import annotations

import cmath
import functools
import math
from dataclasses import dataclass

RADER_ABOVE = 13  # primes up to 13 run the direct symmetric formula; above, Rader's convolution
EXACT = 1e-12     # a twiddle part this close to 0 or +-1 is that number


@dataclass(frozen=True)
class Node:
    """One real operation: op "in" (args: the input's key), "add", "sub", "neg" or "mul"
    (args: an operand and a float constant)."""
    op: str
    args: tuple

    @property
    def operands(self) -> tuple:
        """The nodes this one reads (a multiply's constant and an input's key are no node)."""
        return () if self.op == "in" else tuple(a for a in self.args if isinstance(a, int))


class Program:
    """The DAG under construction; a value is a node index, or None for the constant zero."""

    def __init__(self):
        self.nodes: list[Node] = []
        self._memo: dict[Node, int] = {}  # one node per distinct operation (common subexpressions)

    def _node(self, op, *args) -> int:
        node = Node(op, args)
        if node not in self._memo:
            self._memo[node] = len(self.nodes)
            self.nodes.append(node)
        return self._memo[node]

    def input(self, key) -> int:
        return self._node("in", key)

    def neg(self, a):
        if a is None:
            return None
        node = self.nodes[a]
        return node.args[0] if node.op == "neg" else self._node("neg", a)

    def add(self, a, b):
        if a is None or b is None:
            return b if a is None else a
        if self.nodes[b].op == "neg":
            return self.sub(a, self.nodes[b].args[0])
        if self.nodes[a].op == "neg":
            return self.sub(b, self.nodes[a].args[0])
        return self._node("add", *sorted((a, b)))

    def sub(self, a, b):
        if b is None:
            return a
        if a is None:
            return self.neg(b)
        if self.nodes[b].op == "neg":
            return self.add(a, self.nodes[b].args[0])
        return None if a == b else self._node("sub", a, b)

    def mul(self, a, c: float):
        if a is None or abs(c) < EXACT:
            return None
        if abs(c - 1) < EXACT:
            return a
        if abs(c + 1) < EXACT:
            return self.neg(a)
        if self.nodes[a].op == "neg":
            return self.mul(self.nodes[a].args[0], -c)
        return self._node("mul", a, float(c))

    # complex values: (re, im) pairs of real values

    def cadd(self, x, y):
        return self.add(x[0], y[0]), self.add(x[1], y[1])

    def csub(self, x, y):
        return self.sub(x[0], y[0]), self.sub(x[1], y[1])

    def cmul(self, x, w: complex):
        """x times the constant w: 4 multiplies and 2 adds, fewer where a part of w is 0 or +-1."""
        return (self.sub(self.mul(x[0], w.real), self.mul(x[1], w.imag)),
                self.add(self.mul(x[0], w.imag), self.mul(x[1], w.real)))

    def dft(self, x: list, sign: int = -1) -> list:
        """X[k] = sum_n x[n] exp(sign 2 pi i n k / N), x a list of complex values."""
        N = len(x)
        if N == 1 or all(v == (None, None) for v in x):
            return list(x)
        radix = 4 if N % 4 == 0 and N > 4 else _smallest_factor(N)
        if radix < N:
            out = self._cooley_tukey(x, radix, sign)
        elif N <= RADER_ABOVE:
            out = self._direct(x, sign)
        else:
            out = self._rader(x, sign)
        if all(im is None for _, im in x):
            # real data: X[N - k] = conj X[k], so the upper half is read from the lower one and
            # whatever only the upper half needed is never emitted (about half of every
            # sub-transform of a real input)
            for k in range(N // 2 + 1, N):
                out[k] = (out[N - k][0], self.neg(out[N - k][1]))
        return out

    def _cooley_tukey(self, x, r, sign):
        """Decimation in time: r DFTs of length m = N / r on x[r n + q], then m r-point
        butterflies on their outputs times exp(sign 2 pi i q k / N)."""
        N = len(x)
        m = N // r
        subs = [self.dft(x[q::r], sign) for q in range(r)]
        out = [None] * N
        for k in range(m):
            column = [subs[q][k] if q == 0 else self.cmul(subs[q][k], _root(sign * q * k, N)) for q in range(r)]
            for j, v in enumerate(self.dft(column, sign) if r > 1 else column):
                out[k + m * j] = v
        return out

    def _direct(self, x, sign):
        """An odd length by pairs: X[k], X[N - k] = a_k +- b_k with a_k = x0 + sum s_n cos,
        b_k = i sign sum d_n sin, s_n = x[n] + x[N - n], d_n = x[n] - x[N - n]."""
        N = len(x)
        if N == 2:
            return [self.cadd(x[0], x[1]), self.csub(x[0], x[1])]
        half = (N - 1) // 2
        s = [self.cadd(x[n], x[N - n]) for n in range(1, half + 1)]
        d = [self.csub(x[n], x[N - n]) for n in range(1, half + 1)]
        out = [None] * N
        total = x[0]
        for v in s:
            total = self.cadd(total, v)
        out[0] = total
        for k in range(1, half + 1):
            a, b = x[0], (None, None)
            for n in range(1, half + 1):
                c, sn = math.cos(2 * math.pi * n * k / N), math.sin(2 * math.pi * n * k / N)
                a = self.cadd(a, (self.mul(s[n - 1][0], c), self.mul(s[n - 1][1], c)))
                b = self.cadd(b, (self.mul(d[n - 1][0], sn), self.mul(d[n - 1][1], sn)))
            ib = (self.mul(b[1], -sign), self.mul(b[0], sign))  # i sign b
            out[k], out[N - k] = self.cadd(a, ib), self.csub(a, ib)
        return out

    def _rader(self, x, sign):
        """A prime length p: with g a primitive root, X[g^-q] - x0 = sum_m x[g^m] w^(g^(m-q)),
        the cyclic convolution of a_m = x[g^m] with b_j = w^(g^-j), length p - 1; run as
        IDFT(DFT(a) DFT(b)) with DFT(b) / (p - 1) a constant. X[0] = x0 + DFT(a)[0]."""
        p = len(x)
        g = _primitive_root(p)
        g_inv = pow(g, p - 2, p)
        a = [x[pow(g, m, p)] for m in range(p - 1)]
        b = [_root(sign * pow(g_inv, j, p), p) for j in range(p - 1)]
        spectrum_b = [sum(b[j] * _root(-j * k, p - 1) for j in range(p - 1)) / (p - 1) for k in range(p - 1)]
        spectrum_a = self.dft(a, -1)
        conv = self.dft([self.cmul(v, w) for v, w in zip(spectrum_a, spectrum_b)], +1)
        out = [None] * p
        out[0] = self.cadd(x[0], spectrum_a[0])
        for q in range(p - 1):
            out[pow(g_inv, q, p)] = self.cadd(x[0], conv[q])
        return out

    # the walk

    def live(self, outputs) -> list[int]:
        """The nodes the outputs (values) read, in an order that computes each after its operands."""
        seen, order = set(), []
        stack = [(v, False) for v in outputs if v is not None]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v)
                continue
            if v in seen:
                continue
            seen.add(v)
            stack.append((v, True))
            stack.extend((a, False) for a in self.nodes[v].operands if a not in seen)
        return order

    def counts(self, outputs) -> dict[str, int]:
        """{"adds": adds and subtracts, "muls": multiplies} of the live program (a negation
        folds into the add that reads it, so it is counted as nothing)."""
        ops = [self.nodes[v].op for v in self.live(outputs)]
        return {"adds": ops.count("add") + ops.count("sub"), "muls": ops.count("mul")}


# the band-limited conv's four passes (kernels/fft_conv.py runs them). Cached: the cost model
# counts a layer's programs and the pass then emits them, and a network repeats its shapes
# (resnet56: 17 layers of each); a program is never changed once built. Their sequence
# arguments are tuples.

@functools.cache
def forward_w(n_fft: int, n_in: int, offset: int, kept: int) -> tuple[Program, list]:
    """Real input at positions offset .. offset + n_in - 1 ("x", w); outputs X[0..kept-1]."""
    prog = Program()
    x = [(None, None)] * n_fft
    for w in range(n_in):
        x[offset + w] = (prog.input(("x", w)), None)
    return prog, prog.dft(x, -1)[:kept]


@functools.cache
def forward_h(n_fft: int, n_in: int, offset: int, rows) -> tuple[Program, list]:
    """Complex input at offset .. offset + n_in - 1 (("re", h), ("im", h)); outputs X[rows]."""
    prog = Program()
    x = [(None, None)] * n_fft
    for h in range(n_in):
        x[offset + h] = (prog.input(("re", h)), prog.input(("im", h)))
    spectrum = prog.dft(x, -1)
    return prog, [spectrum[r] for r in rows]


@functools.cache
def inverse_h(n_fft: int, rows, outputs) -> tuple[Program, list]:
    """Complex input at the band's rows (("re", i), ("im", i)), i their order; the unscaled
    inverse DFT at the output positions."""
    prog = Program()
    x = [(None, None)] * n_fft
    for i, r in enumerate(rows):
        x[r] = (prog.input(("re", i)), prog.input(("im", i)))
    z = prog.dft(x, +1)
    return prog, [z[n] for n in outputs]


@functools.cache
def inverse_w(n_fft: int, kept: int, outputs) -> tuple[Program, list]:
    """The one-sided columns 0..kept-1 (("re", k), ("im", k)) extended Hermitian (Z[N - k] =
    conj Z[k]); the real part of the unscaled inverse DFT at the output positions (irfft's
    sum: the imaginary parts of DC and Nyquist drop out with the imaginary output)."""
    prog = Program()
    x = [(None, None)] * n_fft
    for k in range(kept):
        x[k] = (prog.input(("re", k)), prog.input(("im", k)))
        if 0 < k and n_fft - k != k:
            x[n_fft - k] = (x[k][0], prog.neg(x[k][1]))
    z = prog.dft(x, +1)
    return prog, [(z[n][0], None) for n in outputs]


@functools.lru_cache(maxsize=256)
def _pass_counts(builder, *args) -> tuple[int, int]:
    prog, outs = builder(*args)
    counts = prog.counts([part for pair in outs for part in pair])
    return counts["adds"], counts["muls"]


def butterfly_counts(batch, C, O, H, W, hf, wf, padding, rows, nk, out_rows, out_cols) -> dict[str, int]:
    """{"adds", "muls"} of the four passes per inference, as the kernels run them (a pass's
    program once per row and channel it transforms); rows, out_rows, out_cols: tuples."""
    total = {"adds": 0, "muls": 0}
    for counts, times in [(_pass_counts(forward_w, wf, W, padding, nk), batch * H * C),
                          (_pass_counts(forward_h, hf, H, padding, rows), batch * nk * C),
                          (_pass_counts(inverse_h, hf, rows, out_rows), batch * nk * O),
                          (_pass_counts(inverse_w, wf, nk, out_cols), batch * len(out_rows) * O)]:
        total["adds"] += counts[0] * times
        total["muls"] += counts[1] * times
    return total


def _root(e: int, n: int) -> complex:
    """exp(2 pi i e / n), exact at the eighth roots' axes."""
    e %= n
    if 4 * e % n == 0:
        return (1, 1j, -1, -1j)[4 * e // n]
    return cmath.exp(2j * math.pi * e / n)


def _smallest_factor(n: int) -> int:
    return next((f for f in range(2, math.isqrt(n) + 1) if n % f == 0), n)


def _primitive_root(p: int) -> int:
    factors = {f for f in range(2, p) if (p - 1) % f == 0 and _smallest_factor(f) == f}
    return next(g for g in range(2, p) if all(pow(g, (p - 1) // f, p) != 1 for f in factors))
