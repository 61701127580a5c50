"""Load a package on a device and run it: outputs, timings, per-kernel profiles.

Weights go through `main_transform_params` (when the compiler lifted any weight-only work
into it) once, at load time; `run` and `time` then call `main` on inputs only. The input
tensors are allocated once and refilled on every call: a fresh TVM tensor per call took
0.35 ms for a 4.8 MB input, where refilling one takes a memcpy's 0.1 ms. So an Executor
serves one caller at a time (as TVM's VM does).
"""
from __future__ import annotations

import time

import numpy as np

from sedge.errors import SedgeError, one_line
from sedge.runtime.package import Package
from sedge.runtime.stats import TimingStats
from sedge.runtime.threads import set_default_threads

DEVICES = ("cpu", "cuda")


def _device(name: str, target: dict):
    import tvm

    if name not in DEVICES:
        raise SedgeError(f"unknown device '{name}'; allowed: {', '.join(DEVICES)}")
    wanted = "cuda" if target.get("kind") == "cuda" else "cpu"
    if name != wanted:
        raise SedgeError(f"the package was compiled for '{target.get('kind')}'; run it with --device {wanted}")
    device = tvm.device(name, 0)
    if not device.exist:
        raise SedgeError(f"no {name} device on this machine")
    return device


class Executor:
    def __init__(self, package: Package, device: str = "cpu"):
        import tvm
        from tvm.runtime.vm import VirtualMachine  # the runtime's VM: a board needs no compiler library

        set_default_threads()  # before this process's first kernel starts TVM's thread pool
        self.package = package
        self.metadata = package.metadata
        if package.library_path.suffix != ".so":
            raise SedgeError(f"'{package.path}' holds unlinked objects for {self.metadata.target.get('mtriple')}; "
                             "recompile with --cross-compiler to get a loadable library")
        self.device = _device(device, self.metadata.target)
        try:
            library = tvm.runtime.load_module(str(package.library_path))
        except Exception as err:
            raise SedgeError(f"cannot load the library of '{package.path}' here (built for "
                             f"{self.metadata.target.get('mtriple') or self.metadata.target.get('kind')}): "
                             f"{one_line(err, last=True)}") from None
        self.vm = VirtualMachine(library, self.device)
        params = [tvm.runtime.tensor(p, self.device) for p in package.params]
        if self.vm.module.implements_function("main_transform_params"):
            params = list(self.vm["main_transform_params"](params))
        self.params = params
        self._input_tensors = {}  # name -> the device tensor refilled on each call

    def _inputs(self, inputs: dict[str, np.ndarray]):
        import tvm

        tensors = []
        for spec in self.metadata.inputs:
            if spec.name not in inputs:
                raise SedgeError(f"missing input '{spec.name}'; the model's inputs are "
                                 f"{[s.name for s in self.metadata.inputs]}")
            value = np.asarray(inputs[spec.name])
            if list(value.shape) != list(spec.shape) or value.dtype.name != spec.dtype:
                raise SedgeError(f"input '{spec.name}' is {value.dtype.name}{list(value.shape)}, "
                                 f"the package expects {spec.dtype}{spec.shape}")
            tensor = self._input_tensors.get(spec.name)
            if tensor is None:
                tensor = self._input_tensors[spec.name] = tvm.runtime.empty(value.shape, value.dtype, self.device)
            tensor.copyfrom(np.asarray(value, order="C"))  # ascontiguousarray makes a 0-d input 1-d
            tensors.append(tensor)
        return tensors

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        out = self.vm["main"](*self._inputs(inputs), *self.params)
        return [o.numpy() for o in ([out] if hasattr(out, "numpy") else out)]  # a tensor or a tuple

    def time(self, inputs, number: int = 1, repeat: int = 10, end_to_end: bool = False,
             warmup: int = 1) -> TimingStats:
        """Per-repeat mean latency of `number` calls. `end_to_end` includes copying the
        inputs to the device and the outputs back, as tvmc's --end-to-end."""
        if number < 1 or repeat < 1:
            raise SedgeError(f"--number and --repeat must be >= 1, got {number} and {repeat}")
        for _ in range(warmup):
            self.run(inputs)
        if end_to_end:
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                for _ in range(number):
                    self.run(inputs)
                samples.append((time.perf_counter() - start) / number * 1e3)
            return TimingStats(tuple(samples))
        args = [*self._inputs(inputs), *self.params]
        self.vm.set_input("main", *args)
        timer = self.vm.time_evaluator("invoke_stateful", self.device, number=number, repeat=repeat)
        result = timer("main")
        return TimingStats(tuple(r * 1e3 for r in result.results))
