"""sedge's own ONNX operators, plugged into TVM's Relax ONNX frontend.

TVM's `from_onnx` has no converter hook and ignores node domains: it looks every node's
op_type up in `onnx_frontend._get_convert_map()`. `converters_installed()` widens that map
for the duration of one import with `CONVERTERS` (op_type -> OnnxOpConverter subclass), so
the compressed layers' functions in the `sedge` domain import as one construct each, and
with `STANDARD_CONVERTERS`: sedge's replacements of TVM's converters of standard ONNX ops
that TVM gets wrong or crashes on (`frontend/importers/standard/`, one module per op). The
two are kept apart because `CONVERTERS` also says which model-local functions need no
inlining (`importers/fallback.py`).
"""
import contextlib

from sedge.registry import Registry

CONVERTERS = Registry("ONNX converter for")
register_converter = CONVERTERS.register
STANDARD_CONVERTERS = Registry("replacement ONNX converter for")
register_standard_converter = STANDARD_CONVERTERS.register


@contextlib.contextmanager
def converters_installed():
    from tvm.relax.frontend.onnx import onnx_frontend

    original = onnx_frontend._get_convert_map

    def widened():
        return {**original(), **STANDARD_CONVERTERS, **CONVERTERS}

    onnx_frontend._get_convert_map = widened
    try:
        yield
    finally:
        onnx_frontend._get_convert_map = original
