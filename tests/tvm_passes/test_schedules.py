"""The CPU schedules: numerics of every kernel shape they claim, and proof they were applied.

Each case is an NCHW Relax model (as the importers produce) compiled through sedge's whole
pipeline (channels-last rewrite, fusion, schedules) and compared with PyTorch; shapes are
small and deliberately odd: channel counts that are not a multiple of the vector width,
stride 2, padding, batch > 1, depthwise, 1x1, unpadded 2x2, grouped 1x1, dense.
"""
import re

import numpy as np
import pytest
import torch
import tvm
from compiled_models import AVX2, HOST, one_op_model, run_compiled, scheduled_kernels
from tvm import relax, tirx

from sedge.frontend.loaders import load_model
from sedge.tvm_passes import schedules
from sedge.tvm_passes.pipeline import sedge_pipeline
from sedge.tvm_passes.schedules import unscheduled_kernels
from sedge.tvm_passes.schedules.cpu import cpu_spec

RTOL = 1e-4  # max |sedge - torch| / max |torch|


def _conv_block(x_shape, w_shape, stride, padding, groups, residual):
    """conv -> +bias -> relu (-> +x), the fused pattern of residual CNNs."""
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(x_shape, "float32"))
    w = relax.Var("w", relax.TensorType(w_shape, "float32"))
    b = relax.Var("b", relax.TensorType((1, w_shape[0], 1, 1), "float32"))
    with bb.function("main", [x, w, b], {"num_input": 1}):
        with bb.dataflow():
            y = relax.op.nn.conv2d(x, w, strides=stride, padding=padding, groups=groups)
            y = relax.op.nn.relu(relax.op.add(y, b))
            if residual:
                y = relax.op.add(y, x)
            out = bb.emit_output(y)
        bb.emit_func_output(out)
    return bb.get()


def _close(got, want):
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= RTOL * np.max(np.abs(want))


CONVS = {  # name: (input NCHW, out channels, kernel, stride, padding, groups)
    "3x3 odd channels": ((1, 5, 9, 11), 24, 3, 1, 1, 1),
    "3x3 stride 2 batch 2": ((2, 8, 10, 10), 20, 3, 2, 1, 1),
    "7x7 stride 2 rgb": ((1, 3, 17, 17), 16, 7, 2, 3, 1),
    "3x3 stride 2 rgb batch 2": ((2, 3, 11, 13), 16, 3, 2, 1, 1),  # pad rows over batch and height
    "1x1": ((1, 24, 7, 7), 40, 1, 1, 0, 1),
    "1x1 stride 2": ((1, 16, 8, 8), 32, 1, 2, 0, 1),
    "2x2 unpadded": ((1, 16, 9, 9), 16, 2, 1, 0, 1),
    "depthwise 3x3": ((1, 24, 9, 9), 24, 3, 1, 1, 24),
    "depthwise stride 2": ((2, 40, 9, 9), 40, 3, 2, 1, 40),
    "grouped 1x1": ((1, 32, 6, 6), 32, 1, 1, 0, 4),
    # output channels no multiple of the vector width: half-width vectors, written back per pixel
    "1x1 24 out": ((1, 40, 6, 10), 24, 1, 1, 0, 1),
    "1x1 odd in 12 out": ((1, 7, 5, 5), 12, 1, 1, 0, 1),
    "grouped 3x3 odd": ((1, 6, 7, 7), 9, 3, 1, 1, 3),
    # shuffle layers (wrn-28-10-shuffle-8): 5 and 20 outputs per group, vectors inside a group
    "grouped 1x1 5 per group": ((1, 160, 4, 5), 40, 1, 1, 0, 8),
    "grouped 1x1 20 per group batch 2": ((2, 40, 3, 4), 160, 1, 1, 0, 8),
    # more output channels than one register tile: weights packed per tile (packed_conv.py)
    "3x3 packed tiles": ((1, 32, 7, 7), 64, 3, 1, 1, 1),
    "grouped 3x3 packed tiles": ((1, 64, 7, 7), 128, 3, 1, 1, 2),
    "depthwise packed tiles": ((2, 128, 7, 7), 128, 3, 1, 1, 128),
    # weights over half the L2 (1.2 MB): output-channel tiles outermost instead of pixels
    "3x3 large weights stride 2": ((1, 128, 9, 9), 256, 3, 2, 1, 1),
    # 29 columns (prime, wider than a register tile): partial last column tiles
    "3x3 prime width": ((1, 8, 3, 29), 16, 3, 1, 1, 1),
    # ShuffleNet v2's 58 and 116 channels: computed in whole vectors, the padding sliced off
    "1x1 58 out": ((1, 24, 5, 7), 58, 1, 1, 0, 1),
    "1x1 116 residual batch 2": ((2, 116, 5, 5), 116, 1, 1, 0, 1),
    "3x3 58 out stride 2": ((1, 24, 9, 9), 58, 3, 2, 1, 1),
}


@pytest.mark.parametrize("target", [HOST, AVX2], ids=["host", "avx2"])
@pytest.mark.parametrize("name", list(CONVS))
def test_conv_numerics(name, target):
    shape, out_channels, kernel, stride, padding, groups = CONVS[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((out_channels, shape[1] // groups, kernel, kernel), dtype=np.float32)
    b = rng.standard_normal((1, out_channels, 1, 1), dtype=np.float32)
    residual = out_channels == shape[1] and stride == 1 and kernel % 2 == 1
    got = run_compiled(_conv_block(shape, w.shape, stride, padding, groups, residual), target, [x], [w, b])
    want = torch.relu(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), stride=stride,
                                                 padding=padding, groups=groups) + torch.tensor(b))
    _close(got, (want + torch.tensor(x) if residual else want).numpy())


def _head_model(x_shape, classes):
    """max-pool -> global mean -> dense + bias: the pooling and classifier kernels."""
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(x_shape, "float32"))
    w = relax.Var("w", relax.TensorType((classes, x_shape[1]), "float32"))
    b = relax.Var("b", relax.TensorType((classes,), "float32"))
    with bb.function("main", [x, w, b], {"num_input": 1}):
        with bb.dataflow():
            y = relax.op.nn.max_pool2d(x, pool_size=3, strides=2, padding=1)
            y = relax.op.mean(y, axis=[2, 3])
            y = relax.op.add(relax.op.matmul(y, relax.op.permute_dims(w)), b)
            out = bb.emit_output(y)
        bb.emit_func_output(out)
    return bb.get()


def test_pool_mean_dense_numerics():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 20, 11, 11), dtype=np.float32)
    w = rng.standard_normal((10, 20), dtype=np.float32)
    b = rng.standard_normal(10, dtype=np.float32)
    got = run_compiled(_head_model(x.shape, 10), HOST, [x], [w, b])
    pooled = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1).mean((2, 3))
    _close(got, (pooled @ torch.tensor(w).T + torch.tensor(b)).numpy())


TRANSPOSES = {  # name: (input shape, axes)
    "NCHW -> NHWC, rows 4 KiB apart": ((1, 160, 32, 32), (0, 2, 3, 1)),
    "NHWC -> NCHW batch 2, odd sizes": ((2, 7, 9, 40), (0, 3, 1, 2)),
    "NHWC -> NCHW, rows shorter than a vector": ((1, 6, 5, 24), (0, 3, 1, 2)),
    "NCHW -> NHWC, RGB": ((1, 3, 20, 24), (0, 2, 3, 1)),
    "2D": ((24, 36), (1, 0)),
}


@pytest.mark.parametrize("target", [HOST, AVX2], ids=["host", "avx2"])
@pytest.mark.parametrize("name", list(TRANSPOSES))
def test_transpose_numerics(name, target):
    shape, axes = TRANSPOSES[name]
    x = np.random.default_rng(2).standard_normal(shape, dtype=np.float32)
    got = run_compiled(one_op_model(lambda v: relax.op.permute_dims(v, axes), shape), target, [x])
    np.testing.assert_array_equal(got, x.transpose(axes))


def _loop_chain(func):
    """(kind, extent) of each loop around the kernel's last block, outermost first."""
    sch = tvm.s_tir.Schedule(func)
    block = sch.get_child_blocks(sch.get_sblock("root"))[-1]
    return [(sch.get(loop).kind, int(sch.get(loop).extent)) for loop in sch.get_loops(block)]


@pytest.mark.parametrize("shape, axes, rows, lanes", [
    ((1, 160, 32, 32), (0, 2, 3, 1), 16, 16),  # a model's NCHW input, channels last
    ((2, 32, 32, 40), (0, 3, 1, 2), 8, 16),  # and back, batch 2: rows of 40 channels, 32 columns
])
def test_transposes_run_in_tiles_of_vectors(shape, axes, rows, lanes):
    """Each input row is read for a tile of consecutive output vectors (tile_transpose), not
    one element per vector (0.29 ms for the 160x32x32 transpose, 39 us in tiles)."""
    funcs = scheduled_kernels(one_op_model(lambda v: relax.op.permute_dims(v, axes), shape), HOST)
    (func,) = [f for name, f in funcs.items() if "transpose" in name]
    chain = _loop_chain(func)
    assert chain[0][0] == tirx.ForKind.PARALLEL
    assert chain[-2] == (tirx.ForKind.SERIAL, rows), f"rows of the input per tile: {chain}"
    assert chain[-1] == (tirx.ForKind.VECTORIZED, lanes), f"the output's vectors: {chain}"


DENSE_SCALE, DENSE_SHIFT = np.random.default_rng(5).standard_normal((2, 128), dtype=np.float32)
SHUFFLE_INDEX = np.arange(116).reshape(2, 58).T.reshape(-1)  # ShuffleNet v2's shuffle of 2 x 58 channels
CHANNEL_COPIES = {  # name: (op on x, input shape, numpy reference)
    "concat 58 + 58, batch 2": (lambda v: relax.op.concat([v, relax.op.nn.relu(v)], axis=3), (2, 5, 7, 58),
                                lambda x: np.concatenate([x, np.maximum(x, 0)], 3)),
    "concat of three": (lambda v: relax.op.concat([v, v, relax.op.negative(v)], axis=3), (1, 3, 4, 20),
                        lambda x: np.concatenate([x, x, -x], 3)),
    "gather half the channels": (lambda v: relax.op.take(v, relax.const(SHUFFLE_INDEX[:58]), axis=3),
                                 (1, 6, 7, 116), lambda x: x[..., SHUFFLE_INDEX[:58]]),
    # DenseNet's concat of the block's features, then its batch-norm (scale and shift per
    # channel) and ReLU, all in one kernel
    "concat 64 + 32 + 32, batch-norm, relu": (
        lambda v: relax.op.nn.relu(relax.op.add(relax.op.multiply(
            relax.op.concat([v, relax.op.strided_slice(v, [3], [0], [32]), relax.op.strided_slice(v, [3], [32], [64])],
                            axis=3), relax.const(DENSE_SCALE)), relax.const(DENSE_SHIFT))),
        (1, 5, 3, 64), lambda x: np.maximum(np.concatenate([x, x[..., :32], x[..., 32:]], 3) * DENSE_SCALE
                                            + DENSE_SHIFT, 0)),
}


@pytest.mark.parametrize("target", [HOST, AVX2], ids=["host", "avx2"])
@pytest.mark.parametrize("name", list(CHANNEL_COPIES))
def test_channel_copy_numerics(name, target):
    op, shape, reference = CHANNEL_COPIES[name]
    x = np.random.default_rng(3).standard_normal(shape, dtype=np.float32)
    got = run_compiled(one_op_model(op, shape), target, [x])
    if "batch-norm" in name:  # a fused multiply-add rounds once
        np.testing.assert_allclose(got, reference(x), rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, reference(x))


@pytest.mark.parametrize("name, copy_loops", [("concat 58 + 58, batch 2", [58, 58]), ("concat of three", [20] * 3),
                                              ("gather half the channels", [58])])
def test_channel_copies_run_a_plain_loop_per_input_in_each_row(name, copy_loops):
    """A concat or gather along the channels as copy loops over whole rows, one per input,
    which LLVM vectorises: not vectors across rows, which paid a division by the row length
    and a select or an index load per lane."""
    op, shape, _ = CHANNEL_COPIES[name]
    (func,) = scheduled_kernels(one_op_model(op, shape), HOST).values()
    extents = []  # of every loop, outermost first: range(stop), range(start, stop), T.grid(a, b)
    for line in [line.strip() for line in func.script().splitlines() if line.strip().startswith("for ")]:
        bounds = [int(n) for n in re.findall(r"T\.int64\((\d+)\)", line)]
        extents += bounds if "T.grid" in line else [bounds[-1] - (bounds[0] if len(bounds) == 2 else 0)]
    assert extents[1:] == copy_loops, func.script()  # below the loop over rows
    assert "T.vectorized" not in func.script()


def test_a_concat_fused_with_its_elementwise_consumers_runs_one_vector_loop_per_input():
    """DenseNet's concat -> batch-norm -> ReLU: a vector loop per input in each row, each
    vector reading one input. Vectorised across the channels whole, each lane chose among
    the inputs: the loop was scalarised (6x slower on a 12-input concat) and LLVM spent
    half of densenet121's compile on those kernels."""
    op, shape, _ = CHANNEL_COPIES["concat 64 + 32 + 32, batch-norm, relu"]
    (func,) = scheduled_kernels(one_op_model(op, shape), HOST).values()
    lanes = cpu_spec(HOST).lanes
    vector_loops = re.findall(r"in T\.vectorized\(T\.int64\((\d+)\)\)", func.script())
    assert vector_loops == [str(lanes)] * 3, func.script()
    llvm_ir = tvm.tirx.build(tvm.IRModule({"main": func.with_attr("global_symbol", "main")}),
                             target=HOST).inspect_source("ll")
    assert "gather" not in llvm_ir, "lanes that choose their input load through a gather"


def _loop_kinds(func):
    sch = tvm.s_tir.Schedule(func)
    blocks = sch.get_child_blocks(sch.get_sblock("root"))
    return {sch.get(loop).kind for block in blocks for loop in sch.get_loops(block)}


def test_conv_kernel_is_register_blocked_vectorised_and_parallel():
    mod = _conv_block((1, 16, 8, 8), (32, 16, 3, 3), 1, 1, 1, residual=False)
    funcs = scheduled_kernels(mod, HOST)
    conv = [f for name, f in funcs.items() if "conv2d" in name]
    assert len(conv) == 1, "conv, bias and relu must fuse into one kernel"
    assert conv[0].attrs["tirx.is_scheduled"]
    assert {tirx.ForKind.PARALLEL, tirx.ForKind.VECTORIZED, tirx.ForKind.UNROLLED} <= _loop_kinds(conv[0])
    assert all(f.attrs.get("tirx.is_scheduled", False) for f in funcs.values()), "every kernel gets a schedule"


def _squeeze_excite(channels, squeezed, size):
    """sigmoid(conv1x1(s) + b) * x: a squeeze-excite gate, whose 1x1 conv output scales a whole image."""
    bb = relax.BlockBuilder()
    s = relax.Var("s", relax.TensorType((1, squeezed, 1, 1), "float32"))
    x = relax.Var("x", relax.TensorType((1, channels, size, size), "float32"))
    w = relax.Var("w", relax.TensorType((channels, squeezed, 1, 1), "float32"))
    b = relax.Var("b", relax.TensorType((1, channels, 1, 1), "float32"))
    with bb.function("main", [s, x, w, b], {"num_input": 2}):
        with bb.dataflow():
            gate = relax.op.sigmoid(relax.op.add(relax.op.nn.conv2d(s, w), b))
            out = bb.emit_output(relax.op.multiply(gate, x))
        bb.emit_func_output(out)
    return bb.get()


def test_an_epilogue_broadcast_over_an_image_is_looped_in_parallel_not_unrolled():
    """EfficientNet-B0's 480-channel gate: its tiles are one pixel, its epilogue covers 14x14 of
    them. Unrolled (2940 copies of a sigmoid) it took minutes to compile; the image-sized
    epilogue is work enough for every core."""
    funcs = scheduled_kernels(_squeeze_excite(480, 20, 14), HOST)
    (gate,) = [f for name, f in funcs.items() if "conv2d" in name and "multiply" in name]
    sch = tvm.s_tir.Schedule(gate)
    for block in sch.get_child_blocks(sch.get_sblock("root")):
        unrolled = 1
        for loop in sch.get_loops(block):
            if sch.get(loop).kind == tirx.ForKind.UNROLLED:
                unrolled *= int(sch.get(loop).extent)
        assert unrolled <= 24, f"{sch.get(block).name_hint}: {unrolled} unrolled copies"  # the accumulators at most
    assert tirx.ForKind.PARALLEL in _loop_kinds(gate)
    rng = np.random.default_rng(6)
    s, x = rng.standard_normal((1, 20, 1, 1), dtype=np.float32), rng.standard_normal((1, 480, 14, 14), dtype=np.float32)
    w, b = rng.standard_normal((480, 20, 1, 1), dtype=np.float32), rng.standard_normal((1, 480, 1, 1), dtype=np.float32)
    got = run_compiled(_squeeze_excite(480, 20, 14), HOST, [s, x], [w, b])
    gate_value = torch.sigmoid(torch.nn.functional.conv2d(torch.tensor(s), torch.tensor(w)) + torch.tensor(b))
    _close(got, (gate_value * torch.tensor(x)).numpy())


@pytest.mark.parametrize("adds", [1, 2])
def test_epilogue_producers_from_the_other_branch_are_scheduled(adds):
    """The kernel ending a ResNet downsampling block after FoldBatchNorm: relu((y + c) +
    (conv1x1_s2(x) + b)), the other branch `y` as its conv left it, so its bias add `y + c`
    comes before the conv in the fused kernel. It goes into the write-back; unscheduled,
    this kernel ran 200x slower (a PyTorch resnet18 at twice its ONNX export's latency).
    A chain of two such adds (a structured conv's bias, then its batch-norm's shift) goes
    in whole: left out, it made resnet18-struct-a's two such kernels 45% of its time."""
    from tvm import te

    from sedge.tvm_passes.passes.packed_conv import packed_conv2d
    from sedge.tvm_passes.schedules.reduction import schedule_reduction

    x, wp = te.placeholder((1, 9, 9, 8), name="x"), te.placeholder((1, 1, 1, 8, 24), name="wp")
    y, b, c = te.placeholder((1, 5, 5, 24), name="y"), te.placeholder((24,), name="b"), te.placeholder((24,), name="c")
    other = te.compute(y.shape, lambda n, h, w, o: y[n, h, w, o] + c[o], name="other")
    if adds == 2:
        first = other
        other = te.compute(y.shape, lambda n, h, w, o: first[n, h, w, o] + c[o], name="other1")
    conv = packed_conv2d(x, wp, [2, 2], [0, 0, 0, 0], [1, 1], 1)
    out = te.compute(conv.shape, lambda n, h, w, o: te.max(other[n, h, w, o] + (conv[n, h, w, o] + b[o]), 0.0))
    sch = tvm.s_tir.Schedule(te.create_prim_func([x, wp, y, b, c, out]))
    assert [sch.get(k).name_hint for k in sch.get_child_blocks(sch.get_sblock("root"))][0] == "other"
    assert schedule_reduction(sch, cpu_spec(HOST))
    rng = np.random.default_rng(2)
    args = [rng.standard_normal([int(d) for d in t.shape], dtype=np.float32) for t in (x, wp, y, b, c)]
    got = tvm.runtime.tensor(np.zeros([int(d) for d in out.shape], np.float32))
    tvm.compile(sch.mod, HOST)(*[tvm.runtime.tensor(a) for a in args], got)
    xs, ws, ys, bs, cs = args
    want = np.maximum(ys + adds * cs + np.einsum("nhwi,io->nhwo", xs[:, ::2, ::2], ws[0, 0, 0]) + bs, 0)
    _close(got.numpy(), want)


def test_unpadded_conv_reads_its_input_in_place():
    mod = _conv_block((1, 16, 6, 6), (24, 16, 1, 1), 1, 0, 1, residual=False)
    (conv,) = [f for name, f in scheduled_kernels(mod, HOST).items() if "conv2d" in name]
    assert "pad_temp" not in conv.script(), "a pad without padding is a copy: read the input instead"


def test_vector_width_follows_target_features():
    assert cpu_spec(tvm.target.Target({"kind": "llvm", "mcpu": "skylake-avx512"})).lanes == 16
    assert cpu_spec(AVX2).lanes == 8 and cpu_spec(AVX2).registers == 16
    neon = cpu_spec(tvm.target.Target({"kind": "llvm", "mtriple": "aarch64-linux-gnu", "mcpu": "cortex-a72"}))
    assert neon.lanes == 4 and neon.registers == 32


@pytest.mark.parametrize("target", [HOST, AVX2], ids=["host", "avx2"])
@pytest.mark.parametrize("x_shape, out_channels, groups", [((1, 160, 4, 4), 40, 8), ((1, 40, 4, 4), 160, 8)])
def test_grouped_conv_vectors_stay_inside_a_group(target, x_shape, out_channels, groups):
    """A vector spanning two groups reads a different input channel per lane (a gather per
    FMA); the conv's vectors must divide the outputs per group (5 or 20 here)."""
    w_shape = (out_channels, x_shape[1] // groups, 1, 1)
    (conv,) = [f for name, f in scheduled_kernels(_conv_block(x_shape, w_shape, 1, 0, groups, False), target).items()
               if "conv2d" in name]
    sch = tvm.s_tir.Schedule(conv)
    lanes = {int(sch.get(loop).extent) for block in sch.get_child_blocks(sch.get_sblock("root"))
             for loop in sch.get_loops(block) if sch.get(loop).kind == tirx.ForKind.VECTORIZED}
    assert lanes and all((out_channels // groups) % n == 0 for n in lanes), lanes


def test_output_lanes_take_the_widest_vector_that_tiles_the_outputs():
    from sedge.tvm_passes.schedules.reduction import output_lanes

    assert [output_lanes(n, 16) for n in (5, 10, 16, 20, 24, 32, 40)] == [5, 10, 16, 10, 12, 16, 10]
    assert [output_lanes(n, 8) for n in (5, 20, 3, 24)] == [5, 5, 3, 8]


def _kernel_asm(mod, target):
    with tvm.transform.PassContext(opt_level=3):
        executable = tvm.compile(sedge_pipeline(target)(mod), target, relax_pipeline=None)
    return "\n".join(m.inspect_source("asm") for m in executable.mod.imports if m.kind == "llvm")


@pytest.mark.parametrize("name, x_shape, w_shape, groups", [
    ("grouped 1x1", (1, 64, 14, 14), (64, 16, 1, 1), 4),
    ("depthwise 3x3", (1, 144, 14, 14), (144, 1, 3, 3), 144),
])
def test_short_reduction_keeps_its_accumulators_in_registers(name, x_shape, w_shape, groups):
    """A kernel reducing over a few values (16 channels, 9 taps) must not pay a heap
    allocation per tile for its accumulators: its tile fits TVM's stack limit."""
    padding = w_shape[-1] // 2
    asm = _kernel_asm(_conv_block(x_shape, w_shape, 1, padding, groups, residual=False), HOST)
    assert "vfmadd" in asm, "the kernel is compiled to FMAs"
    assert "TVMBackendAllocWorkspace" not in asm, f"{name}: accumulators allocated on the heap per tile"


def test_tile_choice_weighs_the_heap_against_the_reduction_length():
    from sedge.tvm_passes.schedules.reduction import accumulators_on_stack, tile_shape

    spec = cpu_spec(HOST)
    vec, o_vectors, w_block = tile_shape(56, 64, 16, spec)  # grouped 1x1: 16 steps per tile
    assert accumulators_on_stack(w_block, o_vectors, vec)
    vec, o_vectors, w_block = tile_shape(56, 64, 576, spec)  # 3x3x64: the heap is amortised
    assert w_block * o_vectors >= 16, "a long reduction keeps the widest register tile"


def test_grouped_tiles_count_one_input_broadcast_per_group():
    """Groups read different inputs: a tile across k groups broadcasts k inputs per column."""
    from sedge.tvm_passes.schedules.cpu import CpuSpec
    from sedge.tvm_passes.schedules.reduction import tile_shape

    avx512 = CpuSpec(lanes=16, registers=32)
    # 160 -> 40 in 8 groups (20 in, 5 out each): one group's vector down 16 columns, not 4 groups x 4
    assert tile_shape(32, 40, 20, avx512, group_out=5) == (5, 1, 16)
    # 40 -> 160 in 8 groups (20 out each, two 10-lane vectors): both vectors of one group share its broadcasts
    assert tile_shape(32, 160, 5, avx512, group_out=20) == (10, 2, 8)
    # a dense conv shares every broadcast across the tile's vectors: the square-ish tile stays
    assert tile_shape(56, 64, 576, avx512) == (16, 4, 4)


def test_rows_with_no_exact_tile_take_a_partial_last_tile():
    from sedge.tvm_passes.schedules.cpu import CpuSpec
    from sedge.tvm_passes.schedules.reduction import tile_shape

    avx512 = CpuSpec(lanes=16, registers=32)
    # a transformer's 197 tokens (prime): exact tiles are single rows of 12 vectors, a weight
    # load per FMA; 33 tiles of 6 rows (the last one 5) reuse each weight vector 6 times
    assert tile_shape(197, 384, 384, avx512) == (16, 4, 6)
    # where an exact tile of several columns exists it stays (resnet's 7x7 maps)
    assert tile_shape(7, 512, 4608, avx512) == (16, 2, 7)


@pytest.mark.parametrize("target", [HOST, AVX2], ids=["host", "avx2"])
def test_matmul_with_prime_rows_numerics(target):
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 37, 48), dtype=np.float32), rng.standard_normal((48, 40), dtype=np.float32)
    mod = one_op_model(lambda v: relax.op.matmul(v, relax.const(w)), x.shape)
    (kernel,) = scheduled_kernels(mod, target).values()
    assert "T.where" in kernel.script()  # the partial last tile's rows are predicated
    _close(run_compiled(mod, target, [x]), x @ w)


ROW_OPS = {"softmax": (relax.op.nn.softmax, torch.softmax), "log_softmax": (relax.op.nn.log_softmax, torch.log_softmax)}


@pytest.mark.parametrize("name", ROW_OPS)
@pytest.mark.parametrize("shape", [(3, 5, 13), (2, 1000)], ids=["odd rows", "classifier"])
def test_row_reduction_numerics(name, shape):
    """Rows of 13 are no multiple of a vector (scalar reductions); rows of 1000 fold vector partials."""
    relax_op, torch_op = ROW_OPS[name]
    x = np.random.default_rng(2).standard_normal(shape, dtype=np.float32) * 4
    _close(run_compiled(one_op_model(relax_op, shape), HOST, [x]), torch_op(torch.tensor(x), -1).numpy())


def test_softmax_over_channels_is_not_computed_per_row():
    """An NCHW softmax over channels reduces across the output's rows: the row rule leaves it
    (computed inside the row loop, each reduction would run once per channel); numerics hold."""
    shape = (2, 21, 4, 5)
    funcs = scheduled_kernels(one_op_model(lambda x: relax.op.nn.softmax(x, axis=1), shape), HOST)
    assert schedules.UNSCHEDULED in funcs["softmax"].attrs  # TVM's loops: one reduction per pixel
    x = np.random.default_rng(3).standard_normal(shape, dtype=np.float32)
    _close(run_compiled(one_op_model(lambda x: relax.op.nn.softmax(x, axis=1), shape), HOST, [x]),
           torch.softmax(torch.tensor(x), 1).numpy())


def test_softmax_rows_run_in_parallel_on_vectors():
    funcs = scheduled_kernels(one_op_model(relax.op.nn.softmax, (64, 7, 1000)), HOST)
    softmax = funcs["softmax"]
    assert schedules.UNSCHEDULED not in softmax.attrs
    assert {tirx.ForKind.PARALLEL, tirx.ForKind.VECTORIZED} <= _loop_kinds(softmax)
    sch = tvm.s_tir.Schedule(softmax)
    outermost = {sch.get_sref(sch.get_loops(b)[0]) for b in sch.get_child_blocks(sch.get_sblock("root"))}
    assert len(outermost) == 1  # every block computed inside the output's row loop
    assert "row_sum_rf" in softmax.script()  # the sum of exponentials (VectorMath's) as vector partials


def _group_std(x):
    """sqrt(variance + eps) over the last axis: a group norm's per-group scale."""
    return relax.op.sqrt(relax.op.add(relax.op.variance(x, axis=[-1], keepdims=True), relax.const(1e-5)))


STATISTICS = {  # name: (relax op, numpy reference, input shape)
    "variance over H and W, batch 2, odd": (lambda x: relax.op.variance(x, axis=[2, 3], keepdims=True),
                                           lambda x: x.var(axis=(2, 3), keepdims=True), (2, 5, 7, 9)),
    "group std, vector rows": (_group_std, lambda x: np.sqrt(x.var(axis=-1, keepdims=True) + 1e-5), (1, 8, 784)),
    "variance without keepdims": (lambda x: relax.op.variance(x, axis=[1]), lambda x: x.var(axis=1), (6, 48)),
}


@pytest.mark.parametrize("name", STATISTICS)
def test_per_row_statistics_numerics(name):
    relax_op, reference, shape = STATISTICS[name]
    (kernel,) = scheduled_kernels(one_op_model(relax_op, shape), HOST).values()
    assert schedules.UNSCHEDULED not in kernel.attrs  # the row rule took it
    x = np.random.default_rng(4).standard_normal(shape, dtype=np.float32) * 3 + 1
    _close(run_compiled(one_op_model(relax_op, shape), HOST, [x]), reference(x.astype(np.float64)).astype(np.float32))


def test_a_variance_runs_in_one_pass_per_row_on_vectors():
    """A group norm's variance was TVM's loops (0.26 ms for 8 groups of 56x56x8, 0.014 ms so):
    each row's mean and squared deviations are summed inside one parallel row loop, the
    deviation folded into the sum instead of written as a row-sized intermediate."""
    (kernel,) = scheduled_kernels(one_op_model(_group_std, (1, 8, 25088)), HOST).values()
    assert schedules.UNSCHEDULED not in kernel.attrs
    assert {tirx.ForKind.PARALLEL, tirx.ForKind.VECTORIZED} <= _loop_kinds(kernel)
    sch = tvm.s_tir.Schedule(kernel)
    blocks = sch.get_child_blocks(sch.get_sblock("root"))
    assert len({sch.get_sref(sch.get_loops(b)[0]) for b in blocks}) == 1  # all under the row loop
    written = {str(sch.get(b).writes[0].source.name) for b in blocks}
    assert not any("subtract" in name or name == "T_multiply" for name in written)  # folded into the sum


def test_a_kernel_no_rule_takes_is_marked_with_why():
    with HOST, tvm.transform.PassContext(opt_level=3):
        lowered = sedge_pipeline(HOST)(one_op_model(lambda x: relax.op.argmax(x, axis=-1), (2, 10)))
    assert unscheduled_kernels(lowered) == {"argmax": "no schedule rule fits this kernel"}


def test_a_rule_that_refuses_a_kernel_says_which_primitive_refused(monkeypatch):
    def inline_the_output(sch, _spec):  # the output block cannot be inlined: a ScheduleError
        sch.compute_inline(sch.get_child_blocks(sch.get_sblock("root"))[-1])
        return True

    monkeypatch.setattr(schedules, "RULES", (inline_the_output,))
    funcs = scheduled_kernels(_conv_block((1, 8, 6, 6), (8, 8, 3, 3), 1, 1, 1, residual=False), HOST)
    marked = {name: str(f.attrs[schedules.UNSCHEDULED]) for name, f in funcs.items()
              if schedules.UNSCHEDULED in f.attrs}
    assert marked and all(why.startswith("inline_the_output: ") for why in marked.values()), marked


# one zoo model per layer family, small members where the zoo has them: each kernel of each
# must get a hand schedule (a rule that refused one once left resnet18's downsampling shortcut 200x slow)
ZOO_FAMILIES = ("resnet18", "mobilenetv2-struct-b", "densenet-bc-40-48", "resnet20-csg-8x8-128", "resnet20-fft-50",
                "wrn-16-2-shuffle-4", "wrn-16-2-tt-0.5", "wrn-16-2-hashed-0.25", "wrn-16-2-acdc", "wrn-16-2-rf-0.5",
                "wrn-16-2-tucker-0.5")


@pytest.mark.parametrize("name", ZOO_FAMILIES)
def test_every_kernel_of_a_zoo_model_gets_a_schedule_and_the_model_matches_pytorch(name):
    """Whole models too: the rewrites meet each other's output only there (a shuffle between
    layout turns of a 16x16x16 image once made wrn-16-2-shuffle-4 1% wrong, every op test
    passing)."""
    from sedge.frontend.reference import reference_outputs

    model = load_model(f"zoo:{name}")
    with HOST, tvm.transform.PassContext(opt_level=3):
        lowered = sedge_pipeline(HOST)(model.mod)
        executable = tvm.compile(lowered, HOST, relax_pipeline=None)
    assert unscheduled_kernels(lowered) == {}
    inputs = model.example_inputs()
    (want,) = reference_outputs(model.source, inputs)
    vm = relax.VirtualMachine(executable, tvm.cpu())
    params = [tvm.runtime.tensor(p) for p in model.params]
    if vm.module.implements_function("main_transform_params"):
        params = list(vm["main_transform_params"](params))
    _close(vm["main"](*[tvm.runtime.tensor(x) for x in inputs.values()], *params).numpy(), want)


def test_a_prime_column_count_takes_a_partial_tile_when_exact_ones_starve():
    """13 columns (SqueezeNet's 13x13 stage): exact tiles are 1 x 13 columns or one column;
    a 3 x 7 tile with a partial last block loads about half as much per FMA."""
    from sedge.tvm_passes.schedules.reduction import tile_shape

    avx512 = cpu_spec(tvm.target.Target({"kind": "llvm", "mcpu": "skylake-avx512"}))
    assert tile_shape(13, 1008, 512, avx512) == (16, 3, 7)
    assert tile_shape(7, 512, 4608, avx512) == (16, 2, 7)  # an exact 2 x 7 tile is good enough: kept
