"""FoldBatchNorm: a conv's batch-norm goes into its weights and one bias add; a batch-norm
elsewhere becomes one multiply-add; numerics against PyTorch either way."""
import numpy as np
import pytest
import torch
import tvm
from compiled_models import run_compiled
from test_schedules import _close
from tvm import relax
from tvm.script import ir as I
from tvm.script import relax as R

from sedge.contract import TensorSpec
from sedge.frontend.loaders.pytorch import from_program
from sedge.tvm_passes.passes import op_name
from sedge.tvm_passes.passes.fold_batch_norm import fold_batch_norm
from sedge.tvm_passes.pipeline import phases
from sedge.tvm_passes.target import host_target

TARGET = tvm.target.Target(host_target())


def _bn(channels, seed):
    """A batch-norm with statistics and affine parameters far from the identity."""
    bn = torch.nn.BatchNorm2d(channels)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in (bn.weight, bn.bias, bn.running_mean):
            tensor.copy_(torch.randn(channels, generator=generator))
        bn.running_var.copy_(torch.rand(channels, generator=generator) + 0.5)
    return bn


class ConvBN(torch.nn.Module):
    """grouped conv (+ bias) -> BN -> ReLU."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn = torch.nn.Conv2d(8, 12, 3, padding=1, groups=4), _bn(12, 1)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class PreActivation(torch.nn.Module):
    """A residual sum read twice: by its pre-activation BN and by the next sum."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn = torch.nn.Conv2d(8, 8, 1, bias=False), _bn(8, 2)

    def forward(self, x):
        s = x + x * 0.5
        return s + self.conv(torch.relu(self.bn(s)))


class SharedConv(torch.nn.Module):
    """A conv whose output is read by its BN and by an add: its weights stay as they are."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn = torch.nn.Conv2d(8, 8, 3, padding=1, bias=False), _bn(8, 3)

    def forward(self, x):
        y = self.conv(x)
        return self.bn(y) + y


def _import(model, shape):
    program = torch.export.export(model.eval(), (torch.zeros(shape),))
    mod, params = from_program(program, [TensorSpec("x", shape, "float32")])[:2]
    return mod, params


def _rewritten(mod):
    with TARGET:
        return tvm.transform.Sequential(phases(TARGET)["import-cleanup"] + [fold_batch_norm(TARGET)])(mod)


def _ops(func):
    names = []
    relax.analysis.post_order_visit(func.body, lambda e: names.append(op_name(e)) if op_name(e) else None)
    return names


def _check_numerics(model, shape):
    mod, params = _import(model, shape)
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    with torch.no_grad():
        want = model(torch.tensor(x)).numpy()
    _close(run_compiled(mod, TARGET, [x], params), want)


def _main_ops(mod):
    """The ops of `main` after FoldBatchNorm, weight lifting and constant folding, as the
    pipeline runs them: the work left per inference."""
    lifted = relax.transform.LiftTransformParams()(_rewritten(mod))
    return _ops(relax.transform.FoldConstant()(lifted)["main"])


def test_conv_batch_norm_folds_into_weights_and_one_add():
    mod, _ = _import(ConvBN(), (1, 8, 6, 6))
    ops = _main_ops(mod)
    assert sorted(ops) == ["relax.add", "relax.nn.conv2d", "relax.nn.relu"], ops
    _check_numerics(ConvBN(), (2, 8, 6, 6))


def test_batch_norm_without_a_conv_becomes_one_multiply_add():
    mod, _ = _import(PreActivation(), (1, 8, 5, 5))
    ops = _main_ops(mod)
    assert "relax.divide" not in ops and "relax.subtract" not in ops, ops
    # x * 0.5, x + that, the BN's multiply and add, the residual add
    assert ops.count("relax.multiply") == 2 and ops.count("relax.add") == 3, ops
    _check_numerics(PreActivation(), (1, 8, 5, 5))


def test_conv_read_twice_keeps_its_weights():
    mod, _ = _import(SharedConv(), (1, 8, 5, 5))
    folded = _rewritten(mod)["main"]
    conv = next(b.value for block in folded.body.blocks for b in block.bindings
                if isinstance(b.value, relax.Call) and b.value.op == tvm.ir.Op.get("relax.nn.conv2d"))
    assert any(conv.args[1].same_as(p) for p in folded.params)  # the parameter itself, unscaled
    assert "relax.divide" not in _main_ops(mod)
    _check_numerics(SharedConv(), (1, 8, 5, 5))


@pytest.mark.parametrize("operand", ["input", "weight"])
def test_only_weight_operands_fold(operand):
    """A scale computed from the model's input is data, not a weight: nothing folds."""
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 4, 3, 3), "float32"))
    w = relax.Var("w", relax.TensorType((4, 4, 1, 1), "float32"))
    s = relax.Var("s", relax.TensorType((1, 4, 1, 1), "float32"))
    with bb.function("main", [x, w, s], {"num_input": 1}):
        with bb.dataflow():
            y = bb.emit(relax.op.nn.conv2d(x, w))
            scale = s if operand == "weight" else bb.emit(relax.op.mean(x, axis=[2, 3], keepdims=True))
            out = bb.emit_output(relax.op.multiply(y, scale))
        bb.emit_func_output(out)
    ops = _main_ops(bb.get())
    assert ("relax.multiply" in ops) == (operand == "input"), ops


# Structural: Before / Expected, the pass run on its own under a fixed CPU target


CPU = tvm.target.Target({"kind": "llvm", "mcpu": "skylake-avx512"})


def _folded(mod):
    with CPU:
        return fold_batch_norm(CPU)(mod)


def test_structural_conv_batch_norm_folds_into_weights_and_one_add():
    """(conv(x, w) - mean) * gamma + beta -> conv(x, w * gamma per output channel) + (beta - mean * gamma):
    the scale and the shift are weight-only (lift-params moves them to load time)."""

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 4, 5, 5), "float32"), w: R.Tensor((8, 4, 3, 3), "float32"),
                 mean: R.Tensor((1, 8, 1, 1), "float32"), gamma: R.Tensor((1, 8, 1, 1), "float32"),
                 beta: R.Tensor((1, 8, 1, 1), "float32")) -> R.Tensor((1, 8, 3, 3), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                y = R.nn.conv2d(x, w)
                centred = R.subtract(y, mean)
                scaled = R.multiply(centred, gamma)
                out = R.add(scaled, beta)
                R.output(out)
            return out

    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((1, 4, 5, 5), "float32"), w: R.Tensor((8, 4, 3, 3), "float32"),
                 mean: R.Tensor((1, 8, 1, 1), "float32"), gamma: R.Tensor((1, 8, 1, 1), "float32"),
                 beta: R.Tensor((1, 8, 1, 1), "float32")) -> R.Tensor((1, 8, 3, 3), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                row = R.broadcast_to(gamma, R.shape([1, 8, 1, 1]))
                per_output = R.reshape(row, R.shape([8, 1, 1, 1]))
                scaled_w = R.multiply(w, per_output)
                y = R.nn.conv2d(x, scaled_w)
                negated = R.negative(mean)
                shift = R.multiply(negated, gamma)
                bias = R.add(shift, beta)
                out = R.add(y, bias)
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_folded(Before), Expected)


MEAN = np.arange(8, dtype="float32").reshape(1, 8, 1, 1) - 3
GAMMA = np.arange(1, 9, dtype="float32").reshape(1, 8, 1, 1) / 4
BETA = np.full((1, 8, 1, 1), 0.5, dtype="float32")


def test_structural_constant_statistics_are_folded_in_numpy():
    """Constant statistics (an importer's) fold at compile time: the weight is multiplied by one
    (8, 1, 1, 1) constant and the conv gets one constant bias, no negative / multiply / add of
    constants is left for FoldConstant to build kernels for."""

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 4, 5, 5), "float32"),
                 w: R.Tensor((8, 4, 3, 3), "float32")) -> R.Tensor((1, 8, 3, 3), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                y = R.nn.conv2d(x, w)
                centred = R.subtract(y, R.const(MEAN))
                scaled = R.multiply(centred, R.const(GAMMA))
                out = R.add(scaled, R.const(BETA))
                R.output(out)
            return out

    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((1, 4, 5, 5), "float32"),
                 w: R.Tensor((8, 4, 3, 3), "float32")) -> R.Tensor((1, 8, 3, 3), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                scaled_w = R.multiply(w, R.const(GAMMA.reshape(8, 1, 1, 1)))
                y = R.nn.conv2d(x, scaled_w)
                out = R.add(y, R.const(-MEAN * GAMMA + BETA))
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_folded(Before), Expected)


def test_structural_batch_norm_without_a_conv_becomes_one_multiply_add():
    """After a ReLU the three-op chain becomes y * gamma + (beta - mean * gamma)."""

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 8, 3, 3), "float32"), mean: R.Tensor((1, 8, 1, 1), "float32"),
                 gamma: R.Tensor((1, 8, 1, 1), "float32"),
                 beta: R.Tensor((1, 8, 1, 1), "float32")) -> R.Tensor((1, 8, 3, 3), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                y = R.nn.relu(x)
                centred = R.subtract(y, mean)
                scaled = R.multiply(centred, gamma)
                out = R.add(scaled, beta)
                R.output(out)
            return out

    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((1, 8, 3, 3), "float32"), mean: R.Tensor((1, 8, 1, 1), "float32"),
                 gamma: R.Tensor((1, 8, 1, 1), "float32"),
                 beta: R.Tensor((1, 8, 1, 1), "float32")) -> R.Tensor((1, 8, 3, 3), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                y = R.nn.relu(x)
                scaled = R.multiply(y, gamma)
                negated = R.negative(mean)
                shift = R.multiply(negated, gamma)
                bias = R.add(shift, beta)
                out = R.add(scaled, bias)
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_folded(Before), Expected)


def test_structural_scale_computed_from_the_input_is_left_unchanged():
    """A per-channel scale computed from the model's input is data, not a weight: nothing folds."""

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 4, 3, 3), "float32"),
                 w: R.Tensor((4, 4, 1, 1), "float32")) -> R.Tensor((1, 4, 3, 3), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                y = R.nn.conv2d(x, w)
                scale = R.mean(x, axis=[2, 3], keepdims=True)
                out = R.multiply(y, scale)
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_folded(Before), Before)


@pytest.mark.parametrize("lowering", ["fold", "sumpool+conv", "generic"])
def test_batch_norm_after_a_structured_conv_folds_into_alpha_and_bias(lowering, tmp_path):
    """A structured conv's output is linear in alpha and its bias: the batch-norm after it
    scales them and its shift goes into the bias (computed from weights only, at load
    time): per inference no op of the batch-norm is left, whichever lowering the layer gets."""
    from compiled_models import HOST, imported, rel_err

    from sedge.frontend.layers.structured import StructuredConv2d
    from sedge.tvm_passes.lowering import with_overrides

    torch.manual_seed(0)
    model = torch.nn.Sequential(StructuredConv2d(16, 24, 3, 16, 2, padding=1, bias=False),
                                torch.nn.BatchNorm2d(24), torch.nn.ReLU())
    norm = model[1]
    norm.running_mean.uniform_(-1, 1), norm.running_var.uniform_(0.5, 2)
    norm.weight.data.uniform_(0.5, 2), norm.bias.data.uniform_(-1, 1)
    x = torch.randn(1, 16, 8, 8)
    mod, params = imported(model.eval(), x, tmp_path)
    mod = with_overrides(mod, {"all": lowering})
    with HOST:
        folded = fold_batch_norm(HOST)(relax.transform.DecomposeOpsForInference()(mod))
    main = folded["main"]
    num_input = int(main.attrs["num_input"])
    data = {main.params[0]}
    per_inference = []  # the ops on activations: everything computed from the input
    for block in main.body.blocks:
        for binding in block.bindings:
            value = binding.value
            args = (value.args if isinstance(value, relax.Call) else value.fields if isinstance(value, relax.Tuple)
                    else [value.tuple_value] if isinstance(value, relax.TupleGetItem) else [value])
            if any(a in data for a in args):
                data.add(binding.var)
                if isinstance(value, relax.Call):
                    per_inference.append(op_name(value) or value.op.name_hint)
    assert num_input == 1 and per_inference[0].startswith("sedge_StructuredConv")
    assert per_inference[1:] == ["relax.nn.relu"], per_inference  # the shift went into the bias
    got = run_compiled(mod, HOST, [x.numpy()], params)
    assert rel_err(got, model(x).detach().numpy()) < 1e-4
