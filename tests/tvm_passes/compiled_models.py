"""Small Relax models compiled through sedge's whole pipeline, shared by the pass and
schedule tests: build one, run it as the runtime does, or stop at the scheduled kernels."""
import numpy as np
import torch
import tvm
from tvm import relax, tirx

from sedge.frontend.export import export_onnx
from sedge.frontend.loaders import load_model
from sedge.tvm_passes.pipeline import phases, sedge_pipeline
from sedge.tvm_passes.target import host_target

HOST = tvm.target.Target(host_target())
AVX2 = tvm.target.Target({"kind": "llvm", "mcpu": "haswell", "num-cores": 2})  # 8 lanes, 16 registers, no AVX-512


def imported(module, x, tmp_path):
    """A torch module exported to ONNX and imported by sedge: its Relax module and weights."""
    model = load_model(export_onnx(module.eval(), x, str(tmp_path / "m.onnx")))
    params = model.params.values() if isinstance(model.params, dict) else model.params
    return model.mod, [np.asarray(p) for p in params]


def rel_err(got, want) -> float:
    """||got - want|| / ||want||."""
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


def one_op_model(op, shape):
    """`op(x)` for one float32 input x of `shape`."""
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(shape, "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            out = bb.emit_output(op(x))
        bb.emit_func_output(out)
    return bb.get()


def run_compiled(mod, target, inputs, params=()):
    """Compile `mod` for `target` and run it on numpy `inputs`, its weights `params` going
    through `main_transform_params` once first, as the runtime's Executor does."""
    with tvm.transform.PassContext(opt_level=3):
        executable = tvm.compile(sedge_pipeline(target)(mod), target, relax_pipeline=None)
    vm = relax.VirtualMachine(executable, tvm.cpu())
    weights = [tvm.runtime.tensor(p) for p in params]
    if vm.module.implements_function("main_transform_params"):
        weights = list(vm["main_transform_params"](weights))
    return vm["main"](*[tvm.runtime.tensor(x) for x in inputs], *weights).numpy()


def scheduled_kernels(mod, target) -> dict:
    """{name: PrimFunc} of `mod` as the `schedule` phase leaves it."""
    with target, tvm.transform.PassContext(opt_level=3):
        for name, passes in phases(target).items():
            mod = tvm.transform.Sequential(passes)(mod)
            if name == "schedule":
                return {gv.name_hint: f for gv, f in mod.functions.items() if isinstance(f, tirx.PrimFunc)}


def through_lift_params(mod, target):
    """`mod` as the import-cleanup, rewrite and lift-params phases leave it: what runs per
    inference in `main`, the weight-only work in `main_transform_params`."""
    with target, tvm.transform.PassContext(opt_level=3):
        for name in ("import-cleanup", "rewrite", "lift-params"):
            mod = tvm.transform.Sequential(phases(target)[name])(mod)
    return mod


def permutes(func) -> list:
    """The permute_dims calls bound in `func`'s body, in order."""
    return [b.value for block in func.body.blocks for b in block.bindings
            if isinstance(b.value, relax.Call) and b.value.op == tvm.ir.Op.get("relax.permute_dims")]


class PreActivation(torch.nn.Module):
    """A compressed layer, batch-norm, ReLU, a second compressed layer (ResNet's and WRN's
    order): the ops between two constructs, where a layout rewrite must reach."""

    def __init__(self, first, second, channels):
        super().__init__()
        self.first, self.second, self.bn = first, second, torch.nn.BatchNorm2d(channels)

    def forward(self, x):
        return self.second(torch.relu(self.bn(self.first(x))))
