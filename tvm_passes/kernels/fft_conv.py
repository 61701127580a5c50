"""The band-limited conv's four pruned FFT passes as TIR, one transform per SIMD lane.

The `fft` lowering (passes/fft_conv.py) runs, per image, in NHWC:

1. `forward_w`: along W, the real rows x[b, h, :, c] (only the W nonzero points of the
   padded Wf-point axis) to the band's columns 0..nk-1: t (B, H, 2, nk, C);
2. `forward_h`: along H, the complex columns of t (only the H nonzero points of Hf) to the
   band's rows, written straight into the channel mixing's layout (kept, [re; im]: 2B, C);
3. the mixing (a batched matmul over the kept frequencies, not here): (kept, 2B, 2O);
4. `inverse_h`: the products combined into X conj(F) as they are read, then along H to the
   cropped, strided output rows only: u (B, Ho, 2, nk, O);
5. `inverse_w`: the Hermitian extension of the band's columns, along W to the cropped,
   strided output columns, the real part only, plus the bias: y (B, Ho, Wo, O).

Each pass is one program of kernels/fft_program.py (a pruned mixed-radix FFT of the
method's size, Rader's algorithm for its prime factors above 13) emitted as straight-line
vector code: the lanes are channels (contiguous in NHWC), so every butterfly is a vertical
vector add or multiply and nothing is shuffled (pocketfft's multi-transform layout). On a
GPU the lanes are a block's threads and the rows its blocks. The scale 1 / (Hf Wf) of the
inverse is in the filter spectra (passes/fft_conv.py), not here.
"""
from __future__ import annotations

from tvm import te, tirx
from tvm.script.ir_builder import IRBuilder
from tvm.script.ir_builder import tirx as T

from sedge.tvm_passes.kernels.fft_program import Program, forward_h, forward_w, inverse_h, inverse_w

KERNEL_TAG = "fft_conv_pass"
OPAQUE = 8  # relax's OpPatternKind.kOpaque: FuseOps fuses nothing into the kernel
GPU_LANES = 32


def _slots(prog: Program, outputs: list) -> tuple[list, dict, int]:
    """The live program in order with a scratch slot per value, a slot reused once the last
    reader of its value has run (linear scan): (order, slot of each value, slots needed)."""
    order = prog.live([part for pair in outputs for part in pair])
    last = {}
    for i, v in enumerate(order):
        node = prog.nodes[v]
        for a in node.args[:2] if node.op in ("add", "sub") else node.args[:1] if node.op != "in" else ():
            last[a] = i
    free, slot, count = [], {}, 0
    for i, v in enumerate(order):
        node = prog.nodes[v]
        if node.op != "in":
            for a in set(node.args[:2] if node.op in ("add", "sub") else node.args[:1]):
                if last[a] == i:
                    free.append(slot[a])
        if free:
            slot[v] = free.pop()
        else:
            slot[v], count = count, count + 1
    return order, slot, count


def _emit(prog: Program, outputs: list, load, store, scratch, lane, dtype: str):
    """The live program as stores to the (slots x lanes) scratch, each output stored as soon
    as it is computed: load(key) gives an input's value, store(i, part, value) writes part (0
    re, 1 im) of output i. Scratch slots, not let-bindings: TVM's TIR passes take minutes
    over a few thousand flat bindings, and LLVM keeps the slots in registers all the same."""
    order, slot, _ = _slots(prog, outputs)
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


def _lanes_loop(rows: int, channels: int, lanes: int, slots: int, gpu: bool, body):
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
        scratch = T.buffer_proxy(T.decl_buffer([slots, width], "float32", scope="local"))
        with inner(width) as lane:
            c = (i % blocks) * width + lane
            body(i // blocks, c if channels % width == 0 else tirx.min(c, channels - 1), scratch, lane)


def _func(name, inputs, out_shape, gen):
    """A private (add_func names it), scheduled, fusion-opaque PrimFunc from te placeholders."""
    def build(ins, outs):
        with IRBuilder() as ib:
            gen(*(T.buffer_proxy(b) for b in ins), T.buffer_proxy(outs[0]))
        return ib.get()
    y = te.extern([out_shape], inputs, build, dtype=["float32"], name=name, tag=KERNEL_TAG)
    func = te.create_prim_func(list(inputs) + [y])
    return func.without_attr("global_symbol").with_attr({"tirx.is_scheduled": True, "op_pattern": OPAQUE})


def _run(prog, outs, rows, channels, lanes, gpu, load, store):
    """The program once per (row, channel): load(row, c, key) reads an input, store(row, c,
    i, part, value) writes an output."""
    slots = _slots(prog, outs)[2]

    def body(row, c, scratch, lane):
        _emit(prog, outs, lambda key: load(row, c, key), lambda i, part, v: store(row, c, i, part, v),
              scratch, lane, "float32")
    _lanes_loop(rows, channels, lanes, slots, gpu, body)


def forward_w_func(batch, H, W, C, wf, padding, nk, lanes, gpu=False):
    """(B, H, W, C) -> (B, H, 2, nk, C)."""
    prog, outs = forward_w(wf, W, padding, nk)
    x = te.placeholder((batch, H, W, C), "float32", "x")

    def gen(xs, ts):
        def store(row, c, k, part, v):
            ts[row // H, row % H, part, k, c] = v
        _run(prog, outs, batch * H, C, lanes, gpu, lambda row, c, key: xs[row // H, row % H, key[1], c], store)
    return _func("fft_forward_w", [x], (batch, H, 2, nk, C), gen)


def forward_h_func(batch, H, C, hf, padding, rows, nk, lanes, gpu=False):
    """(B, H, 2, nk, C) -> (nr nk, 2B, C): X[r, k] at [ri nk + k, part B + b, c]."""
    prog, outs = forward_h(hf, H, padding, rows)
    t = te.placeholder((batch, H, 2, nk, C), "float32", "t")

    def gen(ts, xs):
        def load(row, c, key):
            return ts[row // nk, key[1], int(key[0] == "im"), row % nk, c]

        def store(row, c, ri, part, v):
            xs[ri * nk + row % nk, part * batch + row // nk, c] = v
        _run(prog, outs, batch * nk, C, lanes, gpu, load, store)
    return _func("fft_forward_h", [t], (len(rows) * nk, 2 * batch, C), gen)


def inverse_h_func(batch, O, hf, rows, nk, out_rows, lanes, gpu=False):
    """The mixing's products (kept, 2B, 2O) ([Xr; Xi] x [Fr, Fi]) -> u (B, Ho, 2, nk, O):
    Y = X conj(F) (re = Xr Fr + Xi Fi, im = Xi Fr - Xr Fi) along H to the output rows."""
    prog, outs = inverse_h(hf, rows, out_rows)
    p = te.placeholder((len(rows) * nk, 2 * batch, 2 * O), "float32", "products")

    def gen(ps, us):
        def load(row, o, key):
            f, b = key[1] * nk + row % nk, row // nk
            if key[0] == "re":
                return ps[f, b, o] + ps[f, batch + b, O + o]
            return ps[f, batch + b, o] - ps[f, b, O + o]

        def store(row, o, i, part, v):
            us[row // nk, i, part, row % nk, o] = v
        _run(prog, outs, batch * nk, O, lanes, gpu, load, store)
    return _func("fft_inverse_h", [p], (batch, len(out_rows), 2, nk, O), gen)


def inverse_w_func(batch, O, wf, nk, h_out, out_cols, lanes, bias=False, gpu=False):
    """u (B, Ho, 2, nk, O)[, bias (O,)] -> y (B, Ho, Wo, O)."""
    prog, outs = inverse_w(wf, nk, out_cols)
    u = te.placeholder((batch, h_out, 2, nk, O), "float32", "u")
    inputs = [u] + ([te.placeholder((O,), "float32", "bias")] if bias else [])

    def gen(us, *rest):
        bs, ys = (rest[0], rest[1]) if bias else (None, rest[0])

        def load(row, o, key):
            return us[row // h_out, row % h_out, int(key[0] == "im"), key[1], o]

        def store(row, o, j, part, v):
            if part == 0:
                ys[row // h_out, row % h_out, j, o] = v + bs[o] if bias else v
        _run(prog, outs, batch * h_out, O, lanes, gpu, load, store)
    return _func("fft_inverse_w", inputs, (batch, h_out, len(out_cols), O), gen)
