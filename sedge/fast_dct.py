"""The batched fast DCT kernel's structure as plain numbers (tvm_passes/kernels/dct_batched.py).

The kernel builds its loops from these (its FFT stages, its block of vectors), the layer
records count its arithmetic with them and the hardware models price its passes with them;
none of those may import another's insides (hw_models reads only records and boards), so
the one description lives here in the ground package, importing nothing.

Per DCT-II of N points (N a power of two, N >= MIN_N), M = N / 2: a gather (Makhoul's reorder
and the real-FFT pairing), an M-point complex FFT in Stockham stages of radix 8 (one radix 2
or 4 first where log2 M is no multiple of 3), then one pass over the pairs (k, M - k) that
splits the real FFT and twists it. An ACDC factor is a forward FFT, one middle pass (split,
twist, times D, the DCT-III's first step and its half-length split) and an inverse FFT; the
gather between two factors (un-pair, riffle, bias, times the next A) is read by the next
factor's first FFT stage where that stage has an even count of butterflies (N >= 32), else
it is a pass of its own; the stack's output is one more gather.

The counts are of the kernel's TIR, as tests/tvm_passes/test_dct_batched.py walks it: float
multiplies and float adds / subtracts per vector, every multiply by a table value counted
(the twiddle at p = 0 included), nothing fused into an FMA.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

MIN_N = 8  # the kernel's gathers run k in residues mod 8; smaller N run kernels/dct.py

# (multiplies, adds) of one r-point butterfly: radix 8 as 2 x 4, the multiplies by -i and the
# signs of exp(-i pi / 4) folded into the adds (4 multiplies by sqrt(1/2) left)
BUTTERFLY_OPS = {2: (0, 4), 4: (0, 16), 8: (4, 52)}
TWIDDLE_OPS = (4, 2)  # one complex multiply per butterfly output u > 0, in every stage but the last
DCT2_OUT_OPS = (20, 20)  # per pair (k, M - k), M / 2 + 1 of them: the split (8, 16), 4 twists x f
# per pair: the split (8, 16); c_j = D_j x twist at 4 j (12, 4); the inverse's spectrum U at 3
# j (12, 9); U[N-k] = conj U[k] (0, 1), which the TIR computes in both places it is read (+1);
# the two half-length splits (8, 16)
ACDC_MIDDLE_OPS = (40, 47)


def fast_dct_macs(N: int) -> int:
    """Mult-adds of one ACDC factor on one vector with *a* fast DCT (methods.md §2), the
    figure the ACDC cost model's measured rates are per (tvm_passes/acdc_cost.py); what
    sedge's kernel runs is `stack_ops`."""
    return 4 * N + 5 * N * round(math.log2(N))


def is_kernel_size(N: int) -> bool:
    """Whether the batched kernel takes N: a power of two from MIN_N."""
    return N >= MIN_N and not N & (N - 1)


def radices(M: int) -> list[int]:
    """The Stockham stages of an M-point FFT: radix 8, one radix 2 or 4 first where log2 M is
    not a multiple of 3."""
    log = round(math.log2(M))
    return ([1 << (log % 3)] if log % 3 else []) + [8] * (log // 3)


def block_size(vectors: int, lanes: int) -> int:
    """Vectors per block: one SIMD vector of them (fewer where there are fewer vectors)."""
    return max(1, min(lanes, vectors))


def fuses_gather(N: int) -> bool:
    """Whether the forward FFT's first stage reads through the gather (its butterflies in
    pairs, so every index stays affine): an even count of first-stage butterflies."""
    M = N // 2
    return (M // radices(M)[0]) % 2 == 0


def fft_ops(M: int) -> tuple[int, int]:
    """(multiplies, adds) of one M-point FFT on one vector: per stage M / r butterflies, each
    with r - 1 twiddle multiplies unless it is the last stage (m = 1)."""
    muls = adds = 0
    n = M
    for r in radices(M):
        n //= r
        b_muls, b_adds = BUTTERFLY_OPS[r]
        if n > 1:
            b_muls, b_adds = b_muls + (r - 1) * TWIDDLE_OPS[0], b_adds + (r - 1) * TWIDDLE_OPS[1]
        muls, adds = muls + M // r * b_muls, adds + M // r * b_adds
    return muls, adds


def dct2_ops(N: int) -> tuple[int, int]:
    """(multiplies, adds) of one orthonormal DCT-II of N points on one vector (`dct2_extern`)."""
    M = N // 2
    muls, adds = fft_ops(M)
    return muls + (M // 2 + 1) * DCT2_OUT_OPS[0], adds + (M // 2 + 1) * DCT2_OUT_OPS[1]


def stack_ops(N: int, factors: int, bias: bool) -> tuple[int, int]:
    """(multiplies, adds) of a whole ACDC stack on one vector (`acdc_extern`): per factor two
    FFTs and the middle pass, N multiplies by A in the gather (and from the second factor on
    the previous factor's 1 / 4M scale and its bias), then the output gather (scale, bias)."""
    M = N // 2
    f_muls, f_adds = fft_ops(M)
    muls = factors * (2 * f_muls + (M // 2 + 1) * ACDC_MIDDLE_OPS[0])
    adds = factors * (2 * f_adds + (M // 2 + 1) * ACDC_MIDDLE_OPS[1])
    # the gathers: x A, then per later factor (scale, + bias, x A), and the output (scale, + bias)
    muls += N + (factors - 1) * 2 * N + N
    adds += factors * N * int(bool(bias))
    return muls, adds


@dataclass(frozen=True)
class StackPasses:
    """How a stack's kernel moves one block's data, per vector (multiply by the vectors)."""

    scratch: int  # passes over the block's scratch, each reading and writing N floats
    input_reads: int  # floats read from the layer's input (the first gather)
    output_writes: int  # floats written to the layer's output (the last gather)
    scratch_floats: int  # the block's two scratch buffers, floats per vector in the block (pads left out)


def stack_passes(N: int, factors: int) -> StackPasses:
    """Per factor: the forward FFT's stages, the middle pass, the inverse FFT's stages, and
    the gather where the first stage does not read through it; then the output gather, which
    reads the scratch and writes the output (counted as a scratch pass: it reads N floats
    there). The first factor's gather reads the input instead of the scratch."""
    M = N // 2
    stages = len(radices(M))
    per_factor = 2 * stages + 1 + (0 if fuses_gather(N) else 1)
    return StackPasses(scratch=factors * per_factor + 1, input_reads=N, output_writes=N, scratch_floats=2 * N)
