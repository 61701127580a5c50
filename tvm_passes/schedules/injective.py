"""Parallel, vectorised loops for elementwise / layout kernels (and the pads before convs)."""
from __future__ import annotations

import tvm
from tvm import tirx
from tvm.s_tir.schedule import ScheduleError

from sedge.tvm_passes.schedules.cpu import CpuSpec


def vector_lanes(extent: int, lanes: int) -> int:
    """The widest power-of-two vector (<= the register width) that tiles `extent` exactly."""
    while lanes > 1 and extent % lanes:
        lanes //= 2
    return lanes


def _extent(sch, loop) -> int | None:
    extent = sch.get(loop).extent
    return int(extent) if isinstance(extent, tirx.IntImm) else None


def loops_below(sch, block, after) -> list:
    """The block's loops nested inside loop `after`, outermost first."""
    loops = sch.get_loops(block)
    position = [sch.get_sref(loop).same_as(sch.get_sref(after)) for loop in loops].index(True)
    return loops[position + 1:]


def vectorize_block(sch, block, lanes: int, parallel: bool = False, after=None, fuse: bool = True):
    """Vectorise the block's innermost loop (fused with the loops just outside it until
    the vector width divides it) and fuse the loops outside into one, parallel when asked.
    Only loops below `after` are touched. Keeping the outer loops separate keeps index
    arithmetic and pad conditions out of the vector body. With `fuse=False` only the
    innermost loop is vectorised (narrower vectors when the width does not divide it)."""
    loops = sch.get_loops(block) if after is None else loops_below(sch, block, after)
    if not loops:
        return
    inner, extent = [], 1
    while loops and (not inner or (fuse and extent % lanes)):
        loop = loops.pop()
        size = _extent(sch, loop)
        if size is None:
            loops.append(loop)
            break
        inner.insert(0, loop)
        extent *= size
    vec = vector_lanes(extent, lanes) if inner else 1
    body = sch.fuse(*inner) if len(inner) > 1 else (inner[0] if inner else None)
    if vec > 1:
        outer_part, lanes_part = sch.split(body, [None, vec])
        sch.vectorize(lanes_part)
        loops.append(outer_part)
    elif body is not None:
        loops.append(body)
    if parallel and loops:
        sch.parallel(sch.fuse(*loops) if len(loops) > 1 else loops[0])


def loop_work(sch, block) -> int:
    """Iterations of the block's loop nest (a symbolic extent counts as large)."""
    work = 1
    for loop in sch.get_loops(block):
        work *= _extent(sch, loop) or 1 << 30  # a symbolic extent counts as large
    return work


def schedule_injective(sch: tvm.s_tir.Schedule, spec: CpuSpec) -> bool:
    """Schedule `sch`'s function; False (before any change) when it holds a reduction."""
    blocks = sch.get_child_blocks(sch.get_sblock("root"))
    if any(iv.iter_type != tirx.IterVar.DataPar for b in blocks for iv in sch.get(b).iter_vars):
        return False
    for block in blocks[:-1]:
        try:
            sch.compute_inline(block)
        except ScheduleError:  # a block whose result is also an output stays a loop nest of its own
            vectorize_block(sch, block, spec.lanes, parallel=loop_work(sch, block) >= spec.parallel_min_work)
    vectorize_block(sch, blocks[-1], spec.lanes, parallel=loop_work(sch, blocks[-1]) >= spec.parallel_min_work)
    return True
