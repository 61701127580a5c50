"""Construct functions no pass replaced are inlined: their convs join the layout rewrite,
their weight re-layouts move to load time, and they fuse like any other conv."""
import torch
import tvm
from tvm import relax

from sedge.frontend.export import export_onnx
from sedge.frontend.importers.construct import OP_ATTR
from sedge.frontend.layers.structured import StructuredConv2d
from sedge.frontend.loaders import load_model
from sedge.tvm_passes.pipeline import phases
from sedge.tvm_passes.target import host_target


def test_constructs_are_inlined_and_their_weight_relayouts_lifted(tmp_path):
    module = StructuredConv2d(16, 16, 3, 16, 2, padding=1).eval()
    x = torch.randn(1, 16, 12, 12)
    mod = load_model(export_onnx(module, x, str(tmp_path / "m.onnx"))).mod
    assert any(OP_ATTR in (f.attrs or {}) for f in mod.functions.values() if isinstance(f, relax.Function))
    target = tvm.target.Target(host_target())
    with target, tvm.transform.PassContext(opt_level=3):
        for name in ("import-cleanup", "rewrite", "lift-params"):
            mod = tvm.transform.Sequential(phases(target)[name])(mod)
    functions = [f for f in mod.functions.values() if isinstance(f, relax.Function)]
    assert not any(OP_ATTR in (f.attrs or {}) for f in functions), "no construct call is left"
    permuted = [b.value.args[0] for block in mod["main"].body.blocks for b in block.bindings
                if isinstance(b.value, relax.Call) and b.value.op == tvm.ir.Op.get("relax.permute_dims")]
    # channels-last runs through the layer: one transpose in at the input, one out at the
    # output; the rest re-lay constants (folded at compile time)
    assert len([p for p in permuted if not isinstance(p, tvm.ir.expr.Constant)]) == 2
    assert "R.permute_dims" in mod["main_transform_params"].script(), "weight re-layouts run at load time"
