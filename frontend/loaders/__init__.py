"""Model loaders: one per model format, each turning a file (or zoo name) into a `Model`.

`LOADERS` is the registry: format name -> (file suffixes, loader). A loader takes the path
and a dict of input shapes from `--input-shapes` (may be empty) and returns a `Model`.
"""
from pathlib import Path

from sedge.errors import SedgeError
from sedge.frontend.loaders import onnx as _onnx
from sedge.frontend.loaders import pytorch as _pytorch
from sedge.frontend.loaders import zoo as _zoo
from sedge.frontend.model import Model

LOADERS = {
    "onnx": ((".onnx",), _onnx.load),
    "pytorch": ((".pt2",), _pytorch.load),
    "zoo": ((), _zoo.load),
}

ZOO_PREFIX = "zoo:"


def guess_format(model: str) -> str:
    if model.startswith(ZOO_PREFIX):
        return "zoo"
    suffix = Path(model).suffix.lower()
    for name, (suffixes, _) in LOADERS.items():
        if suffix in suffixes:
            return name
    allowed = ", ".join(s for suffixes, _ in LOADERS.values() for s in suffixes)
    raise SedgeError(f"cannot tell the format of '{model}' from its suffix; use --model-format "
                     f"({', '.join(LOADERS)}) or a file ending in {allowed}, or zoo:<name>")


def load_model(model: str, model_format: str | None = None, input_shapes: dict | None = None) -> Model:
    """Load `model` (a path or zoo:<name>) into a Model; the format is guessed from the suffix."""
    model_format = model_format or guess_format(model)
    if model_format not in LOADERS:
        raise SedgeError(f"unknown model format '{model_format}'; allowed: {', '.join(LOADERS)}")
    if model_format != "zoo" and not Path(model).is_file():
        raise SedgeError(f"model file '{model}' does not exist")
    _, loader = LOADERS[model_format]
    return loader(model, input_shapes or {})
