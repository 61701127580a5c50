"""The three ways users' ONNX files were written, reproduced from a torch module.

- "torchscript": `torch.onnx.export(..., dynamo=False)`, the TorchScript exporter (opset <= 20);
- "dynamo": `torch.onnx.export(..., dynamo=True)`, the torch.export-based exporter (needs
  onnxscript; opset 18 and later, weights possibly in an external-data file);
- "initializers": the TorchScript exporter with `keep_initializers_as_inputs=True`, the
  layout of the ONNX Model Zoo's files and older exporters (every weight also a graph input).

The coverage tests and `python -m benchmarks.models tv:NAME` export through here.
"""
from __future__ import annotations

import contextlib
import io
import logging
import warnings

STYLES = ("torchscript", "dynamo", "initializers")
INPUT_NAME = "input"


def export(module, example, path: str, style: str = "torchscript", opset: int | None = None,
           input_name: str = INPUT_NAME) -> str:
    """Write `module` (eval mode), traced on `example`, to `path` in `style`; returns path."""
    import torch

    if style not in STYLES:
        raise ValueError(f"unknown export style '{style}'; styles: {', '.join(STYLES)}")
    kwargs = {"input_names": [input_name], "output_names": ["output"]}
    if opset is not None:
        kwargs["opset_version"] = opset
    # no torch.no_grad(): under it nn.MultiheadAttention takes its fused fast path
    # (aten::_native_multi_head_attention), which the TorchScript exporter cannot write
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if style == "dynamo":
            for name in ("torch.onnx", "torch.export", "onnxscript"):
                logging.getLogger(name).setLevel(logging.ERROR)
            program = torch.onnx.export(module, (example,), dynamo=True, verbose=False, **kwargs)
            program.save(path)
        else:
            torch.onnx.export(module, (example,), path, dynamo=False,
                              keep_initializers_as_inputs=style == "initializers", **kwargs)
    return path
