"""sedge's replacements of TVM's converters of standard ONNX operators, one module per op.

Each subclasses TVM's converter (`tvm.relax.frontend.onnx.onnx_frontend`) and is filed in
`frontend.onnx_ops.STANDARD_CONVERTERS`, which `converters_installed()` lays over TVM's map
for one import. Each fixes what ONNX's node tests found TVM getting wrong or crashing on,
and hands everything else to TVM's converter; what sedge cannot compile for inference
(training-mode statistics, random masks, sequences) is refused in one line naming the op
and what is allowed (`refuse`).
"""
from sedge.frontend.importers.standard import (  # noqa: F401  (registration)
    constant,
    conv_transpose,
    dropout,
    layer_norm,
    matmul,
    power,
    resize,
    slicing,
    space_to_depth,
)
