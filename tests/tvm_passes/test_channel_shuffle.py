"""Channel shuffles: found in any reshape/transpose chain, sunk past per-channel ops and
folded into the conv that reads them; numerics against PyTorch either way."""
import numpy as np
import pytest
import torch
import tvm
from compiled_models import run_compiled
from tvm import relax
from tvm.script import ir as I
from tvm.script import relax as R

from sedge.tvm_passes.passes.channel_shuffle import shuffle_groups, sink_channel_shuffles
from sedge.tvm_passes.pipeline import phases
from sedge.tvm_passes.target import host_target

TARGET = tvm.target.Target(host_target())
F = torch.nn.functional
RTOL = 1e-4  # max |sedge - torch| / max |torch|


def _shuffle(bb, x, channels, groups, size):
    """ShuffleNet's channel shuffle as PyTorch exports it: reshape, transpose, reshape."""
    x = bb.emit(relax.op.reshape(x, (1, groups, channels // groups, size, size)))
    x = bb.emit(relax.op.permute_dims(x, [0, 2, 1, 3, 4]))
    return bb.emit(relax.op.reshape(x, (1, channels, size, size)))


def _block(size, channels, groups, between, after):
    """grouped 1x1 -> shuffle -> depthwise 3x3 -> `between` ops -> grouped 1x1 (`after`: a
    second shuffle and a residual add before it);
    returns (Relax module, PyTorch function of x and the weights, weights)."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((channels, channels // groups, 1, 1), dtype=np.float32)
    dw = rng.standard_normal((channels, 1, 3, 3), dtype=np.float32)
    w2 = rng.standard_normal((channels, channels // groups, 1, 1), dtype=np.float32)
    scale = rng.standard_normal((1, channels, 1, 1), dtype=np.float32)
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, channels, size, size), "float32"))
    params = [relax.Var(n, relax.TensorType(a.shape, "float32")) for n, a in (("w1", w1), ("dw", dw), ("w2", w2))]
    with bb.function("main", [x, *params], {"num_input": 1}):
        with bb.dataflow():
            y = bb.emit(relax.op.nn.conv2d(x, params[0], groups=groups))
            y = _shuffle(bb, y, channels, groups, size)
            y = bb.emit(relax.op.nn.conv2d(y, params[1], padding=1, groups=channels))
            if "scale" in between:
                y = bb.emit(relax.op.multiply(y, relax.const(scale)))
            if "relu" in between:
                y = bb.emit(relax.op.nn.relu(relax.op.add(y, relax.const(0.5, "float32"))))
            if after == "residual":  # a full tensor operand: the shuffle must not sink past it
                y = bb.emit(relax.op.add(_shuffle(bb, y, channels, groups, size), x))
            out = bb.emit_output(relax.op.nn.conv2d(y, params[2], groups=groups))
        bb.emit_func_output(out)

    def reference(data):
        y = F.conv2d(data, torch.tensor(w1), groups=groups)
        y = y.reshape(1, groups, channels // groups, size, size).transpose(1, 2).reshape(1, channels, size, size)
        y = F.conv2d(y, torch.tensor(dw), padding=1, groups=channels)
        if "scale" in between:
            y = y * torch.tensor(scale)
        if "relu" in between:
            y = torch.relu(y + 0.5)
        if after == "residual":
            y = y.reshape(1, groups, channels // groups, size, size).transpose(1, 2).reshape(1, channels, size, size)
            y = y + data
        return F.conv2d(y, torch.tensor(w2), groups=groups)

    return bb.get(), reference, [w1, dw, w2]


def _rewritten(mod):
    with TARGET, tvm.transform.PassContext(opt_level=3):
        for name, passes in phases(TARGET).items():
            mod = tvm.transform.Sequential(passes)(mod)
            if name == "lift-params":
                return mod["main"].script()


@pytest.mark.parametrize("size, channels, groups, between", [
    (6, 40, 8, ()),  # wrn-28-10-shuffle-8's: 5 channels per group
    (5, 16, 4, ("scale", "relu")),  # and past a per-channel scale, a scalar add and a ReLU
])
def test_shuffle_folds_into_the_next_grouped_conv(size, channels, groups, between):
    mod, reference, weights = _block(size, channels, groups, between, after=None)
    main = _rewritten(mod)
    assert "R.reshape" not in main and "R.take" not in main, "no shuffle kernel is left"
    x = np.random.default_rng(1).standard_normal((1, channels, size, size), dtype=np.float32)
    want = reference(torch.tensor(x)).numpy()
    got = run_compiled(mod, TARGET, [x], weights)
    assert np.max(np.abs(got - want)) <= RTOL * np.max(np.abs(want))


def test_shuffle_before_a_full_tensor_operand_stays_a_kernel():
    mod, reference, weights = _block(4, 24, 4, (), after="residual")
    assert _rewritten(mod).count("R.take") == 1, "the second shuffle meets a residual add: one take kernel"
    x = np.random.default_rng(2).standard_normal((1, 24, 4, 4), dtype=np.float32)
    want = reference(torch.tensor(x)).numpy()
    got = run_compiled(mod, TARGET, [x], weights)
    assert np.max(np.abs(got - want)) <= RTOL * np.max(np.abs(want))


def test_shuffle_groups_recognises_only_the_shuffle():
    m = np.arange(12)
    assert shuffle_groups(m % 3 * 4 + m // 3) == 3
    assert shuffle_groups(m % 4 * 3 + m // 4) == 4
    assert shuffle_groups(m[::-1]) is None


class _ShuffleV2Units(torch.nn.Module):
    """Two ShuffleNet v2 units (stride 1): split the channels, run one half through
    1x1 -> depthwise 3x3 -> 1x1, join the halves, shuffle them in 2 groups."""

    def __init__(self, channels):
        super().__init__()
        half = channels // 2
        self.branches = torch.nn.ModuleList(torch.nn.Sequential(
            torch.nn.Conv2d(half, half, 1), torch.nn.ReLU(), torch.nn.Conv2d(half, half, 3, padding=1, groups=half),
            torch.nn.Conv2d(half, half, 1), torch.nn.ReLU()) for _ in range(2))

    def forward(self, x):
        for branch in self.branches:
            kept, rest = x.chunk(2, dim=1)
            x = torch.cat([kept, branch(rest)], 1)
            b, c, h, w = x.shape
            x = x.view(b, 2, c // 2, h, w).transpose(1, 2).reshape(b, c, h, w)
        return x


@pytest.mark.parametrize("dynamo", [False, True])
def test_shufflenet_v2_units_stay_channels_last(tmp_path, dynamo):
    """The exporter's NCHW split, join and shuffle (which a reshape keeps in NCHW) become
    channels-last takes and concats: no turn to NCHW between the units, and each split
    half a conv reads is gathered by the conv itself (torchvision's shufflenet_v2 spent 25%
    of its time in NCHW shuffle kernels). The TorchScript exporter writes the split as two
    slices, the dynamo one as a Split (26 transposes in its shufflenet_v2 before). Checked
    against ONNX Runtime end to end."""
    from sedge.api import RunOptions, run
    from sedge.api import compile as sedge_compile
    from sedge.frontend.loaders import load_model
    from sedge.tvm_passes.build import CompileOptions

    torch.manual_seed(0)
    path = tmp_path / "units.onnx"
    torch.onnx.export(_ShuffleV2Units(116).eval(), (torch.rand(1, 116, 6, 7),), str(path), dynamo=dynamo,
                      input_names=["x"])
    main = _rewritten(load_model(str(path)).mod)
    assert "R.reshape" not in main
    assert main.count("R.permute_dims") == 2, "one turn to channels-last at the input, one back at the output"
    joins = [line for line in main.splitlines() if "R.concat" in line]
    assert len(joins) == 2 and all(line.endswith("axis=3)") for line in joins), joins
    # the second unit's kept half and the final shuffle; the half its branch reads is the conv's gather
    assert main.count("R.take") == 2
    package = sedge_compile(str(path), CompileOptions(output=str(tmp_path / "units.tar")))
    assert run(package, RunOptions(verify=True)).verification.passed


def test_a_shuffle_between_layout_turns_of_a_cube_is_one_take():
    """NHWC -> NCHW -> shuffle -> NHWC on a 16 x 16 x 16 image, where the NCHW and NHWC
    shapes are equal: the chain is a take (the turns cancel) whose channels are the
    shuffle's. wrn-40-2-shuffle-4's 16x16x16 stage once came out 1.2% wrong here, the
    NCHW result taken for an NHWC one."""
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 16, 16, 16), "float32"))
    with bb.function("main", [x], {"num_input": 1}):
        with bb.dataflow():
            y = bb.emit(relax.op.permute_dims(x, [0, 3, 1, 2]))
            y = _shuffle(bb, y, 16, 4, 16)
            out = bb.emit_output(relax.op.nn.relu(relax.op.permute_dims(y, [0, 2, 3, 1])))
        bb.emit_func_output(out)
    mod = bb.get()
    main = _rewritten(mod)
    assert main.count("R.take") == 1 and "R.permute_dims" not in main and "R.reshape" not in main
    data = np.random.default_rng(3).standard_normal((1, 16, 16, 16), dtype=np.float32)
    nchw = data.transpose(0, 3, 1, 2)
    shuffled = nchw.reshape(1, 4, 4, 16, 16).transpose(0, 2, 1, 3, 4).reshape(1, 16, 16, 16)
    np.testing.assert_array_equal(run_compiled(mod, TARGET, [data]), np.maximum(shuffled.transpose(0, 2, 3, 1), 0))


# Structural: Before / Expected, the pass run on its own under a fixed CPU target


CPU = tvm.target.Target({"kind": "llvm", "mcpu": "skylake-avx512"})
CUDA = tvm.target.Target({"kind": "cuda", "arch": "sm_90", "host": {"kind": "llvm"}})
# the shuffle of 8 channels in 2 groups, out[i*2 + j] = x[j*4 + i]; relax.const stores the
# pass's int64 index as int32 (it narrows int64 arrays when no dtype is given)
SHUFFLE_8_2 = np.array([0, 4, 1, 5, 2, 6, 3, 7], dtype="int32")
DEPTHWISE = np.arange(3 * 3 * 8, dtype="float32").reshape(3, 3, 1, 8)


def _sunk(mod, target=CPU):
    with target:
        return sink_channel_shuffles(target)(mod)


@I.ir_module
class ShuffleDepthwiseReLU:
    """A channels-last tensor turned NCHW for PyTorch's shuffle (reshape, transpose, reshape) and
    back, then a depthwise conv with a constant weight and a ReLU."""

    @R.function
    def main(x: R.Tensor((1, 4, 4, 8), "float32")) -> R.Tensor((1, 4, 4, 8), "float32"):
        with R.dataflow():
            nchw = R.permute_dims(x, axes=[0, 3, 1, 2])
            grouped = R.reshape(nchw, R.shape([1, 2, 4, 4, 4]))
            swapped = R.permute_dims(grouped, axes=[0, 2, 1, 3, 4])
            shuffled = R.reshape(swapped, R.shape([1, 8, 4, 4]))
            nhwc = R.permute_dims(shuffled, axes=[0, 2, 3, 1])
            y = R.nn.conv2d(nhwc, R.const(DEPTHWISE), padding=[1, 1, 1, 1], groups=8, data_layout="NHWC",
                            kernel_layout="HWIO")
            out = R.nn.relu(y)
            R.output(out)
        return out


def test_structural_shuffle_becomes_a_take_sunk_past_depthwise_conv_and_relu():
    """The five layout ops become one take of x's channels, which sinks past the depthwise conv
    (its constant weight permuted by the inverse shuffle, in numpy) and the ReLU to the end."""
    inverse = np.argsort(SHUFFLE_8_2)

    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((1, 4, 4, 8), "float32")) -> R.Tensor((1, 4, 4, 8), "float32"):
            with R.dataflow():
                y = R.nn.conv2d(x, R.const(np.ascontiguousarray(DEPTHWISE[..., inverse])), padding=[1, 1, 1, 1],
                                groups=8, data_layout="NHWC", kernel_layout="HWIO")
                z = R.nn.relu(y)
                out = R.take(z, R.const(SHUFFLE_8_2), axis=3)
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_sunk(ShuffleDepthwiseReLU), Expected)


def test_structural_shuffle_before_a_full_tensor_operand_stays_a_take():
    """An add of a full tensor is no per-channel op: the take stops in front of it; the five
    layout ops are gone all the same."""

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 4, 4, 8), "float32"),
                 r: R.Tensor((1, 4, 4, 8), "float32")) -> R.Tensor((1, 4, 4, 8), "float32"):
            with R.dataflow():
                nchw = R.permute_dims(x, axes=[0, 3, 1, 2])
                grouped = R.reshape(nchw, R.shape([1, 2, 4, 4, 4]))
                swapped = R.permute_dims(grouped, axes=[0, 2, 1, 3, 4])
                shuffled = R.reshape(swapped, R.shape([1, 8, 4, 4]))
                nhwc = R.permute_dims(shuffled, axes=[0, 2, 3, 1])
                out = R.add(nhwc, r)
                R.output(out)
            return out

    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((1, 4, 4, 8), "float32"),
                 r: R.Tensor((1, 4, 4, 8), "float32")) -> R.Tensor((1, 4, 4, 8), "float32"):
            with R.dataflow():
                taken = R.take(x, R.const(SHUFFLE_8_2), axis=3)
                # the chain ends in NCHW (a turn of the take); the turn back to NHWC cancels to
                # the take itself, left as an alias binding (no pass here canonicalises bindings)
                nhwc = taken
                out = R.add(nhwc, r)
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_sunk(Before), Expected)


def test_structural_layout_chain_that_is_no_channel_permutation_is_left_unchanged():
    """A reshape and transpose that mix the columns into the channels are no take."""

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 4, 4, 8), "float32")) -> R.Tensor((1, 4, 4, 8), "float32"):
            with R.dataflow():
                mixed = R.reshape(x, R.shape([1, 4, 8, 4]))
                turned = R.permute_dims(mixed, axes=[0, 1, 3, 2])
                out = R.nn.relu(turned)
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_sunk(Before), Before)


def test_structural_gpu_target_is_left_unchanged():
    tvm.ir.assert_structural_equal(_sunk(ShuffleDepthwiseReLU, CUDA), ShuffleDepthwiseReLU)
