"""The Python API, mirroring the command line: load -> compile -> run.

    model = sedge.load("resnet.onnx")
    package = sedge.compile(model, sedge.CompileOptions(target="llvm -mcpu=skylake-avx512"))
    result = sedge.run(package, sedge.RunOptions(print_time=True, verify=True))

Each step takes one options object (the fields mirror the tvmc flags).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sedge.errors import SedgeError
from sedge.runtime.package import Package, open_package
from sedge.runtime.profiler import KernelRow
from sedge.runtime.stats import TimingStats
from sedge.tvm_passes.build import CompileOptions

VERIFY_RTOL = 1e-4  # max |sedge - reference| / max |reference|, per output
VERIFY_RTOL_FLOAT16 = 1e-2  # the same for a --mixed-precision package (float16 keeps ~3 decimal digits)


@dataclass
class RunOptions:
    inputs: str | dict | None = None  # .npz path or {name: array}; None = made by fill_mode
    fill_mode: str = "random"
    device: str = "cpu"
    repeat: int = 0  # 0: no timing (tvmc's default); set with print_time
    number: int = 1
    end_to_end: bool = False
    profile: bool = False
    verify: bool = False
    seed: int = 0


@dataclass
class Verification:
    max_abs_error: float
    max_rel_error: float
    tolerance: float
    reference: str

    @property
    def passed(self) -> bool:
        return self.max_rel_error <= self.tolerance

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (f"verify against {self.reference}: max abs error {self.max_abs_error:.3e}, max rel error "
                f"{self.max_rel_error:.3e} (tolerance {self.tolerance:g}) {verdict}")


@dataclass
class Result:
    inputs: dict
    outputs: list
    timing: TimingStats | None = None
    profile: list[KernelRow] | None = None
    verification: Verification | None = None
    package: Package | None = field(default=None, repr=False)


def load(model: str, model_format: str | None = None, input_shapes: dict | str | None = None):
    """Load a model file (.onnx, .pt2) or `zoo:<name>` into a sedge Model."""
    from sedge.frontend.loaders import load_model
    from sedge.frontend.shapes import parse_input_shapes
    from sedge.tvmc import check_model_file

    check_model_file(model, model_format)  # TorchScript (.pth): one line on what to bring instead
    if isinstance(input_shapes, str):
        input_shapes = parse_input_shapes(input_shapes)
    return load_model(model, model_format, input_shapes)


def compile(model, options: CompileOptions | None = None) -> Package:  # noqa: A001 - mirrors `sedge compile`
    """Compile a Model (or a path / zoo name) into a package; returns the opened package."""
    from sedge.tvm_passes.build import compile_model

    if isinstance(model, (str, Path)):
        model = load(str(model))
    return open_package(compile_model(model, options or CompileOptions()))


def layer_records(model: str, input_shapes: dict | str | None = None):
    """Per-layer records of a model without compiling it (what `sedge estimate` reads)."""
    from sedge.tvm_passes.layer_records import layer_records as records

    return records(load(model, input_shapes=input_shapes).mod)


def _inputs(package: Package, options: RunOptions) -> dict:
    from sedge.frontend.model import make_inputs

    if options.inputs is None:
        return make_inputs(package.metadata.inputs, options.fill_mode, options.seed)
    if isinstance(options.inputs, dict):
        given = dict(options.inputs)
    else:
        path = Path(options.inputs)
        if not path.is_file():
            raise SedgeError(f"inputs file '{path}' does not exist")
        try:
            with np.load(path) as npz:
                given = {name: npz[name] for name in npz.files}
        except (ValueError, OSError) as err:
            raise SedgeError(f"inputs file '{path}' is not a .npz archive ({err})") from None
    names = [spec.name for spec in package.metadata.inputs]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise SedgeError(f"--inputs gives {unknown}, which the model does not take; its inputs are {names}")
    # as tvmc did: inputs the file leaves out are made by --fill-mode
    missing = [spec for spec in package.metadata.inputs if spec.name not in given]
    return {**given, **make_inputs(missing, options.fill_mode, options.seed)}


def verify(package: Package, inputs: dict, outputs: list) -> Verification:
    """Compare outputs with the source model run by its reference engine."""
    from sedge.frontend.reference import reference_outputs

    expected = reference_outputs(package.metadata.source, inputs)
    if len(expected) != len(outputs):
        raise SedgeError(f"the reference gives {len(expected)} outputs, the package {len(outputs)}")
    abs_err = rel_err = 0.0
    for got, want in zip(outputs, expected):
        diff = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
        abs_err = max(abs_err, diff)
        rel_err = max(rel_err, diff / max(float(np.max(np.abs(want))) if want.size else 0.0, 1e-30))
    engine = {"onnx": "ONNX Runtime"}.get(package.metadata.source.get("format"), "PyTorch")
    tolerance = VERIFY_RTOL_FLOAT16 if package.metadata.build.get("mixed_precision") else VERIFY_RTOL
    return Verification(abs_err, rel_err, tolerance, engine)


def run(package: Package | str, options: RunOptions | None = None) -> Result:
    """Run a package on this machine: outputs, and optionally timing, profile, verification."""
    from sedge.runtime.executor import Executor
    from sedge.runtime.profiler import profile

    options = options or RunOptions()
    if not isinstance(package, Package):
        package = open_package(package)
    executor = Executor(package, options.device)
    inputs = _inputs(package, options)
    outputs = executor.run(inputs)
    result = Result(inputs, outputs, package=package)
    if options.repeat:
        result.timing = executor.time(inputs, options.number, options.repeat, options.end_to_end)
    if options.profile:
        result.profile = profile(executor, inputs)
    if options.verify:
        result.verification = verify(package, inputs, outputs)
    return result
