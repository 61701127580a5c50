"""ChannelsLast: convolutions turned to NHWC data and HWIO weights on CPUs, the ops after
them following; constant weights re-laid in numpy; GPU targets untouched. Structural
(Before / Expected), numerics against PyTorch, and no NCHW conv left on a CPU target."""
import numpy as np
import pytest
import torch
import tvm
from compiled_models import HOST, run_compiled
from tvm import relax
from tvm.script import ir as I
from tvm.script import relax as R

from sedge.tvm_passes.passes import op_name
from sedge.tvm_passes.passes.channels_last import channels_last

# a fixed CPU, not the host: the expected IR is the same on every machine
CPU = tvm.target.Target({"kind": "llvm", "mcpu": "skylake-avx512"})
CUDA = tvm.target.Target({"kind": "cuda", "arch": "sm_90", "host": {"kind": "llvm"}})
RTOL = 1e-4  # max |sedge - torch| / max |torch|


def _rewritten(mod, target=CPU):
    with target:
        return channels_last(target)(mod)


@I.ir_module
class ConvReLU:
    @R.function
    def main(x: R.Tensor((1, 4, 6, 6), "float32"),
             w: R.Tensor((8, 4, 3, 3), "float32")) -> R.Tensor((1, 8, 6, 6), "float32"):
        R.func_attr({"num_input": 1})
        with R.dataflow():
            y = R.nn.conv2d(x, w, padding=[1, 1, 1, 1])
            z = R.nn.relu(y)
            R.output(z)
        return z


def test_structural_conv_and_relu_turn_channels_last():
    """The input turns NHWC once, the weight HWIO (a weight-only transpose lift-params moves to
    load time), the ReLU follows the conv's layout and the output turns back to NCHW."""

    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((1, 4, 6, 6), "float32"),
                 w: R.Tensor((8, 4, 3, 3), "float32")) -> R.Tensor((1, 8, 6, 6), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                nhwc = R.permute_dims(x, axes=[0, 2, 3, 1])
                hwio = R.permute_dims(w, axes=[2, 3, 1, 0])
                y = R.nn.conv2d(nhwc, hwio, padding=[1, 1, 1, 1], data_layout="NHWC", kernel_layout="HWIO",
                                out_layout="NHWC")
                z = R.nn.relu(y)
                out = R.permute_dims(z, axes=[0, 3, 1, 2])
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_rewritten(ConvReLU), Expected)


W_CONST = np.arange(8 * 4 * 3 * 3, dtype="float32").reshape(8, 4, 3, 3)
W_HWIO = np.ascontiguousarray(W_CONST.transpose(2, 3, 1, 0))


def test_structural_constant_weight_is_relaid_at_compile_time():
    """An importer's constant weight comes out as an HWIO constant (FoldConstantTransposes, in
    numpy), not as a permute_dims of it."""

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 4, 6, 6), "float32")) -> R.Tensor((1, 8, 6, 6), "float32"):
            with R.dataflow():
                y = R.nn.conv2d(x, R.const(W_CONST), padding=[1, 1, 1, 1])
                R.output(y)
            return y

    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((1, 4, 6, 6), "float32")) -> R.Tensor((1, 8, 6, 6), "float32"):
            with R.dataflow():
                nhwc = R.permute_dims(x, axes=[0, 2, 3, 1])
                hwio = R.const(W_HWIO)
                y = R.nn.conv2d(nhwc, hwio, padding=[1, 1, 1, 1], data_layout="NHWC", kernel_layout="HWIO",
                                out_layout="NHWC")
                out = R.permute_dims(y, axes=[0, 3, 1, 2])
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_rewritten(Before), Expected)


def test_structural_gpu_target_is_left_unchanged():
    tvm.ir.assert_structural_equal(_rewritten(ConvReLU, CUDA), ConvReLU)


def _network(x_shape):
    """stem conv (stride 2) -> relu -> depthwise 3x3 -> +bias -> 1x1 -> residual add -> grouped 3x3
    (dilation 2) -> max-pool -> global mean: every conv kind, per-channel and full-tensor
    operands, pooling and a reduction after the layout turn."""
    c = 8
    rng = np.random.default_rng(0)
    shapes = {"w1": (c, x_shape[1], 3, 3), "dw": (c, 1, 3, 3), "b": (1, c, 1, 1), "pw": (c, c, 1, 1),
              "wg": (c, c // 2, 3, 3)}
    weights = {n: rng.standard_normal(s, dtype=np.float32) for n, s in shapes.items()}
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(x_shape, "float32"))
    params = {n: relax.Var(n, relax.TensorType(s, "float32")) for n, s in shapes.items()}
    with bb.function("main", [x, *params.values()], {"num_input": 1}):
        with bb.dataflow():
            y = bb.emit(relax.op.nn.relu(relax.op.nn.conv2d(x, params["w1"], strides=2, padding=1)))
            z = bb.emit(relax.op.add(relax.op.nn.conv2d(y, params["dw"], padding=1, groups=c), params["b"]))
            z = bb.emit(relax.op.add(relax.op.nn.conv2d(z, params["pw"]), y))
            z = bb.emit(relax.op.nn.conv2d(z, params["wg"], padding=2, dilation=2, groups=2))
            z = bb.emit(relax.op.nn.max_pool2d(z, pool_size=2, strides=2))
            out = bb.emit_output(relax.op.mean(z, axis=[2, 3]))
        bb.emit_func_output(out)

    def reference(data):
        t = {n: torch.tensor(a) for n, a in weights.items()}
        y = torch.relu(torch.nn.functional.conv2d(data, t["w1"], stride=2, padding=1))
        z = torch.nn.functional.conv2d(y, t["dw"], padding=1, groups=c) + t["b"]
        z = torch.nn.functional.conv2d(z, t["pw"]) + y
        z = torch.nn.functional.conv2d(z, t["wg"], padding=2, dilation=2, groups=2)
        return torch.nn.functional.max_pool2d(z, 2, 2).mean(dim=(2, 3))

    return bb.get(), reference, list(weights.values())


def _convs(mod):
    found = []
    relax.analysis.post_order_visit(
        mod["main"].body, lambda e: found.append(e) if op_name(e) == "relax.nn.conv2d" else None)
    return found


@pytest.mark.parametrize("target", [CPU, HOST], ids=["skylake-avx512", "host"])
def test_no_nchw_conv_is_left_on_a_cpu_target(target):
    mod, _, _ = _network((2, 3, 16, 16))
    assert len(_convs(mod)) == 4
    convs = _convs(_rewritten(mod, target))
    assert len(convs) == 4, "every conv is still there"
    layouts = {(c.attrs.data_layout, c.attrs.kernel_layout, c.attrs.out_layout) for c in convs}
    assert layouts == {("NHWC", "HWIO", "NHWC")}, layouts
    # the layout turns at the model's input and before the NCHW mean, nowhere in between
    text = _rewritten(mod, target)["main"].script()
    assert text.count("R.permute_dims(x,") == 1
    assert text.count("R.permute_dims(") == 2 + 4, "the input, the pooled output and the four weights"


def test_channels_last_numerics_match_pytorch():
    mod, reference, weights = _network((2, 3, 16, 16))
    x = np.random.default_rng(1).standard_normal((2, 3, 16, 16), dtype=np.float32)
    got = run_compiled(mod, HOST, [x], weights)
    want = reference(torch.tensor(x)).numpy()
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= RTOL * np.max(np.abs(want))


def test_structural_a_transpose_pair_that_undoes_itself_is_cancelled():
    """A rewrite's NCHW conv permuted to channels-last, then back by the importer's permute
    around a construct: the pair goes, and the ReLU after it follows the conv's NHWC layout
    (ConvertLayout had ended the layout at the permute and run the ReLU NCHW)."""

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 4, 6, 6), "float32"),
                 w: R.Tensor((8, 4, 3, 3), "float32")) -> R.Tensor((1, 8, 6, 6), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                y = R.nn.conv2d(x, w, padding=[1, 1, 1, 1])
                y_nhwc = R.permute_dims(y, axes=[0, 2, 3, 1])
                y_nchw = R.permute_dims(y_nhwc, axes=[0, 3, 1, 2])
                z = R.nn.relu(y_nchw)
                R.output(z)
            return z

    tvm.ir.assert_structural_equal(_rewritten(Before), _rewritten(ConvReLU))
