"""Row-wise schedule for kernels that reduce along rows several times: softmax, log-softmax,
and per-row statistics (a variance: the mean, then the mean squared deviation).

A softmax over the last axis is a chain of blocks over the same rows: the row's maximum,
the sum of exponentials, then the normalised row. TVM's loops run each block over every
row before the next starts, so each reads the whole tensor again. Here every block is
computed inside the last block's row loop (a row stays in L1 from the first read to the
write), the rows run in parallel, the elementwise blocks are vectorised along the row, and
each reduction keeps a vector of partial results that it folds at the end of the row. A
chain that ends in one value per row (a group norm's variance and its square root) runs
the same way under the loop over those values; its elementwise blocks with one consumer
(the deviation, its square) fold into the reduction that reads them, so no row-sized
intermediate is written.
"""
from __future__ import annotations

import tvm
from tvm import tirx
from tvm.s_tir.schedule import ScheduleError

from sedge.tvm_passes.schedules.cpu import CpuSpec
from sedge.tvm_passes.schedules.injective import loop_work, loops_below, vector_lanes, vectorize_block
from sedge.tvm_passes.schedules.reduction import is_reduction


def _reduces_rows(block, rows: list[int]) -> bool:
    """Whether `block` reduces over its last iterator only, writing one value per row of
    the output's last axis (`rows`: the output's shape). A softmax over another axis (an
    NCHW one over channels) would be recomputed for every row inside the row loop."""
    kinds = [iv.iter_type for iv in block.iter_vars]
    if kinds[-1] != tirx.IterVar.CommReduce or any(k != tirx.IterVar.DataPar for k in kinds[:-1]):
        return False
    written = [int(d) for d in block.writes[0].source.shape]
    length = block.iter_vars[-1].dom.extent
    return written == rows[:-1] and isinstance(length, tirx.IntImm) and int(length) == rows[-1]


def _reduced_axes(block, values: list[int]) -> int:
    """How many trailing iterators `block` reduces over (a variance over H and W: two),
    into a tensor of the chain's per-row output shape `values` (up to unit dimensions: the
    mean inside a variance keeps them where the variance may not); 0 when it does not."""
    kinds = [iv.iter_type for iv in block.iter_vars]
    spatial = kinds.index(tirx.IterVar.CommReduce) if tirx.IterVar.CommReduce in kinds else len(kinds)
    if any(k != tirx.IterVar.DataPar for k in kinds[:spatial]) or \
            any(k != tirx.IterVar.CommReduce for k in kinds[spatial:]):
        return 0
    written = [int(d) for d in block.writes[0].source.shape]
    squeezed = [d for d in written if d != 1] == [d for d in values if d != 1]  # kept dims or not
    return len(kinds) - spatial if squeezed else 0


def _fold_single_use(sch, blocks):
    """Inline each elementwise block that one other block reads (a deviation into its
    square, the square into its sum); one read by several (a softmax's exponentials: the
    sum and the division) stays a block, or it would be computed once per reader."""
    for block in blocks:
        if not is_reduction(sch, block) and len(sch.get_consumers(block)) == 1:
            try:
                sch.compute_inline(block)
            except ScheduleError:  # a block the inliner refuses stays a block of its own
                pass


def schedule_rows_reduction(sch: tvm.s_tir.Schedule, spec: CpuSpec) -> bool:
    """Schedule `sch`'s function; False (before any change) when it is not a chain of
    elementwise blocks and per-row reductions ending in an elementwise block that writes
    the rows or one value per row."""
    blocks = sch.get_child_blocks(sch.get_sblock("root"))
    kinds = [is_reduction(sch, b) for b in blocks]
    if sum(kinds) < 2 or kinds[-1]:
        return False  # one reduction is schedule_reduction's; the last block must write rows
    writer = blocks[-1]
    output = sch.get(writer).writes[0].source.shape
    if not all(isinstance(d, tirx.IntImm) for d in output):
        return False
    rows = [int(d) for d in output]
    reductions = [sch.get(b) for b, reduces in zip(blocks, kinds) if reduces]
    loops = sch.get_loops(writer)
    if all(_reduces_rows(b, rows) for b in reductions) and len(loops) >= 2:
        row_loops = loops[:-1]  # the writer's last loop walks the row
    elif all(_reduced_axes(b, rows) for b in reductions) and loops:
        row_loops = loops  # one value per row
        _fold_single_use(sch, blocks[:-1])
        blocks = sch.get_child_blocks(sch.get_sblock("root"))  # those left after folding
        for block in blocks:  # each row's axes as one loop
            axes = _reduced_axes(sch.get(block), rows) if is_reduction(sch, block) else 0
            if axes > 1:
                sch.fuse(*sch.get_loops(block)[-axes:])
    else:
        return False
    work = max(loop_work(sch, b) for b in blocks)
    partials = [p for block in blocks if is_reduction(sch, block)
                for p in [_vector_partials(sch, block, spec.lanes)] if p is not None]
    blocks = sch.get_child_blocks(sch.get_sblock("root"))  # with the partial-result blocks
    row = sch.fuse(*row_loops) if len(row_loops) > 1 else row_loops[0]
    for block in reversed(blocks[:-1]):  # consumers first: each producer lands under the row loop
        sch.compute_at(block, row, preserve_unit_loops=True)
    if work >= spec.parallel_min_work:
        sch.parallel(row)
    for block in blocks:
        if not is_reduction(sch, block):
            vectorize_block(sch, block, spec.lanes, after=row, fuse=False)
    for partial in partials:  # its loops under the row: lanes, then the reduction; swapped, lanes vectorised
        lanes, *_, k = loops_below(sch, partial, row)
        sch.reorder(k, lanes)
        sch.vectorize(lanes)
    return True


def _vector_partials(sch, block, lanes: int):
    """The block computing a row reduction as a vector of partial results (rfactor), which
    `block` then folds to one value; None when the row is no multiple of a vector. The float
    additions run in another order, as in any vectorised sum."""
    k = sch.get_loops(block)[-1]
    vec = vector_lanes(int(sch.get(k).extent), lanes)
    if vec == 1:
        return None
    _, k_lanes = sch.split(k, [None, vec])
    return sch.rfactor(k_lanes, factor_axis=len(sch.get(block).writes[0].source.shape))
