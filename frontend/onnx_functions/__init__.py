"""sedge's compressed layers as ONNX local functions in the `sedge` domain, one module per family.

`FUNCTIONS`: function name -> (builder of its FunctionProto, names of the sedge functions its
body calls); `SYMBOLICS`: torch custom op -> symbolic for torch's TorchScript ONNX exporter,
which writes one `sedge.<Name>` node per layer. export.py attaches the functions the graph uses.
"""
from sedge.frontend.onnx_functions import acdc, csg, fft, structured
from sedge.registry import Registry

FUNCTIONS = Registry("sedge ONNX function")
SYMBOLICS = Registry("TorchScript ONNX symbolic for")
for _family in (structured, acdc, csg, fft):
    FUNCTIONS.update_from(_family.FUNCTIONS)
    SYMBOLICS.update_from(_family.SYMBOLICS)
