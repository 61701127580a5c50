"""The per-layer lowering choice of an ACDC stack: `fold` or `factored` (methods.md §2).

One pure function, `acdc_choice`, called both by the LowerACDC pass (passes/acdc.py), which
acts on it, and by the ACDC layer recorder (records_compressed.py), which records it: the
records are made from the module before the pipeline runs, so they cannot read what the
pass did, only ask the same question with the same inputs.

- `fold`: the whole stack multiplied out into one dense C x O matrix (+ bias) and run as a
  plain 1x1 conv / matmul on sedge's dense schedules: C*O MACs per vector, C*O weights.
- `factored`: the stack as L factors. What that costs depends on the kernel the target has
  for it: with the fast DCT (4N + 5N log2 N mult-adds per factor, methods.md §2) it beats the
  dense matrix above a crossover N; without one (today: the generic body, two dense N x N
  matmuls with DCT matrices per factor) it costs 2 L N^2 MACs and never wins.

Time per layer is a roofline: max(MACs / rate, weight bytes / bandwidth), with the rate of
the kernel kind that runs them (dense GEMM or transform butterflies) and the weights read once
per inference. The rates are this host's (anchors.md: ~290 GFLOP/s fp32 peak on 2 threads,
12-20 GB/s to DRAM); the transform rate is an assumption until a fast DCT kernel is measured.
"""
import math

# dense GEMM mult-adds per ns on this host (2 threads, AVX-512: ~70% of the 145 GMAC/s peak)
DENSE_MACS_PER_NS = 100.0
# transform butterflies run below the GEMM rate (shuffles, strided passes): benchFFT-style
# rates of the best batched real FFTs here are 25-50 GFLOP/s, i.e. ~1/4 of the GEMM rate
TRANSFORM_MACS_PER_NS = 25.0
# weights read per inference from DRAM (anchors.md: a 64 MB copy moves ~15 GB/s)
WEIGHT_BYTES_PER_NS = 15.0
# which kernel the `factored` form runs on, per target kind; "generic" = the construct's body
FACTORED_KERNEL = {"llvm": "generic", "cuda": "generic"}


def fast_dct_macs(N: int) -> int:
    """Mult-adds of one factor on one vector with a fast DCT (methods.md §2)."""
    return 4 * N + 5 * N * round(math.log2(N))


def acdc_costs(N: int, factors: int, vectors: int, in_channels: int | None = None,
               out_channels: int | None = None, factored_kernel: str = "generic", dtype_bytes: int = 4) -> dict:
    """{"fold": (macs, weight_bytes, ns), "factored": (...)} of one ACDC layer.

    `vectors`: the vectors the stack runs on (batch x pixels); in/out_channels: C and O
    around the stack when the SECL repeat/sum is folded too (default N)."""
    C, O = in_channels or N, out_channels or N
    fold_macs, fold_bytes = vectors * C * O, (C * O + O) * dtype_bytes
    if factored_kernel == "fast_dct":
        fact_macs = vectors * factors * fast_dct_macs(N)
        fact_bytes = 3 * factors * N * dtype_bytes  # A, D, bias per factor
        fact_rate = TRANSFORM_MACS_PER_NS
    else:  # the generic body: x @ DCT^T, then @ IDCT, per factor, dense matrices of N x N
        fact_macs = vectors * factors * 2 * N * N
        fact_bytes = (3 * factors * N + 2 * N * N) * dtype_bytes
        fact_rate = DENSE_MACS_PER_NS
    fold_ns = max(fold_macs / DENSE_MACS_PER_NS, fold_bytes / WEIGHT_BYTES_PER_NS)
    fact_ns = max(fact_macs / fact_rate, fact_bytes / WEIGHT_BYTES_PER_NS)
    return {"fold": (fold_macs, fold_bytes, fold_ns), "factored": (fact_macs, fact_bytes, fact_ns)}


def factored_kernel_for(target) -> str:
    """The kernel the `factored` form gets on `target` (None: this host's CPU)."""
    kind = "llvm" if target is None else target.kind.name
    return FACTORED_KERNEL.get(kind, "generic")


def acdc_choice(N: int, factors: int, vectors: int, target=None, in_channels: int | None = None,
                out_channels: int | None = None, factored_kernel: str | None = None) -> tuple[str, str]:
    """("fold" | "factored", reason) for one ACDC layer, by the cost model above."""
    kernel = factored_kernel or factored_kernel_for(target)
    costs = acdc_costs(N, factors, vectors, in_channels, out_channels, kernel)
    (f_macs, f_bytes, f_ns), (s_macs, s_bytes, s_ns) = costs["fold"], costs["factored"]
    choice = "fold" if f_ns <= s_ns else "factored"
    reason = (f"{choice}: fold {f_macs} MACs + {f_bytes} weight bytes (~{f_ns / 1e3:.3g} us) vs factored "
              f"({kernel}) {s_macs} MACs + {s_bytes} weight bytes (~{s_ns / 1e3:.3g} us); N={N}, "
              f"{factors} factors, {vectors} vectors")
    return choice, reason
