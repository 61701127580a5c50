"""Straight-line programs (kernels/fft_program.py's `Program`) run as TIR, one instance per
SIMD lane.

A kernel here applies one small linear program along one axis of an NHWC tensor, for every
row of the other axes and every channel: the channels (contiguous) are the lanes, so each
operation of the program is one vertical vector operation and nothing is shuffled. The
program is emitted as stores to a (slots x lanes) scratch whose slots are reused once a
value's last reader has run (linear scan): LLVM keeps them in registers. Not as TIR
let-bindings: TVM's TIR passes took 2-290 s over a few thousand flat bindings, against
0.2-1.7 s for the stores. On a GPU the lanes are a block's threads and the rows its blocks.
Used by the FFT conv's passes (kernels/fft_conv.py).
"""
from __future__ import annotations

from tvm import te, tirx
from tvm.script.ir_builder import IRBuilder
from tvm.script.ir_builder import tirx as T

from sedge.tvm_passes.kernels import OPAQUE
from sedge.tvm_passes.kernels.fft_program import Program

KERNEL_TAG = "lane_program"
GPU_LANES = 32


def slots(prog: Program, outputs: list) -> tuple[list, dict, int]:
    """The live program in order with a scratch slot per value, a slot reused once the last
    reader of its value has run (linear scan): (order, slot of each value, slots needed)."""
    order = prog.live([part for pair in outputs for part in pair])
    last = {a: i for i, v in enumerate(order) for a in prog.nodes[v].operands}
    free, slot, count = [], {}, 0
    for i, v in enumerate(order):
        free.extend(slot[a] for a in set(prog.nodes[v].operands) if last[a] == i)
        if free:
            slot[v] = free.pop()
        else:
            slot[v], count = count, count + 1
    return order, slot, count


def emit(prog: Program, outputs: list, order: list, slot: dict, load, store, scratch, lane, dtype: str):
    """The live program (`order`, `slot`: as `slots` gives them) as stores to the (slots x
    lanes) scratch, each output stored as soon as it is computed: load(key) gives an input's
    value, store(i, part, value) writes part (0 re, 1 im) of output i. Scratch slots, not
    let-bindings: TVM's TIR passes take minutes over a few thousand flat bindings, and LLVM
    keeps the slots in registers all the same."""
    readers = {}
    for i, pair in enumerate(outputs):
        for part, v in enumerate(pair):
            if v is None:
                store(i, part, tirx.const(0.0, dtype))
            else:
                readers.setdefault(v, []).append((i, part))

    def at(v):
        return scratch[slot[v], lane]
    for v in order:
        node = prog.nodes[v]
        if node.op == "in":
            e = load(node.args[0])
        elif node.op == "mul":
            e = at(node.args[0]) * tirx.const(node.args[1], dtype)
        elif node.op == "neg":
            e = -at(node.args[0])
        else:
            e = at(node.args[0]) + at(node.args[1]) if node.op == "add" else at(node.args[0]) - at(node.args[1])
        scratch[slot[v], lane] = e
        for i, part in readers.get(v, ()):
            store(i, part, at(v))


def lanes_loop(rows: int, channels: int, lanes: int, count: int, gpu: bool, body):
    """body(row, channel, scratch, lane) over rows x channels: channels in blocks of `lanes`
    across the SIMD lanes (GPU: threads), rows x blocks in parallel (GPU: blocks), a (slots x
    lanes) scratch per block. A channel past the last repeats it (the same value to the same
    place)."""
    width = min(lanes, channels)
    blocks = -(-channels // width)
    outer = (lambda n: T.thread_binding(0, n, "blockIdx.x")) if gpu else \
        (lambda n: (T.parallel if n > 1 else T.serial)(0, n))
    inner = (lambda n: T.thread_binding(0, n, "threadIdx.x")) if gpu else (lambda n: T.vectorized(0, n))
    with outer(rows * blocks) as i:
        scratch = T.buffer_proxy(T.decl_buffer([count, width], "float32", scope="local"))
        with inner(width) as lane:
            c = (i % blocks) * width + lane
            body(i // blocks, c if channels % width == 0 else tirx.min(c, channels - 1), scratch, lane)


def opaque_func(name, inputs, out_shape, gen):
    """A private (add_func names it), scheduled, fusion-opaque PrimFunc from te placeholders."""
    def build(ins, outs):
        with IRBuilder() as ib:
            gen(*(T.buffer_proxy(b) for b in ins), T.buffer_proxy(outs[0]))
        return ib.get()
    y = te.extern([out_shape], inputs, build, dtype=["float32"], name=name, tag=KERNEL_TAG)
    func = te.create_prim_func(list(inputs) + [y])
    return func.without_attr("global_symbol").with_attr({"tirx.is_scheduled": True, "op_pattern": OPAQUE})


def run_per_lane(prog, outs, rows, channels, lanes, gpu, load, store):
    """The program once per (row, channel): load(row, c, key) reads an input, store(row, c,
    i, part, value) writes an output."""
    order, slot, count = slots(prog, outs)

    def body(row, c, scratch, lane):
        emit(prog, outs, order, slot, lambda key: load(row, c, key), lambda i, part, v: store(row, c, i, part, v),
             scratch, lane, "float32")
    lanes_loop(rows, channels, lanes, count, gpu, body)
