"""The per-layer lowering choice of an ACDC stack: `fold` or `factored` (methods.md §2).

`acdc_costs` prices both options; the per-layer lowering mechanism (lowering.py, through
lowering_families.acdc) asks it once per layer, and that one decision is what LowerACDC
carries out, what the layer records count and what `sedge compile --explain` prints.
`acdc_choice` is the same decision for one layer given as numbers.

- `fold`: the whole stack multiplied out into one dense C x O matrix (+ bias) and run as a
  plain 1x1 conv / matmul on sedge's dense schedules: C*O MACs per vector, C*O weights.
- `factored`: the stack as L factors. What that costs depends on the kernel the target has
  for it: with the fast DCT (4N + 5N log2 N mult-adds per factor, methods.md §2) it beats the
  dense matrix above a crossover N; without one (today: the generic body, two dense N x N
  matmuls with DCT matrices per factor) it costs 2 L N^2 MACs and never wins.

Time per layer is a roofline: max(MACs / rate, weight bytes / bandwidth), with the rate of
the kernel kind that runs them (dense GEMM or the fast DCT's butterflies) and the weights
read once per inference, from the last-level cache when they fit it, else from DRAM.

Where the numbers come from: the machine is the board the target compiles for (the board
file its tag or -mcpu names, `boards/`), this host's detected `host` board for this host's
CPU or no target; its last on-chip level gives the cache size and the cached read
bandwidth, its DRAM the streaming bandwidth (on this host: 32 MiB, 40 GB/s and 10 GB/s, all
measured, boards/host.toml). A target no board describes gets this host's figures. The two
kernel rates have no model that covers them at every batch (hw_models/transforms.py prices
the batched kernel for `sedge estimate` from the operations its TIR runs, sedge/fast_dct.py,
but its lane fill is itself fitted), so they stay measured constants, per methods.md's
4N + 5N log2 N mult-adds (the layer records count the kernel's own multiplies and adds), this
host's (docs/acdc.md: one 12-factor layer, N = 256 ... 4096, 1 and 64 vectors,
sedge-folded against sedge-factored). With them the model picks the faster of the
two in 6 of the 8 measured shapes; the two it misses (one vector, N = 1024 and 2048) are
within ~2x either way and trade places with the machine's load. Crossover here, 12 factors:
N between 256 and 1024, at one vector (model 926) and at 64 vectors (model 812).
"""
import functools
import json
from dataclasses import dataclass

from sedge.fast_dct import fast_dct_macs

# sedge's dense matmul / 1x1 conv, mult-adds per ns (measured 19-55 at 64 vectors, N = 1024-4096;
# below the board's efficiency x peak, which a direct conv reaches: the matmul schedule's)
DENSE_MACS_PER_NS = 40.0
# the fast DCT kernel (kernels/dct_batched.py; kernels/dct.py for N < 8), counted in
# fast_dct_macs: ~32 per ns with a full SIMD vector of vectors in each block (measured 33-49 at
# 16-32 vectors, N = 256-2048, and 13-38 at 64 on the loaded shared machine); ~7 per ns with one
# vector (measured 3.9-10.3 at N = 256-2048, per-call overhead bounding the small N); ~12 with
# 2-15 vectors, a few lanes filled (measured 6-25). Before the batched kernel: 8, 7 and 2
# (a complex radix-2 FFT, one pass over all vectors per stage).
TRANSFORM_MACS_PER_NS = 32.0
TRANSFORM_MACS_PER_NS_ONE = 7.0
TRANSFORM_MACS_PER_NS_FEW = 12.0
FULL_VECTOR = 16  # vectors for the full rate: AVX-512's fp32 lanes
# which kernel the `factored` form runs on, per target kind; "generic" = the construct's body
# (the fast DCT kernel has a CPU schedule only)
FACTORED_KERNEL = {"llvm": "fast_dct", "cuda": "generic"}


@dataclass(frozen=True)
class WeightMemory:
    """Where a layer's weights are read from between inferences, per the target's board."""

    cache_bytes: float  # the last on-chip level
    cached_bytes_per_ns: float  # its bandwidth
    dram_bytes_per_ns: float

    def ns(self, weight_bytes: float) -> float:
        rate = self.cached_bytes_per_ns if weight_bytes <= self.cache_bytes else self.dram_bytes_per_ns
        return weight_bytes / rate


def weight_memory(target=None) -> WeightMemory:
    """The weight memory of the board `target` compiles for (None: this host)."""
    return _weight_memory(None if target is None else str(target))


@functools.lru_cache(maxsize=16)
def _weight_memory(target_json: str | None) -> WeightMemory:
    from sedge.boards import board_for_target, load_board

    board = board_for_target(json.loads(target_json)) if target_json else None
    board = board or load_board("host")
    last = board.buffer
    # GB/s are bytes per ns
    return WeightMemory(float(last.size_bytes), float(last.bandwidth_gbps), float(board.dram.bandwidth_gbps))


def acdc_costs(N: int, factors: int, vectors: int, in_channels: int | None = None,
               out_channels: int | None = None, factored_kernel: str = "generic", dtype_bytes: int = 4,
               target=None) -> dict:
    """{"fold": (macs, weight_bytes, ns), "factored": (...)} of one ACDC layer on `target`'s
    board (None: this host).

    `vectors`: the vectors the stack runs on (batch x pixels); in/out_channels: C and O
    around the stack when the SECL repeat/sum is folded too (default N)."""
    memory = weight_memory(target)
    C, O = in_channels or N, out_channels or N
    fold_macs, fold_bytes = vectors * C * O, (C * O + O) * dtype_bytes
    if factored_kernel == "fast_dct":
        fact_macs = vectors * factors * fast_dct_macs(N)
        fact_bytes = 3 * factors * N * dtype_bytes  # A, D, bias per factor
        fact_rate = (TRANSFORM_MACS_PER_NS if vectors >= FULL_VECTOR else
                     TRANSFORM_MACS_PER_NS_ONE if vectors == 1 else TRANSFORM_MACS_PER_NS_FEW)
    else:  # the generic body: x @ DCT^T, then @ IDCT, per factor, dense matrices of N x N
        fact_macs = vectors * factors * 2 * N * N
        fact_bytes = (3 * factors * N + 2 * N * N) * dtype_bytes
        fact_rate = DENSE_MACS_PER_NS
    fold_ns = max(fold_macs / DENSE_MACS_PER_NS, memory.ns(fold_bytes))
    fact_ns = max(fact_macs / fact_rate, memory.ns(fact_bytes))
    return {"fold": (fold_macs, fold_bytes, fold_ns), "factored": (fact_macs, fact_bytes, fact_ns)}


def factored_kernel_for(target) -> str:
    """The kernel the `factored` form gets on `target` (None: this host's CPU)."""
    kind = "llvm" if target is None else target.kind.name
    return FACTORED_KERNEL.get(kind, "generic")


def has_fast_dct(N: int, target=None) -> bool:
    """Whether the fast DCT kernel takes N on `target` (radix-2: N a power of two)."""
    return factored_kernel_for(target) == "fast_dct" and N >= 2 and not N & (N - 1)


def acdc_choice(N: int, factors: int, vectors: int, target=None, in_channels: int | None = None,
                out_channels: int | None = None, factored_kernel: str | None = None) -> tuple[str, str]:
    """("fold" | "factored", reason) for one ACDC layer, by the cost model above."""
    kernel = factored_kernel or ("fast_dct" if has_fast_dct(N, target) else "generic")
    costs = acdc_costs(N, factors, vectors, in_channels, out_channels, kernel, target=target)
    (f_macs, f_bytes, f_ns), (s_macs, s_bytes, s_ns) = costs["fold"], costs["factored"]
    choice = "fold" if f_ns <= s_ns else "factored"
    reason = (f"{choice}: fold {f_macs} MACs + {f_bytes} weight bytes (~{f_ns / 1e3:.3g} us) vs factored "
              f"({kernel}) {s_macs} MACs + {s_bytes} weight bytes (~{s_ns / 1e3:.3g} us); N={N}, "
              f"{factors} factors, {vectors} vectors")
    return choice, reason
