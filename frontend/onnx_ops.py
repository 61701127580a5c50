"""sedge's own ONNX operators, plugged into TVM's Relax ONNX frontend.

TVM's `from_onnx` has no converter hook and ignores node domains: it looks every node's
op_type up in `onnx_frontend._get_convert_map()`. `converters_installed()` widens that map
for the duration of one import with `CONVERTERS` (op_type -> OnnxOpConverter subclass), so
the compressed layers' functions in the `sedge` domain import as one construct each.
"""
import contextlib

CONVERTERS = {}


def register_converter(op_type: str):
    def register(converter_cls):
        if op_type in CONVERTERS:
            raise RuntimeError(f"ONNX converter for '{op_type}' registered twice")
        CONVERTERS[op_type] = converter_cls
        return converter_cls

    return register


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
