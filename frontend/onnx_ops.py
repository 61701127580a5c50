"""sedge's own ONNX operators, plugged into TVM's Relax ONNX frontend.

TVM's `from_onnx` has no converter hook and ignores node domains: it looks every node's
op_type up in `onnx_frontend._get_convert_map()`. `converters_installed()` widens that map
for the duration of one import with `CONVERTERS` (op_type -> OnnxOpConverter subclass), so
the compressed layers' functions in the `sedge` domain import as one construct each.
"""
import contextlib

from sedge.registry import Registry

CONVERTERS = Registry("ONNX converter for")
register_converter = CONVERTERS.register


@contextlib.contextmanager
def converters_installed():
    from tvm.relax.frontend.onnx import onnx_frontend

    original = onnx_frontend._get_convert_map

    def widened():
        return {**original(), **CONVERTERS}

    onnx_frontend._get_convert_map = widened
    try:
        yield
    finally:
        onnx_frontend._get_convert_map = original
