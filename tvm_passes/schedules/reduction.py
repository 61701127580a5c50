"""Register-blocked schedule for fused kernels built around one reduction.

Covers channels-last conv2d (dense, strided, 1x1, 2x2, grouped, depthwise), pooling,
mean and dense/matmul after legalization and fusion: a block whose last spatial axis
indexes the innermost (contiguous) dimension of its output, e.g. `conv2d_nhwc[n, h, w, o]`
reducing over (kh, kw, c). The kernel keeps a tile of `w_block` x `o_vectors` vectors of
outputs in registers while it runs the whole reduction, broadcasting one input value
against `o_vectors` weight vectors per step, the classic direct-convolution micro-kernel.
The fused epilogue (bias, batch-norm, ReLU, residual add) is applied to the tile while it
is still in registers; outer tiles run in parallel.
"""
from __future__ import annotations

import tvm
from tvm import tirx
from tvm.ir.expr import TensorLoad  # what tirx.BufferLoad builds in this TVM

from sedge.tvm_passes.schedules.cpu import CpuSpec
from sedge.tvm_passes.schedules.injective import loop_work, loops_below, vectorize_block

_SPATIAL, _REDUCE = tirx.IterVar.DataPar, tirx.IterVar.CommReduce


def is_reduction(sch, block) -> bool:
    return any(iv.iter_type == _REDUCE for iv in sch.get(block).iter_vars)


# TVM places a kernel's scratch buffer on the stack, where LLVM keeps it in registers, only
# when it is smaller than this (runtime::kMaxStackAlloca) and of "global" scope; anything
# else it makes a heap workspace allocated, zeroed, stored and freed once per tile. A larger
# accumulator tile is given "local" scope here, which sedge's TIR pipeline keeps on the stack
# too (tir_pipeline.stack_local_buffers)
STACK_BYTES = 1024
# what a tile over STACK_BYTES was charged, in reduction steps, when it was a heap workspace:
# measured on a grouped 1x1 conv (16 steps per tile), where that took as long as the
# reduction itself. Kept since the tile went on the stack: without it the choices moved and
# eight models measured the same (0.98-1.02x, benchmarks.interleaved)
HEAP_TILE_STEPS = 16
# how much more reuse a tile with a partial last column block must score than the best exact
# tile to be taken: its predicated rows cost code and its wasted rows are already discounted
PARTIAL_GAIN = 1.5


def accumulators_on_stack(w_block: int, o_vectors: int, vec: int) -> bool:
    return w_block * o_vectors * vec * 4 < STACK_BYTES


def row_axis(extents: list[int]) -> int | None:
    """Which of a kernel's spatial axes (`extents`, the last one the vectorised columns) the
    register tile takes its rows from: the innermost other axis longer than 1, else the one
    before the columns; None for a kernel with no other axis. A transformer's (197, 1, 768)
    activations put a unit axis between rows and channels: tiled over it, every tile held
    one row, 2.4x the time per FLOP of the same matmul on (197, 768)."""
    others = range(len(extents) - 1)
    return next((i for i in reversed(others) if extents[i] > 1), others[-1] if others else None)


def output_lanes(channels: int, lanes: int) -> int:
    """The widest vector (<= the register width) that tiles `channels` outputs exactly, not
    only powers of two: LLVM runs a 12-lane vector in a 16-lane register with masked loads
    and stores, 3/4 of the FMA rate where 8-lane vectors give 1/2 (a 1x1 conv to 24
    channels: 237 -> 331 GFLOP/s in benchmarks.kernels). For a grouped conv `channels` is
    the outputs of one group: a vector across two groups needs a different input channel
    per lane, a gather per FMA (5 outputs per group ran at 3% of the FMA peak in 8-lane
    vectors, at 5/16 of it in 5-lane ones)."""
    return max(d for d in range(1, min(channels, lanes) + 1) if channels % d == 0)


def tile_shape(w_extent: int, o_extent: int, reduce_size: int, spec: CpuSpec,
               group_out: int | None = None) -> tuple[int, int, int]:
    """(vector lanes, output vectors per tile, output columns per tile).

    `group_out`: output channels per group of a grouped conv whose groups read more than
    one input channel; its vectors stay inside a group (see `output_lanes`).

    Among the tiles that divide the loops exactly (or, where those are single columns, also
    the ones whose last tile is partial) and fit the accumulators in registers, take the one
    doing the most FMAs per load, discounted by the heap round trip of a tile
    too large for the stack (which only a long reduction amortises), preferring tiles whose
    weights (`reduce_size` per output) stay in the L2 cache. A reduction step loads one
    weight vector per output vector and broadcasts one input per column and group: groups
    read different inputs, so a tile across 4 groups of 5 outputs broadcasts 4 times per
    column where one group's tile broadcasts once (a 160->40 conv in 8 groups, one group
    down 16 columns instead of 4 groups x 4: 0.18 -> 0.21-0.24 of the 3x3 conv's GFLOP/s
    in benchmarks.kernels).
    """
    exact = _best_tile(w_extent, o_extent, reduce_size, spec, group_out, partial=False)
    partial = _best_tile(w_extent, o_extent, reduce_size, spec, group_out, partial=True)
    # where exact tiles leave single columns (197 rows of a transformer's matmul: prime) or
    # a prime column count leaves one vector of all the columns (SqueezeNet's 13x13 convs),
    # a partial last tile instead, its rows predicated, its score discounted by the rows it
    # wastes (a 197x384x384 matmul: 1x12 -> 6x4 tiles, 1.04 -> 0.30 ms; the 13x13 512 ->
    # 1000 conv: 1x13 -> 3x7, 1.42 -> 1.32 ms on one thread)
    if exact[3] == 1 < w_extent or partial[0] > (exact[0][0], PARTIAL_GAIN * exact[0][1]):
        return partial[1:]
    return exact[1:]


def _best_tile(w_extent, o_extent, reduce_size, spec, group_out, partial: bool):
    """`tile_shape`'s search: (score, vector lanes, output vectors, columns); `partial` also
    admits column tiles that do not divide the columns."""
    group = group_out or o_extent  # the outputs that share each input broadcast
    vec = output_lanes(group, spec.lanes)
    vectors_per_group = group // vec
    best = None
    for o_vectors in range(1, min(o_extent // vec, spec.accumulators) + 1):
        if (o_extent // vec) % o_vectors:
            continue
        groups = -(-o_vectors // vectors_per_group)
        for w_block in range(1, min(w_extent, spec.accumulators // o_vectors) + 1):
            if w_extent % w_block and not partial:
                continue
            used = w_extent / (-(-w_extent // w_block) * w_block)  # 1 for an exact tile
            reuse = used * w_block * o_vectors / (w_block * groups + o_vectors)
            if not accumulators_on_stack(w_block, o_vectors, vec):
                reuse *= reduce_size / (reduce_size + HEAP_TILE_STEPS)
            fits_l2 = o_vectors * vec * reduce_size * 4 <= spec.l2_bytes
            score = (fits_l2 or o_vectors == 1, reuse)
            if best is None or score > best[0]:
                best = (score, o_vectors, w_block)
    return best[0], vec, best[1], best[2]


def _vector_read(block, buffer, var) -> bool:
    """Whether `block` reads `buffer` along `var` in its innermost dimension (a vector load)."""
    for region in block.reads:
        if region.source.same_as(buffer):
            return any(v.same_as(var) for v in tirx.analysis.undefined_vars(region.region[-1].min, []))
    return False


def _group_out(block, o_var) -> int | None:
    """Output channels per group when an input's channel (its innermost index) is read
    as `o // group_out * group_in + rc` with `group_in` > 1, the grouped-conv pattern (a
    depthwise conv's `o // multiplier` reads one channel per output: no gather); else None."""
    def find(node):
        if (isinstance(node, tirx.Mul) and isinstance(node.b, tirx.IntImm) and int(node.b) > 1
                and isinstance(node.a, tirx.FloorDiv) and node.a.a.same_as(o_var)
                and isinstance(node.a.b, tirx.IntImm)):
            return int(node.a.b)
        # index arithmetic is binary nodes down to variables and constants
        operands = [getattr(node, side) for side in ("a", "b") if hasattr(node, side)]
        return next((k for k in map(find, operands) if k is not None), None)

    return next((k for k in (find(r.region[-1].min) for r in block.reads if r.region) if k is not None), None)


def _feeds_only(sch, producer, consumers) -> bool:
    """Whether every block reading `producer`'s output is one of `consumers`."""
    found = sch.get_consumers(producer)
    return bool(found) and all(any(sch.get(c).same_as(sch.get(k)) for k in consumers) for c in found)


def _is_copy(block) -> bool:
    """Whether `block` only copies its input (the pad of an unpadded conv): nothing to compute once."""
    return isinstance(block.body, tirx.BufferStore) and isinstance(block.body.value, TensorLoad)


def schedule_rows(sch, block, lanes: int, parallel: bool):
    """Parallel over rows (every loop but the last two); a row's columns and channels fused
    into one vectorised loop when the vector width divides the row, else left nested.
    Fusing past the row, or fusing a row of 3 channels that cannot be vectorised, puts
    divisions by the row length and channel count into every element: that made an image
    stem's pad 2.6x slower than the conv itself."""
    loops = sch.get_loops(block)
    if len(loops) < 3:
        return vectorize_block(sch, block, lanes, parallel=parallel, fuse=False)
    row = sch.fuse(*loops[:-2]) if len(loops) > 3 else loops[0]
    if parallel:
        sch.parallel(row)
    extents = [sch.get(loop).extent for loop in loops[-2:]]
    if all(isinstance(e, tirx.IntImm) for e in extents) and int(extents[0]) * int(extents[1]) % lanes == 0:
        sch.fuse(*loops[-2:])
        vectorize_block(sch, block, lanes, after=row)


def _unroll_below(sch, block, after, accumulators: int):
    """Unroll the block's scalar loops below `after`, innermost first, as long as they
    cover no more than the tile's `accumulators` vectors: the write-back must index the
    accumulator tile with constants for LLVM to keep it in registers. An epilogue that broadcasts the
    tile over more (a squeeze-excite conv's 1x1 output scaling a 14x14 image) keeps its
    outer loops: unrolled, 2940 copies of a sigmoid took minutes to compile."""
    covered = 1
    for loop in reversed(loops_below(sch, block, after)):
        if sch.get(loop).kind != tirx.ForKind.SERIAL:
            continue
        covered *= int(sch.get(loop).extent)
        if covered > accumulators:
            break
        sch.unroll(loop)


def schedule_reduction(sch: tvm.s_tir.Schedule, spec: CpuSpec) -> bool:
    """Schedule `sch`'s function; False (before any change) when it is not a one-reduction
    kernel of this shape."""
    blocks = sch.get_child_blocks(sch.get_sblock("root"))
    reductions = [b for b in blocks if is_reduction(sch, b)]
    if len(reductions) != 1:
        return False
    main = reductions[0]
    block = sch.get(main)
    loops = sch.get_loops(main)
    iters = list(block.iter_vars)
    if len(loops) != len(iters) or len(block.writes) != 1:
        return False
    spatial = [i for i, iv in enumerate(iters) if iv.iter_type == _SPATIAL]
    reduce = [i for i, iv in enumerate(iters) if iv.iter_type == _REDUCE]
    if len(spatial) + len(reduce) != len(iters) or not spatial:
        return False
    innermost = block.writes[0].region[-1].min
    if not innermost.same_as(iters[spatial[-1]].var):
        return None  # the vectorised axis must be contiguous in the output
    position = blocks.index(main)
    prologue, epilogue = blocks[:position], blocks[position + 1:]
    for producer in reversed(prologue[:]):
        # elementwise work on the residual branch that the epilogue adds (its bias, when a
        # batch-norm folded into its conv): applied to the tile in registers, like the
        # epilogue. Last first: a chain of such blocks (two bias adds) then inlines whole,
        # each feeding the epilogue once the one after it is inlined
        if _feeds_only(sch, producer, epilogue):
            sch.compute_inline(producer)
            prologue.remove(producer)
    for consumer in epilogue[:-1]:
        sch.compute_inline(consumer)  # elementwise chain -> one write-back block
    o_loop = loops[spatial[-1]]
    extent = {i: int(iters[i].dom.extent) for i in spatial}
    row = row_axis([extent[i] for i in spatial])
    w_axis = spatial[row] if row is not None else None
    w_loop = loops[w_axis] if w_axis is not None else sch.add_unit_loop(o_loop)
    outer = [loops[i] for i in spatial[:-1] if i != w_axis]
    o_extent = extent[spatial[-1]]
    w_extent = extent[w_axis] if w_axis is not None else 1
    reduce_size = 1
    for i in reduce:
        reduce_size *= int(iters[i].dom.extent)
    vec, o_vectors, w_block = tile_shape(w_extent, o_extent, reduce_size, spec,
                                         _group_out(block, iters[spatial[-1]].var))
    # the accumulator tile on the stack: by TVM when small and "global", by sedge's TIR
    # pipeline when "local" (see STACK_BYTES)
    scope = "global" if accumulators_on_stack(w_block, o_vectors, vec) else "local"
    if epilogue:
        writer = epilogue[-1]
        sch.set_scope(main, 0, scope)
    else:
        writer = sch.cache_write(main, 0, scope)
    o_outer, o_inner, o_lanes = sch.split(o_loop, [None, o_vectors, vec])
    w_outer, w_inner = sch.split(w_loop, [None, w_block])
    reduce_loops = [loops[i] for i in reduce]
    if o_extent * reduce_size * 4 > spec.l2_bytes // 2:
        # large weights: output-channel tiles outermost, so one tile's weights stay in cache
        # while it sweeps the image (the image is re-read per tile, from cache)
        tiles = [o_outer, *outer, w_outer]
    else:
        # small weights (they stay cached anyway): the image is read once, every output
        # channel of a pixel computed while its inputs are in L1
        tiles = [*outer, w_outer, o_outer]
    sch.reorder(*tiles, *reduce_loops, w_inner, o_inner, o_lanes)
    tile = sch.fuse(*tiles)
    # the reduction's iterations; an epilogue that scales a whole image by the tile
    # (squeeze-excite) is work of its own (exact splits keep each nest's product)
    work = max(loop_work(sch, main), loop_work(sch, writer))
    if work >= spec.parallel_min_work:
        sch.parallel(tile)
    sch.unroll(w_inner)
    sch.unroll(o_inner)
    if vec > 1:
        sch.vectorize(o_lanes)
    sch.decompose_reduction(main, reduce_loops[0])

    sch.reverse_compute_at(writer, tile, preserve_unit_loops=True)
    # channels only: fused with the columns, 24 channels would read bias/scale vectors by
    # gather; in the accumulators' vectors (12 lanes for 24 channels, not 8)
    vectorize_block(sch, writer, vec, after=tile, fuse=False)
    _unroll_below(sch, writer, tile, w_block * o_vectors)
    for producer in prologue:
        if _is_copy(sch.get(producer)) or _vector_read(block, sch.get(producer).writes[0].source,
                                                        iters[spatial[-1]].var):
            sch.compute_inline(producer)  # depthwise / pooling pads: a select per vector, no extra pass
        else:  # a scalar broadcast per FMA: cheaper to pad the input once
            schedule_rows(sch, producer, spec.lanes, parallel=work >= spec.parallel_min_work)
    return True
