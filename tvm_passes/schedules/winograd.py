"""Schedules for the input and output transforms of Winograd convolutions.

Both transforms (passes/winograd_conv.py) are elementwise computes whose value is a select
over the position inside a tile: unrolling those positions folds each select to its
constant-coefficient expression, and the (m+2)^2 (input) or m^2 (output) values of a tile
then share their loads. Channels are the vectorised axis, tiles run in parallel. The
matrix products between them are plain reductions for schedules/reduction.py.
"""
from __future__ import annotations

import tvm

from sedge.tvm_passes.schedules.cpu import CpuSpec
from sedge.tvm_passes.schedules.injective import loop_work, schedule_layout, vector_lanes
from sedge.tvm_passes.schedules.reduction import is_reduction, schedule_rows

# the names (and attributes) of the transforms' blocks, which passes/winograd_conv.py creates
INPUT, OUTPUT = "winograd_input", "winograd_output"


def _split_channels(sch, loop, lanes: int):
    extent = int(sch.get(loop).extent)
    vec = vector_lanes(extent, lanes)
    return sch.split(loop, [None, vec]) if vec > 1 else (loop, None)


def _finish(sch, tiles, positions, lanes_loop, work: int, spec: CpuSpec):
    if work >= spec.parallel_min_work:
        sch.parallel(tiles)
    for loop in positions:
        sch.unroll(loop)
    if lanes_loop is not None:
        sch.vectorize(lanes_loop)


def _same_shape(sch, first, last) -> bool:
    """Whether `last` writes a tensor of `first`'s shape (an elementwise epilogue of it)."""
    shapes = [[int(d) for d in sch.get(b).writes[0].source.shape] for b in (first, last)]
    return shapes[0] == shapes[1]


def _annotated(sch, blocks, key):
    """(block, tile size) of the block annotated with `key`, or None."""
    found = [(b, int(sch.get(b).annotations[key])) for b in blocks if key in sch.get(b).annotations]
    return found[0] if len(found) == 1 else None


def schedule_winograd(sch: tvm.s_tir.Schedule, spec: CpuSpec) -> bool:
    """Schedule a Winograd transform kernel; False (before any change) for any other."""
    blocks = sch.get_child_blocks(sch.get_sblock("root"))
    transform = _annotated(sch, blocks, INPUT)
    if transform is not None and transform[0].same_as(blocks[-1]):
        block = blocks[-1]
        for producer in blocks[:-1]:  # the pad, once in parallel rows: a select in every
            # one of the tile's reads made the kernel slower and its compile 2x longer
            schedule_rows(sch, producer, spec.lanes, parallel=loop_work(sch, block) >= spec.parallel_min_work)
        e, n, p, c = sch.get_loops(block)
        c_outer, c_lanes = _split_channels(sch, c, spec.lanes)
        sch.reorder(p, c_outer, e, n, *([c_lanes] if c_lanes is not None else []))
        _finish(sch, p, [e, n], c_lanes, loop_work(sch, block), spec)
        return True
    transform = _annotated(sch, blocks, OUTPUT)
    if transform is None:
        return False
    # the last block of the transform's (channels-last) shape ends the transform and the conv's
    # epilogue; blocks after it change the layout: the transpose back to a model's NCHW
    # output, and a reshape after it (a group norm's groups). Inlined into them, each output
    # would recompute its tile's whole transform (0.9 ms for a 56x56x64 output, 0.06 ms so):
    # the tile's outputs are written channels-last, then each layout block runs on its own
    position = max(i for i, b in enumerate(blocks) if _same_shape(sch, transform[0], b))
    layout = blocks[position + 1:]
    if any(is_reduction(sch, b) for b in layout):
        return False
    tile, nest = transform[1], blocks[position]
    for block in blocks[:position]:  # the transform and the conv's epilogue: one write per output
        sch.compute_inline(block)
    b, h, w, k = sch.get_loops(nest)
    ty, hi = sch.split(h, [None, tile])
    tx, wi = sch.split(w, [None, tile])
    k_outer, k_lanes = _split_channels(sch, k, spec.lanes)
    sch.reorder(b, ty, tx, k_outer, hi, wi, *([k_lanes] if k_lanes is not None else []))
    _finish(sch, sch.fuse(b, ty, tx), [hi, wi], k_lanes, loop_work(sch, nest), spec)
    for block in layout:
        schedule_layout(sch, block, spec)
    return True
