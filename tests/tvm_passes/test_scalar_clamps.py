"""ONNX Clip and PyTorch's ReLU6 reach the layout rewrite as Relax ops and fuse into the conv kernel."""
import numpy as np
import onnx
import pytest
import torch
import tvm
from onnx import TensorProto, helper
from tvm import relax
from tvm.relax.frontend.onnx import from_onnx
from tvm.script import ir as I
from tvm.script import relax as R
from tvm.script import tirx as T

from sedge.tvm_passes.passes.scalar_clamps import scalar_clamps_as_ops
from sedge.tvm_passes.pipeline import REWRITE, sedge_pipeline
from sedge.tvm_passes.target import host_target

TARGET = tvm.target.Target(host_target())


def _conv_relu6(weight, as_graph=False):
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1]),
         helper.make_node("Clip", ["y", "lo", "hi"], ["z"])],
        "conv_relu6", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 8, 6, 6])],
        [helper.make_tensor("w", TensorProto.FLOAT, weight.shape, weight.ravel()),
         helper.make_tensor("lo", TensorProto.FLOAT, [], [0.0]),
         helper.make_tensor("hi", TensorProto.FLOAT, [], [6.0])])
    if as_graph:
        return graph
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return from_onnx(model, shape_dict={"x": [1, 4, 6, 6]})


def test_clip_becomes_maximum_minimum_in_channels_last():
    mod = _conv_relu6(np.ones((8, 4, 3, 3), np.float32))
    for factory in REWRITE:
        mod = factory(TARGET)(mod)
    text = mod["main"].script()
    assert "R.clip" not in text and "R.maximum" in text and "R.minimum" in text
    assert "R.call_tir(conv2d, (x," in text, "the conv reads the NCHW input itself"
    # the output changes layout; the constant weight is re-laid in numpy (FoldConstantTransposes)
    assert text.count("R.permute_dims") == 1, "only the output changes layout"


def test_conv_relu6_numerics_and_fusion():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 4, 3, 3), dtype=np.float32) * 2
    x = rng.standard_normal((1, 4, 6, 6), dtype=np.float32)
    mod = _conv_relu6(w)
    with tvm.transform.PassContext(opt_level=3):
        lowered = sedge_pipeline(TARGET)(mod)
        executable = tvm.compile(lowered, TARGET, relax_pipeline=None)
    assert any("conv2d" in gv.name_hint and "maximum" in gv.name_hint and "minimum" in gv.name_hint
               for gv in lowered.functions), "the clamp fuses into the conv kernel"
    got = relax.VirtualMachine(executable, tvm.cpu())["main"](tvm.runtime.tensor(x)).numpy()
    want = torch.clamp(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1), 0, 6).numpy()
    assert np.max(np.abs(got - want)) <= 1e-4 * np.max(np.abs(want))


def test_clip_bounds_stored_as_weights_become_maximum_minimum_too():
    """The dynamo exporter stores Clip's bounds as initializers, which sedge imports as weights
    (parameters): the clamps still become ops and follow the conv into channels-last, where
    they had been left as kernels of their own between two transposes each."""
    graph = _conv_relu6(np.ones((8, 4, 3, 3), np.float32), as_graph=True)
    mod = from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
                    shape_dict={"x": [1, 4, 6, 6]}, keep_params_in_input=True)
    assert any(v.name == "lo" for v in mod["main"].params), "the bound is a parameter"
    for factory in REWRITE:
        mod = factory(TARGET)(mod)
    text = mod["main"].script()
    assert "R.maximum" in text and "R.minimum" in text and "cls.maximum" not in text
    # the weight's (a parameter here: lift-params moves it to load time) and the output's
    assert text.count("R.permute_dims") == 2, text


def test_clip_bounds_are_evaluated_in_numpy():
    """The importer's isnan/where bound computations fold without FoldConstant, which would
    build and run a TVM kernel for each of them (seconds on mobilenetv2's 35 clamps)."""
    mod = _conv_relu6(np.ones((8, 4, 3, 3), np.float32))
    assert "R.isnan" in mod["main"].script() or "call_tir" in mod["main"].script()
    with tvm.transform.PassContext(opt_level=3, disabled_pass=["FoldConstant"]):
        mod = tvm.transform.Sequential([scalar_clamps_as_ops(TARGET)])(mod)
    text = mod["main"].script()
    assert "R.isnan" not in text and "R.where" not in text
    assert "R.maximum" in text and "R.minimum" in text


def test_pytorch_relu6_fuses_into_the_conv_without_transposes():
    """The PyTorch importer's `relax.clip` (ReLU6) becomes maximum/minimum: no transpose
    pair around it, one conv kernel with the clamp in its epilogue; numerics against PyTorch."""
    from compiled_models import run_compiled
    from test_schedules import _close

    from sedge.contract import TensorSpec
    from sedge.frontend.loaders.pytorch import from_program

    model = torch.nn.Sequential(torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.ReLU6(), torch.nn.Conv2d(8, 8, 1)).eval()
    shape = (1, 4, 6, 6)
    program = torch.export.export(model, (torch.zeros(shape),))
    mod, params = from_program(program, [TensorSpec("x", shape, "float32")])[:2]
    assert "R.clip" in mod["main"].script()
    with tvm.transform.PassContext(opt_level=3):
        lowered = sedge_pipeline(TARGET)(mod)
    kernels = []  # what `main` runs per inference (weight re-layouts are in main_transform_params)
    relax.analysis.post_order_visit(lowered["main"].body, lambda e: kernels.append(e.op.name_hint) if isinstance(
        e, relax.Call) and isinstance(e.op, tvm.ir.GlobalVar) else None)
    assert len([k for k in kernels if "transpose" in k or "clip" in k]) == 1, kernels  # the NCHW output only
    assert any("conv2d" in k and "maximum" in k and "minimum" in k for k in kernels), kernels
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32) * 4
    with torch.no_grad():
        _close(run_compiled(mod, TARGET, [x], params), model(torch.tensor(x)).numpy())


# Structural: Before / Expected, the pass run on its own under a fixed CPU target


CPU = tvm.target.Target({"kind": "llvm", "mcpu": "skylake-avx512"})


def _rewritten(mod):
    with CPU:
        return scalar_clamps_as_ops(CPU)(mod)


def test_structural_clip_becomes_maximum_then_minimum():
    """PyTorch's ReLU6 (`relax.clip` with constant bounds) -> minimum(maximum(x, 0), 6)."""

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 8, 3, 3), "float32")) -> R.Tensor((1, 8, 3, 3), "float32"):
            with R.dataflow():
                out = R.clip(x, R.prim_value(T.float32(0)), R.prim_value(T.float32(6)))
                R.output(out)
            return out

    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((1, 8, 3, 3), "float32")) -> R.Tensor((1, 8, 3, 3), "float32"):
            with R.dataflow():
                low = R.maximum(x, R.const(0.0, "float32"))
                out = R.minimum(low, R.const(6.0, "float32"))
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_rewritten(Before), Expected)


def test_structural_call_tir_of_a_scalar_maximum_becomes_the_op():
    """The ONNX importer's `call_tir` of a TOPI maximum against a 0-d bound -> `R.maximum`; the
    PrimFunc nothing calls any more is dropped."""

    @I.ir_module
    class Before:
        @T.prim_func(s_tir=True, private=True)
        def maximum(a: T.Buffer((1, 8), "float32"), b: T.Buffer((), "float32"), out: T.Buffer((1, 8), "float32")):
            for i, j in T.grid(1, 8):
                with T.sblock("maximum"):
                    vi, vj = T.axis.remap("SS", [i, j])
                    out[vi, vj] = T.max(a[vi, vj], b[()])

        @R.function
        def main(x: R.Tensor((1, 8), "float32")) -> R.Tensor((1, 8), "float32"):
            cls = Before
            with R.dataflow():
                out = R.call_tir(cls.maximum, (x, R.const(0.0, "float32")), out_ty=R.Tensor((1, 8), "float32"))
                R.output(out)
            return out

    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((1, 8), "float32")) -> R.Tensor((1, 8), "float32"):
            with R.dataflow():
                out = R.maximum(x, R.const(0.0, "float32"))
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_rewritten(Before), Expected)


def test_structural_call_tir_of_a_tensor_maximum_is_left_unchanged():
    """max(a[i], b[i]) of two full tensors is no clamp: the call_tir and its PrimFunc stay."""

    @I.ir_module
    class Before:
        @T.prim_func(s_tir=True, private=True)
        def maximum(a: T.Buffer((1, 8), "float32"), b: T.Buffer((1, 8), "float32"), out: T.Buffer((1, 8), "float32")):
            for i, j in T.grid(1, 8):
                with T.sblock("maximum"):
                    vi, vj = T.axis.remap("SS", [i, j])
                    out[vi, vj] = T.max(a[vi, vj], b[vi, vj])

        @R.function
        def main(x: R.Tensor((1, 8), "float32"), y: R.Tensor((1, 8), "float32")) -> R.Tensor((1, 8), "float32"):
            cls = Before
            with R.dataflow():
                out = R.call_tir(cls.maximum, (x, y), out_ty=R.Tensor((1, 8), "float32"))
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(_rewritten(Before), Before)


@tvm.instrument.pass_instrument
class _Ran:
    def __init__(self):
        self.names = []

    def run_before_pass(self, _mod, info):
        self.names.append(info.name)


@pytest.mark.parametrize("constant_work", [False, True])
def test_fold_constant_runs_only_where_an_op_computes_on_constants(constant_work):
    """FoldConstant legalizes every op of a model to look for constant work (4.8 s of
    densenet121's compile, which has none): it runs only where some op takes constants only."""

    @I.ir_module
    class Plain:
        @R.function
        def main(x: R.Tensor((1, 8), "float32")) -> R.Tensor((1, 8), "float32"):
            with R.dataflow():
                out = R.multiply(R.nn.relu(x), R.const(2.0, "float32"))
                R.output(out)
            return out

    @I.ir_module
    class WithConstantWork:
        @R.function
        def main(x: R.Tensor((1, 8), "float32")) -> R.Tensor((1, 8), "float32"):
            with R.dataflow():
                scale = R.sqrt(R.const(np.full((1, 8), 4.0, "float32")))
                out = R.multiply(x, scale)
                R.output(out)
            return out

    ran = _Ran()
    with tvm.transform.PassContext(instruments=[ran]):
        out = _rewritten(WithConstantWork if constant_work else Plain)
    assert ("FoldConstant" in ran.names) == constant_work, ran.names
    assert ("R.sqrt" in out["main"].script()) is False
