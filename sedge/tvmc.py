"""tvmc's Python API over sedge: `from sedge import tvmc` instead of `from tvm.driver import tvmc`.

    model = tvmc.load("resnet50-v2-7.onnx", shape_dict={"data": [1, 3, 224, 224]})
    package = tvmc.compile(model, target="llvm")
    result = tvmc.run(package, device="cpu", benchmark=True)
    print(result)
    records = tvmc.tune(model, target="llvm", trials=64)
    package = tvmc.compile(model, target="llvm", tuning_records=records)

The functions are thin wrappers over `sedge.load` / `sedge.compile` / `sedge.run` and
`sedge.tvm_passes.tune`, with tvmc's argument names. This module also holds what both the
command line and these wrappers need from tvmc's world: its `--config` JSON layout and its
Relay-era flags (each accepted with the meaning it has on TVM 0.27, or refused in one line).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from sedge.errors import SedgeError

__all__ = ["TVMCModel", "TVMCPackage", "TVMCResult", "load", "compile", "run", "tune"]

# ---------------------------------------------------------------------------------------------
# tvmc's flags and files


def flags_from_tvmc_config(values: dict) -> dict:
    """A `--config` JSON object in tvmc's layout -> sedge's flat flag values.

    tvmc wrote targets as {"targets": [{"kind": "llvm", "mcpu": "..."}, ...]} (a device and
    then its host), executor/runtime as {"kind": ...} objects and pass configs as an object;
    sedge's own layout (flag names, "target": "llvm ...") passes through unchanged.
    """
    flags = {}
    for key, value in values.items():
        name = key.lstrip("-").replace("_", "-")
        if name == "targets":
            if not isinstance(value, list) or not value or not all(isinstance(t, dict) and "kind" in t for t in value):
                raise SedgeError('--config: "targets" must be a list of objects with a "kind", e.g. '
                                 '[{"kind": "llvm", "mcpu": "skylake"}]')
            parts = []
            for target in value:
                options = " ".join(f"-{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
                                   for k, v in target.items() if k != "kind")
                parts.append(f"{target['kind']} {options}".strip())
            flags["target"] = ", ".join(parts)
        elif name in ("executor", "runtime") and isinstance(value, dict):
            flags[name] = value.get("kind")
        elif name == "pass-config" and isinstance(value, dict):
            flags[name] = [f"{k}={v}" for k, v in value.items()]
        elif name == "pass-config" and isinstance(value, str):
            flags[name] = [value]
        else:
            flags[key] = value
    return flags


_EXECUTORS = {"graph": "TVM 0.27's Relax VM (sedge packages run on it; Relay's graph executor is gone)",
              "vm": "TVM 0.27's Relax VM"}
_RUNTIMES = {"cpp": "TVM's C++ runtime (libtvm_runtime), which sedge packages use"}


def relay_era_flags(args) -> list[str]:
    """Check tvmc's Relay-era compile flags in `args` (an argparse namespace or any object with
    those attributes); returns the notes to print, raises SedgeError for the ones that cannot
    mean anything on TVM 0.27. `--dump-code relay` becomes `relax`."""
    notes = []
    executor, runtime = getattr(args, "executor", None), getattr(args, "runtime", None)
    if executor and executor not in _EXECUTORS:
        raise SedgeError(f"--executor {executor}: TVM 0.27 has no {executor} executor (AOT went with microTVM); "
                         "sedge packages run on the Relax VM: use --executor graph or vm, or leave it out")
    if executor:
        notes.append(f"--executor {executor}: building for {_EXECUTORS[executor]}")
    if runtime and runtime not in _RUNTIMES:
        raise SedgeError(f"--runtime {runtime}: TVM 0.27 has no {runtime} runtime (microTVM's CRT is gone); "
                         "sedge packages need TVM's C++ runtime: use --runtime cpp, or leave it out")
    if runtime:
        notes.append(f"--runtime {runtime}: {_RUNTIMES[runtime]}")
    layout = getattr(args, "desired_layout", None)
    if layout:
        notes.append(f"--desired-layout {layout}: sedge picks kernel layouts itself (convs run channels-last, "
                     "NHWC, on CPUs); the model's inputs and outputs keep their layout")
    dump = getattr(args, "dump_code", None) or []
    if "relay" in dump:
        args.dump_code = [("relax" if fmt == "relay" else fmt) for fmt in dump]
        args.dump_code = list(dict.fromkeys(args.dump_code))
        notes.append("--dump-code relay: TVM 0.27 has no Relay; writing its successor, the Relax IR, "
                     f"to {getattr(args, 'output', 'module.tar')}.relax")
    return notes


def check_model_file(path: str, model_format: str | None):
    """TorchScript files (.pth/.pt) were tvmc's PyTorch input; Relax imports torch.export programs."""
    import zipfile

    suffix = Path(path).suffix.lower()
    if suffix not in (".pth", ".pt") or model_format not in (None, "pytorch"):
        return
    if Path(path).is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if any(name.endswith("archive_format") for name in archive.namelist()):
                return  # a torch.export archive under another suffix
    raise SedgeError(f"'{path}' is a TorchScript/pickled PyTorch file, which TVM 0.27 cannot import (Relay's "
                     "from_pytorch is gone): save a torch.export program (.pt2) or an ONNX file")


# ---------------------------------------------------------------------------------------------
# the Python API


class TVMCModel:
    """A loaded model (tvmc's TVMCModel): `mod` is the Relax module, `params` the weights."""

    def __init__(self, model):
        self.model = model  # the sedge Model

    @property
    def mod(self):
        return self.model.mod

    @property
    def params(self) -> dict:
        return dict(zip(self.model.param_names, self.model.params))

    def summary(self, file=None):
        """Print the model's IR (tvmc printed Relay; this is Relax)."""
        print(self.model.mod.script(), file=file)


class TVMCPackage:
    """A compiled package on disk (tvmc's TVMCPackage(package_path=...))."""

    def __init__(self, package_path: str):
        from sedge.runtime.package import open_package

        self.package_path = str(package_path)
        self.package = open_package(self.package_path)
        self.lib_path = str(self.package.library_path)
        self.lib_name = Path(self.lib_path).name


class TVMCResult:
    """Outputs by name (output_0, ...) and the timing (tvmc's TVMCResult)."""

    def __init__(self, outputs: dict, times=None):
        self.outputs = outputs
        self.times = times  # sedge.runtime.stats.TimingStats, or None without benchmark=True

    def format_times(self) -> str:
        """tvmc's "Execution time summary" table."""
        return self.times.tvmc_table() if self.times is not None else ""

    def get_output(self, name: str) -> np.ndarray:
        return self.outputs[name]

    def save(self, output_path: str):
        np.savez(output_path, **self.outputs)

    def __str__(self):
        return self.format_times() + "\n" + f"Output Names:\n {list(self.outputs.keys())}"


def load(path: str, model_format: str | None = None, shape_dict: dict | None = None, **kwargs) -> TVMCModel:
    """tvmc.load: a model file (.onnx, .pt2) or zoo:<name> -> TVMCModel."""
    import sedge

    if kwargs:
        raise SedgeError(f"tvmc.load: unsupported argument(s) {sorted(kwargs)}; sedge takes path, model_format, "
                         "shape_dict")
    return TVMCModel(sedge.load(str(path), model_format, shape_dict))


def _target_options(additional_target_options: dict | None) -> dict:
    """tvmc's {"llvm": {"mcpu": "x"}} -> sedge's {("llvm", "mcpu"): "x"}."""
    return {(kind, option): value for kind, options in (additional_target_options or {}).items()
            for option, value in options.items()}


def compile(tvmc_model: TVMCModel, target: str | None = None, opt_level: int = 3,  # noqa: A001 - tvmc's name
            tuning_records: str | None = None, package_path: str | None = None, cross: str | None = None,
            cross_options: str | None = None, output_format: str = "so", dump_code=None,
            target_host: str | None = None, disabled_pass=None, pass_context_configs=None,
            additional_target_options: dict | None = None, executor=None, runtime=None, use_vm: bool = False,
            desired_layout: str | None = None, desired_layout_ops=None, mixed_precision: bool = False,
            mixed_precision_ops=None, mixed_precision_calculation_type: str | None = None,
            mixed_precision_acc_type: str | None = None, print_pass_times: bool = False,
            print_ir_before=None, print_ir_after=None, **kwargs) -> TVMCPackage:
    """tvmc.compile: a TVMCModel -> TVMCPackage (a sedge package at package_path, or a temporary one)."""
    from types import SimpleNamespace

    import sedge

    if kwargs:
        raise SedgeError(f"tvmc.compile: unsupported argument(s) {sorted(kwargs)} (Relay/microTVM-only in tvmc)")

    def as_list(value):
        if value is None:
            return []
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else list(value)

    executor = getattr(executor, "name", executor)  # tvmc passed Executor("graph") objects
    runtime = getattr(runtime, "name", runtime)
    if package_path is None:
        package_path = str(Path(tempfile.mkdtemp(prefix="tvmc-")) / "model_package.tar")
    if target_host:
        target = f"{target or 'llvm'}, {target_host}"
    flags = SimpleNamespace(executor=executor, runtime=runtime, desired_layout=desired_layout,
                            dump_code=as_list(dump_code), output=package_path)
    for note in relay_era_flags(flags):
        print(f"note: {note}")
    options = sedge.CompileOptions(
        target=target, target_options=_target_options(additional_target_options), output=package_path,
        opt_level=opt_level, cross_compiler=cross, cross_compiler_options=cross_options or "",
        tuning_records=tuning_records, disabled_passes=as_list(disabled_pass),
        pass_config=_pass_config(pass_context_configs), dump_code=flags.dump_code,
        print_pass_times=print_pass_times, print_ir_before=as_list(print_ir_before),
        print_ir_after=as_list(print_ir_after), output_format=output_format, mixed_precision=mixed_precision,
        mixed_precision_ops=mixed_precision_ops, mixed_precision_calculation_type=mixed_precision_calculation_type,
        mixed_precision_acc_type=mixed_precision_acc_type)
    sedge.compile(tvmc_model.model, options)
    return TVMCPackage(package_path)


def _pass_config(entries) -> dict:
    from sedge.tvm_passes.pass_config import parse_pass_configs

    if entries is None:
        return {}
    if isinstance(entries, dict):
        return dict(entries)
    return parse_pass_configs([entries] if isinstance(entries, str) else list(entries))


def run(tvmc_package: TVMCPackage | str, device: str = "cpu", hostname: str | None = None, port: int = 9090,
        rpc_key: str | None = None, inputs: dict | None = None, fill_mode: str = "random", benchmark: bool = False,
        repeat: int = 10, number: int = 10, profile: bool = False, end_to_end: bool = False,
        **kwargs) -> TVMCResult:
    """tvmc.run: run a package here, or on the board under `rpc_key` at the tracker hostname:port."""
    import sedge

    if kwargs:
        raise SedgeError(f"tvmc.run: unsupported argument(s) {sorted(kwargs)}")
    path = tvmc_package.package_path if isinstance(tvmc_package, TVMCPackage) else str(tvmc_package)
    if hostname:
        import os

        from sedge.runtime.remote import run_remote

        if not rpc_key:
            raise SedgeError("tvmc.run over RPC needs rpc_key (sedge reaches boards through a tracker)")
        with tempfile.TemporaryDirectory(prefix="tvmc-") as tmp:
            inputs_path = None
            if inputs:
                inputs_path = os.path.join(tmp, "inputs.npz")
                np.savez(inputs_path, **inputs)
            result = run_remote(path, rpc_tracker=f"{hostname}:{port}", rpc_key=rpc_key, inputs=inputs_path,
                                repeat=repeat, number=number, return_outputs=True)
        return TVMCResult({f"output_{i}": o for i, o in enumerate(result.outputs)},
                          result.stats if benchmark else None)
    options = sedge.RunOptions(inputs=dict(inputs) if inputs else None, fill_mode=fill_mode, device=device,
                               repeat=repeat if benchmark else 0, number=number, end_to_end=end_to_end,
                               profile=profile)
    result = sedge.run(path, options)
    return TVMCResult({f"output_{i}": o for i, o in enumerate(result.outputs)}, result.timing)


def tune(tvmc_model: TVMCModel, target: str | None = None, tuning_records: str | None = None,
         prior_records: str | None = None, enable_autoscheduler: bool = False, rpc_key: str | None = None,
         hostname: str | None = None, port: int = 9090, trials: int = 1000, early_stopping: int | None = None,
         timeout: int = 10, repeat: int = 1, number: int = 10, additional_target_options: dict | None = None,
         **kwargs) -> str:
    """tvmc.tune: MetaSchedule records for the model (a directory); returns its path.
    `enable_autoscheduler` is accepted: MetaSchedule is TVM 0.27's successor to Ansor."""
    from sedge.tvm_passes.tune import TuneOptions, tune_model

    if kwargs:
        raise SedgeError(f"tvmc.tune: unsupported argument(s) {sorted(kwargs)} (AutoTVM/Ansor-only in tvmc)")
    if tuning_records is None:
        tuning_records = str(Path(tempfile.mkdtemp(prefix="tvmc-")) / "tuning_records")
    options = TuneOptions(output=tuning_records, target=target,
                          target_options=_target_options(additional_target_options), trials=trials,
                          early_stopping=early_stopping, number=number, repeat=repeat, timeout=timeout,
                          tuning_records=prior_records, rpc_tracker=f"{hostname}:{port}" if hostname else None,
                          rpc_key=rpc_key)
    return str(tune_model(tvmc_model.model, options))
