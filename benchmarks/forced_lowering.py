"""A model compiled through sedge's pipeline with its compressed layers forced to lowerings (as
`sedge compile --lowering LAYER=OPTION` / `all=OPTION`), loaded as the runtime loads a package:
the per-layer benchmarks (structured_layers, dct) time each option of a layer this way."""
from __future__ import annotations

import numpy as np


def compile_forced(model, overrides: dict, x: np.ndarray, target):
    """(VirtualMachine, its `main` arguments) of `model` (sedge.frontend.model.Model) with
    the layers `overrides` names ({layer or "all": option}, as `--lowering`) lowered so; the
    weights already through main_transform_params (the load-time work: weight packing, folds)."""
    import tvm
    from tvm import relax

    from sedge.tvm_passes.lowering import with_overrides
    from sedge.tvm_passes.pipeline import sedge_pipeline
    from sedge.tvm_passes.tir_pipeline import register

    with tvm.transform.PassContext(opt_level=3):
        mod = sedge_pipeline(target)(with_overrides(model.mod, overrides))
        executable = tvm.compile(mod, target, relax_pipeline=None, tir_pipeline=register())
    vm = relax.VirtualMachine(executable, tvm.cpu())
    params = [tvm.runtime.tensor(np.asarray(p)) for p in model.params]
    if vm.module.implements_function("main_transform_params"):
        params = list(vm["main_transform_params"](params))
    return vm, [tvm.runtime.tensor(x), *params]
