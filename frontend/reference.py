"""Reference engines for `--verify`: re-run the source model on the same inputs.

`REFERENCES` maps a model source format to fn(source: dict, inputs: dict) -> list of arrays:
ONNX Runtime for ONNX files, PyTorch for torch.export programs (and the zoo's modules).
"""
from pathlib import Path

import numpy as np

from sedge.errors import SedgeError, one_line
from sedge.files import sha256_file


def _checked_path(source: dict) -> str:
    path = source["path"]
    if not Path(path).is_file():
        raise SedgeError(f"cannot verify: the source model '{path}' recorded in the package is gone")
    if sha256_file(path) != source["sha256"]:
        raise SedgeError(f"cannot verify: the source model '{path}' changed since the package was compiled")
    return path


def onnx_runtime(source: dict, inputs: dict) -> list[np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(_checked_path(source), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


def pytorch_program(source: dict, inputs: dict) -> list[np.ndarray]:
    import torch

    module = torch.export.load(_checked_path(source)).module()
    with torch.no_grad():
        out = module(*[torch.from_numpy(v) for v in inputs.values()])
    return [t.numpy() for t in (out if isinstance(out, (tuple, list)) else [out])]


def zoo_model(source: dict, inputs: dict) -> list[np.ndarray]:
    from sedge.frontend.loaders.zoo import reference

    return reference(source, inputs)


REFERENCES = {"onnx": onnx_runtime, "pytorch": pytorch_program, "zoo": zoo_model}


def reference_outputs(source: dict, inputs: dict) -> list[np.ndarray]:
    runner = REFERENCES.get(source.get("format"))
    if runner is None:
        raise SedgeError(f"cannot verify a model from '{source.get('format')}': no reference engine; "
                         f"verifiable formats: {', '.join(REFERENCES)}")
    try:
        return runner(source, inputs)
    except SedgeError:
        raise
    except Exception as err:  # the engine's own message says why it cannot run the model
        raise SedgeError(f"cannot verify: the reference engine failed on the source model: "
                         f"{one_line(err)}") from None
