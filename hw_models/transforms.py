"""How an ACDC layer lowered `factored` runs on sedge's batched fast DCT kernel
(tvm_passes/kernels/dct_batched.py; its structure as numbers in sedge/fast_dct.py; docs/acdc.md).

The kernel takes the V vectors (batch x pixels) in blocks of B = min(V, lanes), one vector per
SIMD lane, the blocks in parallel over the cores (a single block, batch 1 among them, runs on
one core). A block runs the whole stack, every factor, in two scratch buffers of N x B floats
that stay in its core's share of the first memory level that holds them. So:

- DRAM sees the layer as its record does: the diagonals A, D and the biases (3 L N floats:
  tiny), the input read once, the output written once; the tiling model prices that as for
  any layer (estimate.py);
- the passes over the scratch (per factor both FFTs' radix stages and the middle pass, plus
  the gather where the forward FFT's first stage cannot read through it; one output gather)
  each read and write N floats per vector: their bytes go through the scratch's level, at
  the bandwidth of the cores the blocks run on;
- the arithmetic is the record's (the TIR's multiplies, each with an add, and the adds
  beyond them: sedge/fast_dct.py stack_ops), every operation one B-wide vector operation for
  the whole block, at the board's fraction of its peak (`efficiency`) times the lane fill
  sqrt(B / lanes).

The lane fill is the one thing here fitted to a measurement (the stack kernel alone, 12
factors, one block on one core, against this host board's efficiency x peak; docs/acdc.md):
B / lanes would be the lanes the block's operations fill, but LLVM vectorises the rest of a
narrow block's loops along the transform axis (with shuffles). Measured: one vector (scalar
TIR) 0.27-0.32 from N = 512 to 4096 (0.20 at 256), 2 vectors 0.33-0.36, 4 vectors 0.69-0.73
with the scratch in L1 (0.36 at N = 4096, in L2), 8 vectors 0.77, a full block 1.1 with its
scratch in L2 (N >= 1024) and 1.86 in L1 (N = 256, which this model leaves out); sqrt(B /
lanes) is 0.25, 0.35, 0.5, 0.71 and 1 on 16 lanes. That a full block reaches 1.1 of it says
the board's `efficiency` (0.39, measured on convs) serves this kernel too.

The layer's time is the slower of the arithmetic and the scratch's bytes, per block, times the
blocks each core runs.
"""
from __future__ import annotations

import math

from sedge.contract import LayerRecord
from sedge.fast_dct import block_size, fast_dct_macs, is_kernel_size, stack_passes

KERNEL = "dct_batched"  # a factored record's attrs["kernel"] when the batched kernel runs it
FMA_PIPES = 2  # a unit's MACs per cycle per lane (boards count lanes x 2 FMA pipes)


def vectors_of(record: LayerRecord) -> int:
    """Vectors an ACDC stack runs on (batch x pixels): its input's elements over N."""
    N = int(record.attrs["n"])
    shape = record.input_shapes[0] if record.input_shapes else record.output_shape
    return max(1, math.prod(shape) // N)


def is_fast_transform(record: LayerRecord) -> bool:
    """A layer the batched DCT kernel runs: an ACDC stack chosen `factored` whose record says
    so (attrs["kernel"]), or, in a package from before the records named the kernel, whose
    MACs are a fast DCT's (methods.md's 4N + 5N log2 N per factor and vector), not the generic
    body's N x N matmuls (the `factored` form where a target has no fast DCT kernel)."""
    if record.op != "acdc" or record.attrs.get("lowering") != "factored" or "n" not in record.attrs:
        return False
    N, factors = int(record.attrs["n"]), int(record.attrs.get("factors", 1))
    if not is_kernel_size(N):
        return False
    if "kernel" in record.attrs:
        return record.attrs["kernel"] == KERNEL
    return record.macs <= vectors_of(record) * factors * fast_dct_macs(N)


def lane_fill(block: int, lanes: int) -> float:
    """The fraction of a full block's rate a block of `block` vectors runs at (fitted: above)."""
    return math.sqrt(min(block, lanes) / lanes)


def transform_cycles(record: LayerRecord, board, precision: str, element: int) -> tuple[dict, tuple[str, float]]:
    """({"compute": cycles, "<level> scratch": cycles}, (level name, scratch bytes through it))."""
    N, V = int(record.attrs["n"]), vectors_of(record)
    factors = int(record.attrs.get("factors", 1))
    compute = board.compute
    lanes = max(1, int(compute.macs_per_cycle[precision] // FMA_PIPES))
    B = block_size(V, lanes)
    blocks = -(-V // B)
    cores = min(compute.units, blocks)
    rounds = -(-blocks // cores)  # blocks one core runs, one after the other
    # one block: B lanes of each vector's operations (a last block short of B vectors still
    # runs B lanes), per cycle at the board's fraction of a unit's peak and the lane fill
    per_vector = (record.macs / compute.macs_per_cycle[precision] + record.adds / compute.adds_per_cycle[precision]) / V
    compute_cycles = rounds * B * per_vector / (compute.efficiency * lane_fill(B, lanes))
    passes = stack_passes(N, factors)
    working_set = passes.scratch_floats * B * element
    level = next((m for m in board.sram if working_set <= m.size_bytes / compute.units), board.dram)
    scratch_bytes = passes.scratch * 2 * N * V * element  # each pass reads and writes N floats per vector
    per_core = level.bandwidth_gbps * 1e9 / compute.units / compute.clock_hz  # bytes per cycle
    scratch_cycles = rounds * passes.scratch * 2 * N * B * element / per_core
    return {"compute": compute_cycles, f"{level.name} scratch": scratch_cycles}, (level.name, scratch_bytes)
