"""The imported model handed from the frontend to the compiler.

A `Model` is a Relax module whose `main` takes the inputs first and the weights after them
(attribute `num_input`), the weights as numpy arrays, and a description of where the model
came from so that a reference engine (ONNX Runtime or PyTorch) can re-run it for `--verify`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sedge.contract import TensorSpec


@dataclass
class Model:
    mod: object  # tvm.IRModule; `main` has attribute num_input = len(inputs)
    params: list[np.ndarray]
    param_names: list[str]
    inputs: list[TensorSpec]
    source: dict  # {"format": ..., plus what the format's reference runner needs}
    notes: list[str] = field(default_factory=list)  # import remarks worth showing the user

    def example_inputs(self, fill_mode: str = "random", seed: int = 0) -> dict[str, np.ndarray]:
        return make_inputs(self.inputs, fill_mode, seed)


FILL_MODES = ("zeros", "ones", "random")


def make_inputs(specs: list[TensorSpec], fill_mode: str = "random", seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs as tvmc's --fill-mode makes them: zeros, ones, or uniform [0, 1) random."""
    from sedge.errors import SedgeError

    if fill_mode not in FILL_MODES:
        raise SedgeError(f"unknown fill mode '{fill_mode}'; allowed: {', '.join(FILL_MODES)}")
    rng = np.random.default_rng(seed)
    make = {
        "zeros": lambda s: np.zeros(s.shape, s.dtype),
        "ones": lambda s: np.ones(s.shape, s.dtype),
        "random": lambda s: rng.random(s.shape).astype(s.dtype),
    }[fill_mode]
    return {spec.name: make(spec) for spec in specs}
