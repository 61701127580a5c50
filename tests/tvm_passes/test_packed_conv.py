"""Conv weights packed per output-channel tile: the packing runs at load time, not per inference."""
import numpy as np
import pytest
import tvm
from tvm import relax
from tvm.script import ir as I
from tvm.script import relax as R

from sedge.tvm_passes.passes.packed_conv import pack_conv_weights, packed_conv2d
from sedge.tvm_passes.pipeline import REWRITE, sedge_pipeline
from sedge.tvm_passes.target import host_target


def _deep_conv():
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 64, 7, 7), "float32"))
    w = relax.Var("w", relax.TensorType((256, 64, 3, 3), "float32"))
    with bb.function("main", [x, w], {"num_input": 1}):
        with bb.dataflow():
            out = bb.emit_output(relax.op.nn.conv2d(x, w, padding=1))
        bb.emit_func_output(out)
    return bb.get()


def test_weights_are_packed_once_at_load_time():
    target = tvm.target.Target(host_target())
    mod = _deep_conv()
    with target:
        for factory in REWRITE:
            mod = factory(target)(mod)
        mod = relax.transform.LiftTransformParams()(mod)
    main, load_time = mod["main"].script(), mod["main_transform_params"].script()
    assert "R.nn.conv2d" not in main and "conv2d" in main, "the conv reads packed weights"
    assert "layout_transform" not in main and "layout_transform" in load_time
    packed = [p for p in mod["main"].params[1:]][0]
    assert len(packed.ty.shape) == 5 and int(packed.ty.shape[0]) > 1, "(O/ob, KH, KW, I, ob) with several tiles"


def _input_conv(shape, out_channels, kernel, stride, padding, groups):
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(shape, "float32"))
    w = relax.Var("w", relax.TensorType((out_channels, shape[1] // groups, kernel, kernel), "float32"))
    with bb.function("main", [x, w], {"num_input": 1}):
        with bb.dataflow():
            conv = relax.op.nn.conv2d(x, w, strides=stride, padding=padding, groups=groups)
            out = bb.emit_output(relax.op.nn.relu(conv))
        bb.emit_func_output(out)
    return bb.get()


@pytest.mark.parametrize("shape, out_channels, kernel, stride, padding, groups, folds", [
    ((2, 3, 15, 17), 24, 7, 2, 3, 1, True),  # an RGB stem: batch 2, odd sizes, stride 2, padding
    ((1, 5, 9, 9), 12, 1, 1, 0, 1, True),  # 1x1 without pad: the conv itself reads NCHW
    # a shuffle layer's grouped 1x1 broadcasts its inputs too: 0.2 ms of transpose gone at 160x32x32
    ((2, 40, 6, 10), 16, 1, 1, 0, 8, True),
    ((1, 24, 7, 7), 24, 3, 1, 1, 24, False),  # a depthwise conv reads vectors along the channels
])
def test_input_transpose_folds_into_the_first_conv(shape, out_channels, kernel, stride, padding, groups, folds):
    import torch

    target = tvm.target.Target(host_target())
    with tvm.transform.PassContext(opt_level=3):
        lowered = sedge_pipeline(target)(_input_conv(shape, out_channels, kernel, stride, padding, groups))
        executable = tvm.compile(lowered, target, relax_pipeline=None)
    reads_input = [line for line in lowered["main"].script().splitlines() if "(x," in line]
    assert len(reads_input) == 1, f"one kernel reads x: {reads_input}"
    assert ("conv2d" in reads_input[0]) == folds, f"the conv reads x: {reads_input}"
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((out_channels, shape[1] // groups, kernel, kernel), dtype=np.float32)
    vm = relax.VirtualMachine(executable, tvm.cpu())
    params = [tvm.runtime.tensor(w)]
    if vm.module.implements_function("main_transform_params"):
        params = list(vm["main_transform_params"](params))
    got = vm["main"](tvm.runtime.tensor(x), *params).numpy()
    want = torch.relu(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), stride=stride,
                                                 padding=padding, groups=groups)).numpy()
    assert np.max(np.abs(got - want)) <= 1e-4 * np.max(np.abs(want))


def test_constant_weights_are_packed_at_compile_time():
    """An importer's constant weight (a sum-pool's, an initializer's) is transposed and
    packed in numpy: no layout op is left for FoldConstant to build a kernel for."""
    import torch

    rng = np.random.default_rng(1)
    weight = rng.standard_normal((256, 64, 3, 3), dtype=np.float32)
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 64, 7, 7), "float32"))
    with bb.function("main", [x], {"num_input": 1}):
        with bb.dataflow():
            out = bb.emit_output(relax.op.nn.conv2d(x, relax.const(weight), padding=1))
        bb.emit_func_output(out)
    mod = bb.get()
    target = tvm.target.Target(host_target())
    with target:
        rewritten = mod
        for factory in REWRITE:
            rewritten = factory(target)(rewritten)
    script = rewritten["main"].script()
    assert "layout_transform" not in script, "the weight is packed at compile time"
    assert script.count("R.permute_dims") == 1, "only the output changes layout (the conv reads NCHW x)"
    with tvm.transform.PassContext(opt_level=3):
        executable = tvm.compile(sedge_pipeline(target)(mod), target, relax_pipeline=None)
    data = rng.standard_normal((1, 64, 7, 7), dtype=np.float32)
    got = relax.VirtualMachine(executable, tvm.cpu())["main"](tvm.runtime.tensor(data)).numpy()
    want = torch.nn.functional.conv2d(torch.tensor(data), torch.tensor(weight), padding=1).numpy()
    assert np.max(np.abs(got - want)) <= 1e-4 * np.max(np.abs(want))


def test_output_channels_round_up_to_whole_vectors_when_exact_ones_are_narrow():
    from sedge.tvm_passes.passes.packed_conv import padded_channels

    # 58 = 2 x 29, 116 = 4 x 29, 232 = 8 x 29: exact vectors of 2, 4, 8 lanes
    assert [padded_channels(c, 16) for c in (58, 116, 232, 64, 24, 40, 12)] == [64, 128, 240, 64, 24, 40, 12]
    assert [padded_channels(c, 8) for c in (58, 116, 24)] == [64, 120, 24]


def test_padded_output_channels_are_sliced_off_inside_the_conv_kernel():
    """116 outputs are computed as 128 over zero-padded packed weights; the slice back to 116
    fuses into the conv's epilogue with the bias and ReLU: one kernel, no copy pass."""
    from test_schedules import _conv_block

    target = tvm.target.Target(host_target())  # AVX-512 here: 16 lanes
    mod = _conv_block((1, 116, 7, 7), (116, 116, 1, 1), 1, 0, 1, residual=False)
    with tvm.transform.PassContext(opt_level=3):
        lowered = sedge_pipeline(target)(mod)
    kernels = [line.split("(")[0].strip() for line in lowered["main"].script().splitlines() if "(x," in line]
    assert kernels == ["fused_conv2d_strided_slice_add_relu"], "the conv reads x, slices, adds and rectifies"
    packed = [p for p in lowered["main"].params if len(p.ty.shape) == 5]
    assert len(packed) == 1 and int(packed[0].ty.shape[0]) * int(packed[0].ty.shape[4]) == 128
    assert int(packed[0].ty.shape[4]) % 16 == 0, "whole 16-lane vectors per tile"


# Structural: Before / Expected, the pass run on its own under a fixed CPU target


CPU = tvm.target.Target({"kind": "llvm", "mcpu": "skylake-avx512"})  # 16 lanes, 32 registers


def _packed(mod):
    with CPU:
        return pack_conv_weights(CPU)(mod)


def test_structural_deep_conv_reads_packed_weights_and_the_nchw_input():
    """HWIO (3, 3, 64, 256) -> layout_transform to (256/32, 3, 3, 64, 32); the conv becomes the
    packed TE conv, reading the NCHW input through its index (the input transpose is gone).
    Tiles of 2 x 16-lane vectors by 7 columns: the best register tile for a 7-wide row, its
    weights (73 KB) within any L2."""

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 64, 7, 7), "float32"),
                 w: R.Tensor((3, 3, 64, 256), "float32")) -> R.Tensor((1, 7, 7, 256), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                nhwc = R.permute_dims(x, axes=[0, 2, 3, 1])
                y = R.nn.conv2d(nhwc, w, padding=[1, 1, 1, 1], data_layout="NHWC", kernel_layout="HWIO")
                R.output(y)
            return y

    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 64, 7, 7), "float32"))
    w = relax.Var("w", relax.TensorType((3, 3, 64, 256), "float32"))
    with bb.function("main", [x, w], {"num_input": 1}):
        with bb.dataflow():
            packed = bb.emit(relax.op.layout_transform(w, index_map=lambda h, s, i, o: (o // 32, h, s, i, o % 32)))
            y = bb.emit_output(bb.call_te(packed_conv2d, x, packed, strides=[1, 1], padding=[1, 1, 1, 1],
                                          dilation=[1, 1], groups=1, nchw_input=True, shuffle_groups=None,
                                          channel_index=None, primfunc_name_hint="conv2d"))
        bb.emit_func_output(y)
    expected = bb.get()
    assert [int(d) for d in expected["main"].body.blocks[0].bindings[0].value.ty.shape] == [8, 3, 3, 64, 32]

    tvm.ir.assert_structural_equal(_packed(Before), expected)


def test_structural_constant_weight_is_padded_and_packed_in_numpy():
    """A constant 1x1 weight to 116 channels: rounded up to 128 outputs (whole 16-lane vectors),
    zero-padded and packed in numpy; the slice back to 116 follows the conv."""
    weight = np.arange(32 * 116, dtype="float32").reshape(1, 1, 32, 116) / 1000

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 7, 7, 32), "float32")) -> R.Tensor((1, 7, 7, 116), "float32"):
            with R.dataflow():
                y = R.nn.conv2d(x, R.const(weight), data_layout="NHWC", kernel_layout="HWIO")
                R.output(y)
            return y

    # tiles of 2 x 16 lanes by 7 columns, as for the conv above (its weights: 4 KB)
    padded = np.pad(weight, [(0, 0), (0, 0), (0, 0), (0, 12)])
    packed = np.ascontiguousarray(padded.reshape(1, 1, 32, 4, 32).transpose(3, 0, 1, 2, 4))
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 7, 7, 32), "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            conv = bb.emit(bb.call_te(packed_conv2d, x, relax.const(packed), strides=[1, 1], padding=[0, 0, 0, 0],
                                      dilation=[1, 1], groups=1, nchw_input=False, shuffle_groups=None,
                                      channel_index=None, primfunc_name_hint="conv2d"))
            y = bb.emit_output(relax.op.strided_slice(conv, axes=[3], begin=[0], end=[116]))
        bb.emit_func_output(y)

    tvm.ir.assert_structural_equal(_packed(Before), bb.get())


@pytest.mark.parametrize("layout", ["NCHW", "one tile"])
def test_structural_conv_it_does_not_pack_is_left_unchanged(layout):
    """An NCHW conv (no channels-last rewrite ran), and a channels-last conv whose 16 output
    channels are one vector: HWIO is already contiguous per tile."""

    @I.ir_module
    class NCHW:
        @R.function
        def main(x: R.Tensor((1, 64, 7, 7), "float32"),
                 w: R.Tensor((256, 64, 3, 3), "float32")) -> R.Tensor((1, 256, 7, 7), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                y = R.nn.conv2d(x, w, padding=[1, 1, 1, 1])
                R.output(y)
            return y

    @I.ir_module
    class OneTile:
        @R.function
        def main(x: R.Tensor((1, 7, 7, 64), "float32"),
                 w: R.Tensor((3, 3, 64, 16), "float32")) -> R.Tensor((1, 7, 7, 16), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                y = R.nn.conv2d(x, w, padding=[1, 1, 1, 1], data_layout="NHWC", kernel_layout="HWIO")
                R.output(y)
            return y

    before = NCHW if layout == "NCHW" else OneTile
    tvm.ir.assert_structural_equal(_packed(before), before)
