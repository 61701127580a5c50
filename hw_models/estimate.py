"""Per layer: DRAM bytes from the cheapest tiling through the board's last on-chip buffer,
SRAM accesses level by level, energy = operations x per-op energy + accesses x per-byte
energy, and latency = max(compute cycles, each memory's transfer cycles) + the board's
per-kernel launch overhead.

Reads only plain layer records and a board. Byte counts in the records are rescaled to the
requested precision. Network-level choices made here:

- a tensor several layers share (a CSG generator) either stays resident in the buffer,
  fetched once, or is read again by each layer: whichever moves fewer bytes in total
  (residency costs buffer room the other tensors then lack; it needs at most half the buffer);
- a CSG layer runs in "generate" mode (codes + generator from DRAM, kernel rebuilt on chip)
  unless reading its materialised dense kernel moves fewer bytes;
- an elementwise layer (BatchNorm, activation) on its producer's output is fused: it runs on
  the output tiles while they are on chip, as compilers fuse it;
- a layer's output stays on chip for the next layer when the next layer consumes it (same
  shape) and it takes at most half the buffer: its DRAM write and the next read are credited.
  The records do not name tensors, so a skip connection that reads it later is not seen.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sedge.contract import PRECISION_BYTES, LayerRecord, dtype_bytes
from sedge.errors import SedgeError
from sedge.hw_models import ops as op_counts
from sedge.hw_models.energy import op_energy_pj
from sedge.hw_models.result import Estimate, LayerEstimate
from sedge.hw_models.tiling import Traffic, geometry, traffic
from sedge.hw_models.transforms import is_fast_transform, transform_cycles


@dataclass(frozen=True)
class _Sized:
    """A record's byte counts at the estimate's precision."""

    weights: float
    inputs: float
    outputs: float
    shared: dict
    dense_weights: float
    element: int


def estimate(records: list[LayerRecord], board, precision: str = "fp32", baseline=None,
             model: str = "", baseline_model: str = "") -> Estimate:
    """The estimate of `records` on `board`; `baseline` (records) is estimated alongside."""
    if precision not in PRECISION_BYTES:
        raise SedgeError(f"unknown precision '{precision}'; allowed: {', '.join(PRECISION_BYTES)}")
    sized = [_size(record, precision) for record in records]
    shared = {key: size for s in sized for key, size in s.shared.items()}
    policies = [{}] + ([shared] if shared and sum(shared.values()) <= board.buffer.size_bytes / 2 else [])
    layers = min((_layers(records, sized, board, precision, resident) for resident in policies),
                 key=lambda layers: sum(layer.total_dram_bytes for layer in layers))
    parameter_bytes = sum(s.weights for s in sized) + sum(shared.values())
    base = (estimate(baseline, board, precision, model=baseline_model)
            if baseline is not None else None)
    return Estimate(board=board.name, precision=precision, clock_hz=board.compute.clock_hz,
                    layers=layers, parameter_bytes=parameter_bytes, model=model, baseline=base)


def _fuses(producer: LayerRecord, layer: LayerRecord) -> bool:
    """An elementwise op (BatchNorm, activation) on its producer's output runs on each output
    tile while it is on chip, as compilers fuse it: no DRAM round trip in between."""
    return layer.op == "elementwise" and layer.input_shapes == [producer.output_shape]


def _layers(records, sized, board, precision, resident) -> list[LayerEstimate]:
    """Every layer's estimate with the `resident` shared tensors held in the buffer throughout."""
    buffer = board.buffer.size_bytes - sum(resident.values())
    fused = [False] + [_fuses(a, b) for a, b in zip(records, records[1:])] + [False]
    layers, kept_in, fetched = [], 0.0, set()
    for i, (record, size) in enumerate(zip(records, sized)):
        consumer = records[i + 1] if i + 1 < len(records) else None
        keep_out = (consumer is not None and not fused[i + 1] and record.output_shape in consumer.input_shapes
                    and size.outputs <= buffer / 2)
        first_use = {key: resident[key] for key in size.shared if key in resident and key not in fetched}
        fetched |= set(first_use)
        step = _Step(buffer, resident, first_use, size.inputs if fused[i] else kept_in, keep_out,
                     fused_in=fused[i], fused_out=fused[i + 1])
        layers.append(_layer(record, size, board, precision, step))
        kept_in = size.outputs if keep_out else 0.0
    return layers


def _size(record: LayerRecord, precision: str) -> _Sized:
    scale = PRECISION_BYTES[precision] / dtype_bytes(record.dtype)
    return _Sized(weights=record.weight_bytes * scale, inputs=record.input_bytes * scale,
                  outputs=record.output_bytes * scale,
                  shared={key: size * scale for key, size in record.shared_weights.items()},
                  dense_weights=record.attrs.get("dense_weight_bytes", record.weight_bytes) * scale,
                  element=PRECISION_BYTES[precision])


@dataclass(frozen=True)
class _Step:
    """What the network around a layer leaves it: buffer room, resident tensors, fusion."""

    buffer: float
    resident: dict
    first_use: dict  # resident tensors this layer fetches (their first reader)
    kept_in: float  # input bytes already on chip
    keep_out: bool  # output stays on chip for the next layer
    fused_in: bool  # runs on its producer's output tiles
    fused_out: bool  # the next layer runs on this layer's output tiles


def _layer(record, size, board, precision, step: _Step) -> LayerEstimate:
    geo = geometry(record.input_shapes, record.output_shape, record.weight_shapes)
    streamed_shared = sum(v for k, v in size.shared.items() if k not in step.resident)
    if record.op == "csg_conv":
        choices = {"generate": size.weights + streamed_shared, "materialised": size.dense_weights}
    else:
        choices = {"": size.weights + streamed_shared}
    dram = {mode: _dram_traffic(geo, w, size, step) for mode, w in choices.items()}
    mode = min(dram, key=lambda m: dram[m].total)
    weights = choices[mode]
    fills_resident = sum(step.first_use.values())
    # a fused layer works on tiles already in the innermost level: no level moves its input
    inner = ([dram[mode]] * (len(board.sram) - 1) if step.fused_in else
             [traffic(geo, weights, size.inputs, size.outputs, level.size_bytes) for level in board.sram[:-1]])
    levels = inner + [dram[mode]]
    counts = op_counts.count_ops(record, mode)
    operand_reads = _operand_reads(board, geo, weights, size, counts)
    accesses = _accesses(board, levels, operand_reads, size, fills_resident)
    cycles = None
    if is_fast_transform(record):  # the batched DCT kernel: blocks of vectors, scratch in cache (transforms.py)
        cycles, (level, scratch_bytes) = transform_cycles(record, board, precision, size.element)
        accesses[level] = {"reads": accesses[level]["reads"] + scratch_bytes / 2,
                           "writes": accesses[level]["writes"] + scratch_bytes / 2}
    return LayerEstimate.build(
        record=record, mode=mode, counts=counts, board=board, precision=precision, kernel_cycles=cycles,
        dram={"weights": levels[-1].weights + fills_resident, "inputs": levels[-1].inputs,
              "outputs": levels[-1].outputs},
        accesses=accesses, op_energy=op_energy_pj(board, precision),
        order=levels[-1].order, tiles=levels[-1].tiles, fused=step.fused_in)


def _dram_traffic(geo, weights, size, step: _Step) -> Traffic:
    if step.fused_in:  # input tiles are already on chip; only its own parameters come in
        outputs = 0.0 if step.keep_out or step.fused_out else size.outputs
        return Traffic(weights, 0.0, outputs, "fused", (1, 1, 1), True)
    t = traffic(geo, weights, size.inputs, size.outputs, step.buffer, step.kept_in, step.keep_out)
    return dataclasses.replace(t, outputs=0.0) if step.fused_out else t


def _operand_reads(board, geo, weights, size, counts) -> float:
    """Bytes the datapath reads from the innermost level: tiles into its registers, or, with
    no registers, each MAC's two operands and each addition's one."""
    registers = board.compute.register_bytes
    if registers:
        held = traffic(geo, weights, size.inputs, size.outputs, registers)
        return held.weights + held.inputs
    return (2 * counts.macs + counts.adds) * size.element


def _accesses(board, levels, operand_reads, size, fills_resident) -> dict:
    """Bytes read from and written to each memory; each level is filled from the next one out."""
    fills = [t.weights + t.inputs for t in levels]
    fills[-1] += fills_resident
    spills = [t.outputs for t in levels]
    result = {}
    for i, level in enumerate(board.sram):
        reads = operand_reads if i == 0 else fills[i - 1]
        writes = fills[i] + (size.outputs if i == 0 else spills[i - 1])
        result[level.name] = {"reads": reads, "writes": writes}
    result[board.dram.name] = {"reads": fills[-1], "writes": spills[-1]}
    return result
