"""The add-only 3-D sum-pool of a structured convolution (methods.md §1), channels-last.

    x (B, H, W, G*Cg)  ->  y (B, Ho, Wo, G*c)
    y[b, ho, wo, g*c + ci] = sum over i, j < k, q < kc of
                             xpad[b, ho + d_h*i, wo + d_w*j, g*Cg + ci + q]

with kc = Cg - c + 1 the channel window, k = N - n + 1 the spatial window, stride 1, the
layer's zero padding (top, left, bottom, right) and dilation; Ho = H + pt + pb - d_h(k-1).

The box sum is separable and computed one output row (b, ho) at a time, rows in parallel:
1. vertical: the k input rows d_h apart summed (k - 1 adds per element; rows in the padding
   are skipped, so the image's first and last rows take the slow branch only);
2. channel window: per pixel and group, a running sum over the c outputs, each the one
   before it plus the channel entering the window less the one leaving it — 2 adds per
   output whatever the window, where a direct sum costs kc - 1 and the importer's band 1x1
   conv kc multiply-adds. It runs a vector of outputs at a time: the vector's differences'
   own prefix in log2(lanes) shifted adds, plus a carry (the outputs before it);
3. horizontal: the row, zero-padded left and right in a scratch row, summed at k columns
   d_w apart (k - 1 adds per output).
A 2x2 window alone (n = N - 1, Struct-ResNet-A) is instead summed directly from the input
rows, 3 adds per output and no scratch row (the rows whose window reaches into the padding
keep the passes). Every channel loop is vectorised along the contiguous channels. There is no multiply in the
kernel's arithmetic (indices aside); tests check its TIR for one.

The kernel is written loop by loop (a running sum is no block a schedule rule can take), so
it carries its own schedule: the function is marked scheduled and opaque to fusion.
"""
from __future__ import annotations

import numpy as np
from tvm import te, tirx
from tvm.script.ir_builder import IRBuilder
from tvm.script.ir_builder import tirx as T

from sedge.tvm_passes.kernels import OPAQUE  # noqa: F401 (the pass and tests take it from here)
from sedge.tvm_passes.schedules.injective import vector_lanes

KERNEL_NAME = "sedge_sum_pool"
# the kernel's attribute holding its geometry ({"window", "channel_window", "pads", "dilation"}),
# by which the Winograd rewrite finds a spatial pool it can fold into its input transform
SUM_POOL_ATTR = "sedge.sum_pool"
# the spatial window summed directly from the input rows (wider ones: the separable passes)
DIRECT_WINDOW = 2


def _offset(base, index):
    """`base + index` where `index` may be a vector of consecutive indices (a Ramp): one Ramp
    from the sum, as TIR's region analysis needs, not a Broadcast added to a Ramp."""
    if isinstance(index, tirx.Ramp):
        return T.ramp(base + index.base, index.stride, index.lanes)
    return base + index


def _let(variables, values, body):
    """`body` with each variable bound to its value, the first outermost."""
    for var, value in reversed(list(zip(variables, values))):
        body = tirx.Let(var, value, body)
    return body


def scan_zeros(channels: int, groups: int, c: int, lanes: int) -> dict:
    """`sum_pool_nhwc`'s `zeros` keyword for a pool of `channels` input channels: the zero
    vector as a constant input where the pool has a channel window (its scan shifts them in;
    12-20% faster channel-window pools, one thread, docs/structured-kernels.md), else nothing."""
    from tvm import relax

    if channels // groups - c + 1 == 1:
        return {}
    return {"zeros": relax.const(np.zeros(lanes, "float32"))}


def pooled_size(size: int, before: int, after: int, dilation: int, window: int) -> int:
    return size + before + after - dilation * (window - 1)


def scan_steps(c: int, lanes: int) -> list[tuple[int, int]]:
    """(first output, width) of each step of the channel window's running sum over `c` outputs:
    vectors of the widest power of two (<= `lanes`) that `c` holds, then one each of the
    narrower powers of two its remainder is made of (c = 72: four of 16 and one of 8, where
    vectors dividing 72 would be nine of 8)."""
    width = min(lanes, 1 << (c.bit_length() - 1))
    steps = [(start, width) for start in range(0, c - c % width, width)]
    start = len(steps) * width
    while width > 1:
        width //= 2
        if c - start >= width:
            steps.append((start, width))
            start += width
    return steps


def _running_sum(vert_at, chan_store, W: int, groups: int, Cg: int, c: int, lanes: int, zs, dtype: str):
    """Emit the channel window of a row: per pixel and group, each of the c outputs the one
    before it plus the channel entering the window less the one leaving it,
    y[j] = y[j-1] + s[j+kc-1] - s[j-1], with `vert_at(w, ch)` the row's (vertically summed)
    input and `chan_store(w, ch, value)` the output. A vector of outputs at a time
    (`scan_steps`), in registers: the vector's entering-less-leaving differences (two loads,
    one unaligned, and a subtract), their own prefix in log2(width) shifted adds (a shuffle
    each, no multiply), plus the carry, the output before the vector in every lane (one add
    per vector on the carry's chain). The carry starts at the first window less its last
    channel. The scan is c long, where a prefix sum over the Cg input channels with each
    output the difference of two prefixes scanned c + kc - 1 (Struct-MV2-B's windows: twice
    as long) and read its prefixes back from memory. `zs`: the zero vector the shifts bring
    in, an input (`scan_zeros`) or None."""
    kc = Cg - c + 1
    steps = scan_steps(c, lanes)
    main = steps[0][1]

    def lanes_of(width):
        return T.ramp(0, 1, width) if width > 1 else 0

    def zero(width):
        return tirx.Broadcast(tirx.const(0, dtype), width) if width > 1 else tirx.const(0, dtype)

    fill = zs[lanes_of(main)] if zs is not None and main > 1 else zero(main)
    carry = T.buffer_proxy(T.decl_buffer([main], dtype, scope="local"))
    scan = T.buffer_proxy(T.decl_buffer([main], dtype, scope="local"))

    def shifted_up(vector, shift, width):
        """`vector`'s lanes moved `shift` up, the zeros brought in below."""
        return tirx.Shuffle([fill, vector], [tirx.IntImm("int32", i if i < shift else main + i - shift)
                                             for i in range(width)])

    def prefix_of(vector, width):
        """The in-vector inclusive prefix, each step's vector bound once (a Let)."""
        if width == 1:
            return vector
        stages = [tirx.Var(f"scan{stage}", f"{dtype}x{width}") for stage in range(width.bit_length())]
        values = [vector] + [var + shifted_up(var, 1 << stage, width) for stage, var in enumerate(stages[:-1])]
        return _let(stages, values, stages[-1])

    def spread(vector, width):
        """`vector`'s last lane in every lane of the carry."""
        if width == main:
            return tirx.Shuffle([vector], [tirx.IntImm("int32", width - 1)] * main) if main > 1 else vector
        last = tirx.Shuffle([vector], [tirx.IntImm("int32", width - 1)]) if width > 1 else vector
        return tirx.Broadcast(last, main)

    def across_lanes(vector):
        """The sum of `vector`'s lanes in every lane: each lane plus its partner `half` lanes
        away, for halves of the vector down to one lane (one single-source shuffle each)."""
        half = main // 2
        while half:
            vector = vector + tirx.Shuffle([vector], [tirx.IntImm("int32", i ^ half) for i in range(main)])
            half //= 2
        return vector

    with T.serial(0, W) as w, T.serial(0, groups) as g:
        base = g * Cg

        def channels(first, width):
            return vert_at(w, T.ramp(first, 1, width) if width > 1 else first)

        # the first window less its last channel, summed into every lane: the channels a vector
        # at a time, the lanes past kc - 1 of the last vector masked off (it stays inside the
        # group: c >= the vector), then across the lanes
        carry[lanes_of(main)] = zero(main)
        with T.serial(0, (kc - 1) // main) as j:
            carry[lanes_of(main)] = carry[lanes_of(main)] + channels(base + j * main, main)
        if (kc - 1) % main:
            tail = (kc - 1) // main * main
            carry[lanes_of(main)] = carry[lanes_of(main)] + tirx.Select(
                lanes_of(main) < tirx.Broadcast(tirx.IntImm("int32", kc - 1 - tail), main),
                channels(base + tail, main), zero(main))
        carry[lanes_of(main)] = across_lanes(carry[lanes_of(main)])

        def step(first, width, leaving):
            scan[lanes_of(width)] = prefix_of(channels(base + kc - 1 + first, width) - leaving, width)
            chan_store(w, T.ramp(g * c + first, 1, width) if width > 1 else g * c + first,
                       scan[lanes_of(width)] + carry[lanes_of(width)])
            carry[lanes_of(main)] = carry[lanes_of(main)] + spread(scan[lanes_of(width)], width)

        # the first output leaves no channel: the first vector's leaving channels are its own
        # shifted up one lane, a zero brought in
        step(0, main, shifted_up(channels(base, main), 1, main) if main > 1 else zero(1))
        whole = sum(1 for _, width in steps if width == main)
        if whole > 1:
            with T.serial(1, whole) as j:
                step(j * main, main, channels(base + j * main - 1, main))
        for first, width in steps[whole:]:
            step(first, width, channels(base + first - 1, width))


def sum_pool_nhwc(x: te.Tensor, groups: int, c: int, window: int, pads, dilation, lanes: int,
                  zeros: te.Tensor | None = None) -> te.Tensor:
    """The sum-pool of `x` (B, H, W, groups*Cg) as a TE extern tensor (B, Ho, Wo, groups*c).

    `zeros` (lanes,): the zero vector the channel scan shifts in (`scan_zeros`), an input and
    not a constant: with a constant zero LLVM lowers each shift as a zero-masked `vexpandps`
    (two uops), with an input it takes one two-source permute (`vpermt2ps`)."""
    B, H, W, C = (int(d) for d in x.shape)
    Cg = C // groups
    kc, k = Cg - c + 1, window
    pt, pl, pb, pr = (int(p) for p in pads)
    dh, dw = (int(d) for d in dilation)
    Ho, Wo = pooled_size(H, pt, pb, dh, k), pooled_size(W, pl, pr, dw, k)
    Co = groups * c
    Wp = W + pl + pr  # the padded row the horizontal pass reads
    dtype = x.dtype

    def vec_loop(extent: int):
        """A loop over `extent` channels in vectors of the widest width that divides it."""
        width = vector_lanes(extent, lanes)
        return width

    def for_channels(extent: int, body):
        width = vec_loop(extent)
        if width == 1:
            with T.serial(0, extent) as ch:
                body(ch)
            return
        with T.serial(0, extent // width) as outer:
            with T.vectorized(0, width) as lane:
                body(outer * width + lane)

    def gen(x_buf, y_buf, z_buf=None):
        with IRBuilder() as ib:
            zs = T.buffer_proxy(z_buf) if z_buf is not None else None
            xs = T.buffer_proxy(x_buf)
            ys = T.buffer_proxy(y_buf)
            with T.parallel(0, B * Ho) as row:
                b = row // Ho
                ho = row % Ho

                def x_at(i, w, ch):  # input row i of the window (valid rows only)
                    return xs[b, ho - pt + dh * i, w, ch]

                def row_valid(i):
                    hi = ho - pt + dh * i
                    return tirx.all(hi >= 0, hi < H)

                def separable_row():
                    # the padded row (Wp, Co) the horizontal pass reads, or the output row itself
                    # when there is no horizontal pass (k = 1, no left/right padding)
                    direct_out = k == 1 and pl == 0 and pr == 0
                    if direct_out:
                        def chan_store(w, ch, value):
                            ys[b, ho, w, ch] = value
                    else:
                        chan_buf = T.decl_buffer([Wp * Co], dtype, scope="local")
                        chan = T.buffer_proxy(chan_buf)

                        def chan_store(w, ch, value):
                            chan[_offset((w + pl) * Co, ch)] = value

                        def chan_at(w, ch):
                            return chan[w * Co + ch]

                        for edge in [*range(pl), *range(pl + W, Wp)]:  # the zero padding columns
                            def zero_column(ch, edge=edge):
                                chan[edge * Co + ch] = tirx.const(0, dtype)
                            for_channels(Co, zero_column)

                    # 1. vertical pass: into the padded row when there is no channel window
                    # (kc = 1: Co = C), else into a scratch row (W, C) for the channel pass;
                    # nothing when k = 1 and unpadded (the channel pass reads the input row)
                    if k == 1 and pt == 0 and pb == 0:
                        def vert_at(w, ch):
                            return x_at(0, w, ch)
                        vert_store = None
                    elif kc == 1:
                        vert_store, vert_at = chan_store, None
                    else:
                        vert_buf = T.decl_buffer([W * C], dtype, scope="local")
                        vert = T.buffer_proxy(vert_buf)

                        def vert_store(w, ch, value):
                            vert[w * C + ch] = value

                        def vert_at(w, ch):
                            return vert[_offset(w * C, ch)]

                    if vert_store is not None:
                        load = (lambda w, ch: vert[w * C + ch]) if vert_at is not None else None
                        if load is None:  # reading back what chan_store wrote
                            def load(w, ch):
                                return ys[b, ho, w, ch] if direct_out else chan[(w + pl) * Co + ch]
                        with T.If(tirx.all(row_valid(0), row_valid(k - 1))):
                            with T.Then():  # every row of the window inside the image: k - 1 adds
                                with T.serial(0, W) as w:
                                    def direct(ch, w=w):
                                        total = x_at(0, w, ch)
                                        for i in range(1, k):
                                            total = total + x_at(i, w, ch)
                                        vert_store(w, ch, total)
                                    for_channels(C, direct)
                            with T.Else():  # a row of the window in the padding (first / last rows)
                                with T.serial(0, W) as w:
                                    for_channels(C, lambda ch, w=w: vert_store(w, ch, tirx.const(0, dtype)))
                                for i in range(k):
                                    with T.If(row_valid(i)):
                                        with T.Then():
                                            with T.serial(0, W) as w:
                                                def accumulate(ch, w=w, i=i):
                                                    vert_store(w, ch, load(w, ch) + x_at(i, w, ch))
                                                for_channels(C, accumulate)

                    # 2. channel window: a running sum across each pixel's channels (_running_sum)
                    if kc > 1:
                        _running_sum(vert_at, chan_store, W, groups, Cg, c, lanes, zs, dtype)
                    elif vert_store is None:  # k = 1, kc = 1: a copy (the pass never emits it)
                        with T.serial(0, W) as w:
                            for_channels(C, lambda ch, w=w: chan_store(w, ch, vert_at(w, ch)))

                    # 3. horizontal pass over the padded row
                    if not direct_out:
                        with T.serial(0, Wo) as wo:
                            def horizontal(ch, wo=wo):
                                total = chan_at(wo, ch)
                                for j in range(1, k):
                                    total = total + chan_at(wo + dw * j, ch)
                                ys[b, ho, wo, ch] = total
                            for_channels(Co, horizontal)
                # a 2x2 spatial window without a channel window (Struct-ResNet-A's, the depthwise
                # layers of Struct-MV2-B): each output the window's 4 inputs summed straight from
                # the input rows, no scratch row and no second pass (1.25-1.9x faster than the
                # separable passes, one thread, 56x56x64 to 14x14x512, and as fast as a
                # depthwise all-ones conv); the window's columns in the padding dropped at the
                # row's ends
                interior = W - dw * (k - 1)  # the output columns whose whole window is inside
                if kc == 1 and k == DIRECT_WINDOW and interior > 0:
                    def store_window(wo, columns):
                        def body(ch):
                            terms = [x_at(i, wo - pl + dw * j, ch) for i in range(k) for j in columns]
                            total = terms[0] if terms else tirx.const(0, dtype)
                            for term in terms[1:]:
                                total = total + term
                            ys[b, ho, wo, ch] = total
                        for_channels(C, body)

                    with T.If(tirx.all(*[row_valid(i) for i in range(k)])):
                        with T.Then():
                            for wo in [*range(min(pl, Wo)), *range(pl + interior, Wo)]:  # the ends
                                store_window(wo, [j for j in range(k) if 0 <= wo - pl + dw * j < W])
                            with T.serial(pl, pl + interior) as wo:
                                store_window(wo, range(k))
                        with T.Else():  # a row of the window in the padding: the first / last rows
                            separable_row()
                else:
                    separable_row()
        return ib.get()

    inputs = [x] + ([zeros] if zeros is not None else [])
    return te.extern([(B, Ho, Wo, Co)], inputs, lambda ins, outs: gen(ins[0], outs[0], *ins[1:]), dtype=[dtype],
                     name="sum_pool", tag="sum_pool")
