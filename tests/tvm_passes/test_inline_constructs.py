"""Construct functions no pass replaced are inlined: their convs join the layout rewrite,
their weight re-layouts move to load time, and they fuse like any other conv."""
import torch
import tvm
from compiled_models import HOST, permutes, through_lift_params
from tvm import relax
from tvm.script import ir as I
from tvm.script import relax as R

from sedge.frontend.export import export_onnx
from sedge.frontend.importers.construct import OP_ATTR
from sedge.frontend.layers.structured import StructuredConv2d
from sedge.frontend.loaders import load_model
from sedge.tvm_passes.passes.inline_constructs import inline_constructs


def test_constructs_are_inlined_and_their_weight_relayouts_lifted(tmp_path):
    module = StructuredConv2d(16, 16, 3, 16, 2, padding=1).eval()
    x = torch.randn(1, 16, 12, 12)
    mod = load_model(export_onnx(module, x, str(tmp_path / "m.onnx"))).mod
    assert any(OP_ATTR in (f.attrs or {}) for f in mod.functions.values() if isinstance(f, relax.Function))
    mod = through_lift_params(mod, HOST)
    functions = [f for f in mod.functions.values() if isinstance(f, relax.Function)]
    assert not any(OP_ATTR in (f.attrs or {}) for f in functions), "no construct call is left"
    permuted = [call.args[0] for call in permutes(mod["main"])]
    # channels-last runs through the layer: one transpose in at the input, one out at the
    # output; the rest re-lay constants (folded at compile time)
    assert len([p for p in permuted if not isinstance(p, tvm.ir.expr.Constant)]) == 2
    assert "R.permute_dims" in mod["main_transform_params"].script(), "weight re-layouts run at load time"


# Structural: Before / Expected, the pass run on its own under a fixed CPU target


CPU = tvm.target.Target({"kind": "llvm", "mcpu": "skylake-avx512"})


def _inlined(mod):
    with CPU:
        return inline_constructs(CPU)(mod)


@I.ir_module
class _Construct:
    """What emit_sedge_call makes of a compressed layer: a private function tagged "sedge.op"."""

    @R.function(private=True)
    def sedge_structured_conv(arg0: R.Tensor((1, 4, 6, 6), "float32"),
                              arg1: R.Tensor((4, 1, 3, 3), "float32")) -> R.Tensor((1, 4, 6, 6), "float32"):
        R.func_attr({"sedge.op": "structured_conv", "groups": 4})
        with R.dataflow():
            y = R.nn.conv2d(arg0, arg1, padding=[1, 1, 1, 1], groups=4)
            R.output(y)
        return y

    @R.function
    def main(x: R.Tensor((1, 4, 6, 6), "float32"),
             w: R.Tensor((4, 1, 3, 3), "float32")) -> R.Tensor((1, 4, 6, 6), "float32"):
        R.func_attr({"num_input": 1})
        cls = _Construct
        with R.dataflow():
            y = cls.sedge_structured_conv(x, w)
            first = R.nn.relu(y)
            z = cls.sedge_structured_conv(first, w)
            R.output(z)
        return z


def test_structural_construct_calls_are_inlined():
    """Each call of the construct becomes its generic body in `main`; the function is gone."""

    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((1, 4, 6, 6), "float32"),
                 w: R.Tensor((4, 1, 3, 3), "float32")) -> R.Tensor((1, 4, 6, 6), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                y = R.nn.conv2d(x, w, padding=[1, 1, 1, 1], groups=4)
                first = R.nn.relu(y)
                z = R.nn.conv2d(first, w, padding=[1, 1, 1, 1], groups=4)
                R.output(z)
            return z

    tvm.ir.assert_structural_equal(_inlined(_Construct), Expected)


def test_structural_public_functions_are_left_unchanged():
    """A function with a global symbol is an entry point of its own: its calls stay."""

    @I.ir_module
    class Before:
        @R.function
        def conv(a: R.Tensor((1, 4, 6, 6), "float32"),
                 b: R.Tensor((4, 1, 3, 3), "float32")) -> R.Tensor((1, 4, 6, 6), "float32"):
            with R.dataflow():
                y = R.nn.conv2d(a, b, padding=[1, 1, 1, 1], groups=4)
                R.output(y)
            return y

        @R.function
        def main(x: R.Tensor((1, 4, 6, 6), "float32"),
                 w: R.Tensor((4, 1, 3, 3), "float32")) -> R.Tensor((1, 4, 6, 6), "float32"):
            R.func_attr({"num_input": 1})
            cls = Before
            with R.dataflow():
                y = cls.conv(x, w)
                z = R.nn.relu(y)
                R.output(z)
            return z

    tvm.ir.assert_structural_equal(_inlined(Before), Before)
