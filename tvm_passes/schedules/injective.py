"""Parallel, vectorised loops for elementwise / layout kernels (and the pads before convs);
transposes in tiles."""
from __future__ import annotations

import math

import tvm
from tvm import tirx
from tvm.ir.expr import TensorLoad  # what tirx.BufferLoad builds in this TVM
from tvm.s_tir.schedule import ScheduleError

from sedge.tvm_passes.schedules.cpu import CpuSpec

_block_realize = tvm.get_global_func("s_tir.schedule.GetSBlockRealize")
_IF_THEN_ELSE = tvm.ir.Op.get("prim.if_then_else")


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


def _column_loop(sch, block):
    """The loop that walks the innermost (contiguous) dimension of a buffer the block
    reads, when that is another of the block's own axes than its output's innermost (a
    transpose); else None."""
    stmt = sch.get(block)
    if not stmt.writes or not stmt.writes[0].region:
        return None  # a 0-d result (ONNX Clip's bounds given as 0-d weights) has no column
    own = stmt.writes[0].region[-1].min
    if not isinstance(own, tirx.Var):
        return None  # a layout split (NCHW -> NCHW16c) is no plain transpose
    loops = sch.get_loops(block)
    loop_vars = [sch.get(loop).loop_var for loop in loops]
    bound = list(zip((iv.var for iv in stmt.iter_vars), _block_realize(sch, block).iter_values))
    for region in stmt.reads:
        if not region.region:
            continue  # a 0-d buffer (a scalar constant, as in a ViT's attention scale) has no column
        index = region.region[-1].min
        if not isinstance(index, tirx.Var) or index.same_as(own):
            continue
        value = next((v for var, v in bound if var.same_as(index)), None)
        for loop, var in zip(loops[:-1], loop_vars[:-1]):
            if value is not None and value.same_as(var):
                return loop
    return None


def tile_transpose(sch, block, spec: CpuSpec) -> bool:
    """Run a transpose (NCHW <-> NHWC at a model's edges) in tiles of vectors; False
    (before any change) when `block` transposes nothing or its extents give no tile.

    Vectorised along its output alone, a transpose reads a vector's lanes down a column of
    its input, one row apart; rows a multiple of 4 KiB apart (a 32x32 image's channels)
    all fall in one L1 set, and the next vector moves to new rows before the last ones are
    reused: 160x32x32 NCHW -> NHWC ran at 3 GB/s (0.2 ms, 10x a convolution over it).
    In tiles of up to `lanes` rows x `lanes` columns each input row is read for the tile's
    consecutive vectors while its cache line is still in L1."""
    column = _column_loop(sch, block)
    if column is None:
        return False
    loops = sch.get_loops(block)
    row = loops[-1]
    column_extent, row_extent = _extent(sch, column), _extent(sch, row)
    if column_extent is None or row_extent is None:
        return False
    column_tile, row_tile = vector_lanes(column_extent, spec.lanes), vector_lanes(row_extent, spec.lanes)
    if column_tile == 1:
        return False  # no tile: the vectors of vectorize_block serve as well
    others = [loop for loop in loops[:-1] if not sch.get_sref(loop).same_as(sch.get_sref(column))]
    column_outer, column_inner = sch.split(column, [None, column_tile])
    if row_tile > 1:
        row_outer, row_inner = sch.split(row, [None, row_tile])
        sch.reorder(*others, column_outer, row_outer, column_inner, row_inner)
        sch.vectorize(row_inner)
    else:  # rows too short for a vector (an RGB image's 3 channels): vectors along the
        # input's rows, whose lanes' writes land a few cache lines apart
        row_outer = row
        sch.reorder(*others, column_outer, row, column_inner)
        sch.vectorize(column_inner)
    tiles = sch.fuse(*others, column_outer, row_outer)
    if loop_work(sch, block) >= spec.parallel_min_work:
        sch.parallel(tiles)
    return True


def _segments(sch, block) -> list[int] | None:
    """The lengths of the pieces a concat along the innermost axis copies from each input:
    the block's value selects by `K <= c` on that axis (TOPI's concat, one select per
    input after the first), at its top or inside the elementwise ops fused after it
    (DenseNet's concat -> batch-norm -> ReLU); None for any other block. Vectorised across
    the axis instead, each lane's select chain scalarised the loop: DenseNet's 24-input
    concats became kernels of k branches x 16 lanes, k up to 32, and LLVM's code for them
    was half of densenet121's compile time."""
    stmt = sch.get(block)
    own = stmt.writes[0].region[-1].min if stmt.writes and stmt.writes[0].region else None  # none: 0-d
    if not isinstance(own, tirx.Var) or not isinstance(stmt.body, tirx.BufferStore):
        return None
    starts: set[int] = set()

    def visit(expr) -> bool:  # False: a select on another condition (no concat along the axis)
        if isinstance(expr, tvm.ir.expr.Call) and expr.op.same_as(_IF_THEN_ELSE):
            condition = expr.args[0]
            if not (isinstance(condition, tirx.LE) and isinstance(condition.a, tirx.IntImm)
                    and condition.b.same_as(own)):
                return False
            starts.add(int(condition.a))
            return visit(expr.args[1]) and visit(expr.args[2])
        if isinstance(expr, tvm.ir.expr.Call):
            return all(visit(arg) for arg in expr.args)
        return all(visit(getattr(expr, part)) for part in ("a", "b", "value", "condition", "true_value",
                                                             "false_value") if hasattr(expr, part))

    extent = _extent(sch, sch.get_loops(block)[-1])
    if not visit(stmt.body.value) or not starts or extent is None:
        return None
    bounds = [0, *sorted(s for s in starts if 0 < s < extent), extent]
    return [b - a for a, b in zip(bounds, bounds[1:])]


def _gathers_innermost(sch, block) -> bool:
    """Whether the block reads its input's innermost axis through an index it loads (a
    `take` of channels, ShuffleNet v2's split of its shuffled channels)."""
    def loads(expr) -> bool:  # index arithmetic: binary nodes and casts down to loads, variables, constants
        if isinstance(expr, TensorLoad):
            return True
        return any(loads(getattr(expr, part)) for part in ("a", "b", "value") if hasattr(expr, part))

    return any(loads(region.region[-1].min) for region in sch.get(block).reads if region.region)  # 0-d: no axis


def copy_segments(sch, block, spec: CpuSpec) -> bool:
    """Run a concat along the innermost axis (ShuffleNet v2 joins its branches so, 58 + 58
    channels) as one plain copy loop per input, and a gather along it as one loop: rows in
    parallel, each row's loop split at the inputs' boundaries. Vectorised across rows
    instead, every lane paid a division by the row length and a select between inputs or
    an index load (an order of magnitude slower on ShuffleNet v2's 58 + 58 channels).
    LLVM vectorises each row's loop itself, with a remainder for lengths no vector divides."""
    segments = _segments(sch, block)
    if segments is None and not _gathers_innermost(sch, block):
        return False
    *outer, channel = sch.get_loops(block)
    if outer:
        rows = sch.fuse(*outer) if len(outer) > 1 else outer[0]
        if loop_work(sch, block) >= spec.parallel_min_work:
            sch.parallel(rows)
    if segments is None:
        return True
    vec = vector_lanes(math.gcd(*segments), spec.lanes)
    if vec < min(8, spec.lanes):  # ShuffleNet v2's 58 + 58: LLVM vectorises each piece's loop, with a remainder
        sch.loop_partition(channel, [*segments[:-1], None])
        return True
    # whole vectors per piece: the pieces' loops over vectors, each vectorised here, so that
    # every vector reads one input (the simplifier drops the other selects) and LLVM gets
    # straight vector code instead of a loop to vectorise per piece (a 24-input concat's
    # kernel took 0.5 s of LLVM's time that way)
    tiles, _ = sch.split(channel, [None, vec])
    for piece in sch.loop_partition(tiles, [s // vec for s in segments[:-1]] + [None]):
        (piece_block,) = sch.get_child_blocks(piece)
        sch.vectorize(sch.get_loops(piece_block)[-1])
    return True


def schedule_layout(sch, block, spec: CpuSpec):
    """A transpose in tiles, a concat or gather along the innermost axis in plain copy loops
    per row, any other elementwise or layout block in parallel vectors."""
    if not (tile_transpose(sch, block, spec) or copy_segments(sch, block, spec)):
        vectorize_block(sch, block, spec.lanes, parallel=loop_work(sch, block) >= spec.parallel_min_work)


def schedule_injective(sch: tvm.s_tir.Schedule, spec: CpuSpec) -> bool:
    """Schedule `sch`'s function; False (before any change) when it holds a reduction."""
    blocks = sch.get_child_blocks(sch.get_sblock("root"))
    if any(iv.iter_type != tirx.IterVar.DataPar for b in blocks for iv in sch.get(b).iter_vars):
        return False
    for block in blocks[:-1]:
        try:
            sch.compute_inline(block)
        except ScheduleError:  # a block whose result is also an output stays a loop nest of its own
            schedule_layout(sch, block, spec)
    schedule_layout(sch, blocks[-1], spec)
    return True
