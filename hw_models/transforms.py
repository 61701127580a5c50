"""How a layer lowered to sedge's fast transform kernel runs: passes over memory, one
transform per SIMD lane (tvm_passes/kernels/dct.py; docs/acdc.md).

A `factored` ACDC layer is not a stream of FMAs: each of its L factors is a DCT-II and a
DCT-III of length N, each log2 N radix-2 butterfly passes plus a reorder and a twiddle pass,
every pass reading both butterfly inputs (real and imaginary) and the twiddle, and writing
its output. The kernel lays the V vectors (batch x pixels) across the SIMD lanes, so

- with fewer vectors than lanes most of each vector load, store and FMA is empty, and a
  load/store port moves a few elements where it could move a register's worth; with one
  vector (batch 1) the kernel runs each butterfly pass's transform axis across the lanes
  instead, a stage of stride s in groups of min(s, lanes) points, the reorder and twiddle
  passes one point at a time (`pass_groups`);
- a pass runs on several cores only when it has at least PARALLEL_MIN elements
  (`schedule_dct`'s threshold), so a batch-1 layer of N = 4096 runs on one core;
- the data of a pass (inputs and outputs, N x V each, real and imaginary) stays in the first
  memory level that holds it.

The layer's time is the slowest of: the butterflies' MACs at the lanes and cores they fill,
the load/store issue of the innermost level at the cores used (each access one register
wide, as the port sees it), and the passes' bytes through the level the working set fits in.
No constant here is fitted to a measurement; docs/acdc.md compares the result with the
measured kernel.
"""
from __future__ import annotations

import math

from sedge.contract import LayerRecord

FMA_PIPES = 2  # a unit's MACs per cycle per lane (boards count lanes x 2 FMA pipes)
PARALLEL_MIN = 1 << 14  # elements a pass needs to run on every core (kernels/dct.py schedule_dct)
DATA_ACCESSES = 6  # per point, pass and group of lanes: 4 loads (both inputs, re + im) and 2 stores
TWIDDLE_ACCESSES = 2  # per point and pass: the twiddle's re and im, one broadcast load each
LIVE_ARRAYS = 4  # a pass's working set: input and output, real and imaginary


def vectors_of(record: LayerRecord) -> int:
    """Vectors a layer on the last dimension runs on (an ACDC stack's batch x pixels)."""
    shape = record.input_shapes[0] if record.input_shapes else record.output_shape
    return max(1, math.prod(shape[:-1]))


def fast_dct_macs(N: int) -> int:
    """Mult-adds of one ACDC factor on one vector with a fast DCT (methods.md §2)."""
    return 4 * N + 5 * N * round(math.log2(N))


def is_fast_transform(record: LayerRecord) -> bool:
    """A layer the compiler lowers to the fast DCT kernel: an ACDC stack chosen `factored`
    whose record counts the fast DCT's butterflies (not the generic body's N x N matmuls, the
    `factored` form where a target has no fast DCT kernel)."""
    if record.op != "acdc" or record.attrs.get("lowering") != "factored" or "n" not in record.attrs:
        return False
    N, factors = int(record.attrs["n"]), int(record.attrs.get("factors", 1))
    return record.macs <= vectors_of(record) * factors * fast_dct_macs(N)


def passes(record: LayerRecord) -> int:
    """Passes over the vectors: per factor two transforms of log2 N butterfly passes + 2."""
    N, factors = int(record.attrs["n"]), int(record.attrs.get("factors", 1))
    return factors * 2 * (round(math.log2(N)) + 2)


def pass_groups(N: int, V: int, lanes: int) -> float:
    """Register-wide groups of points one transform's passes go through. Many vectors: every
    pass runs the vectors across the lanes, ceil(V / lanes) groups per point. One vector: the
    kernel runs each butterfly pass's transform axis across the lanes instead, stage k in
    groups of min(2^k, lanes) points (its stride; stage 0 scalar), and the reorder and
    twiddle passes one point at a time."""
    log_n = round(math.log2(N))
    if V == 1:
        return sum(N / min(1 << k, lanes) for k in range(log_n)) + 2 * N
    return (log_n + 2) * N * math.ceil(V / lanes)


def transform_cycles(record: LayerRecord, board, precision: str, element: int) -> tuple[dict, tuple[str, float]]:
    """({"compute": cycles, "<innermost> ports": cycles}, (level name, pass bytes through it))."""
    N, V = int(record.attrs["n"]), vectors_of(record)
    factors = int(record.attrs.get("factors", 1))
    compute = board.compute
    lanes = max(1, int(compute.macs_per_cycle[precision] // FMA_PIPES))
    cores = compute.units if N * V >= PARALLEL_MIN else 1
    groups = factors * 2 * pass_groups(N, V, lanes)  # every transform of the stack
    point_passes = passes(record) * N
    # lanes doing work, on average over the passes
    used_lanes = min(lanes, point_passes * V / groups)
    macs_cycles = record.macs / (cores * compute.efficiency * compute.macs_per_cycle[precision] * used_lanes / lanes)
    inner = board.sram[0]
    # per group: the data accesses; per point (one vector) or per group (one vector), the twiddle
    twiddles = groups if V == 1 else point_passes
    port_bytes = (DATA_ACCESSES * groups + TWIDDLE_ACCESSES * twiddles) * lanes * element
    port_cycles = port_bytes / (inner.bandwidth_gbps * 1e9 * cores / compute.units / compute.clock_hz)
    working_set = LIVE_ARRAYS * N * V * element
    level = next((m for m in board.sram if working_set <= m.size_bytes), board.dram)
    pass_bytes = point_passes * V * DATA_ACCESSES * element
    return {"compute": macs_cycles, f"{inner.name} ports": port_cycles}, (level.name, pass_bytes)
