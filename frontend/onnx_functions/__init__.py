"""sedge's compressed layers as ONNX local functions in the `sedge` domain, one module per family.

`FUNCTIONS`: function name -> (builder of its FunctionProto, names of the sedge functions its
body calls); `SYMBOLICS`: torch custom op -> symbolic for torch's TorchScript ONNX exporter,
which writes one `sedge.<Name>` node per layer. export.py attaches the functions the graph uses.
"""
from sedge.frontend.onnx_functions import acdc, csg, fft, structured

FUNCTIONS = {}
SYMBOLICS = {}
for _family in (structured, acdc, csg, fft):
    for _registry, _entries in ((FUNCTIONS, _family.FUNCTIONS), (SYMBOLICS, _family.SYMBOLICS)):
        duplicate = set(_registry) & set(_entries)
        if duplicate:
            raise RuntimeError(f"sedge ONNX functions registered twice: {sorted(duplicate)}")
        _registry.update(_entries)
