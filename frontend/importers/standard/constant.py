"""Constant given by value_float(s) / value_int(s) (opset 12+).

TVM's converter reads only the `value` tensor ("no value in Constant"); ONNX's function
bodies and the torch.export-based exporter write scalars and lists through the typed
attributes: value_float(s) are float32, value_int(s) int64, a scalar 0-d and a list 1-D.
Strings and sparse tensors are refused in one line.
"""
import numpy as np
from tvm import relax
from tvm.relax.frontend.onnx import onnx_frontend

from sedge.frontend.importers.standard.common import refuse
from sedge.frontend.onnx_ops import register_standard_converter

_TYPED = {"value_float": np.float32, "value_floats": np.float32, "value_int": np.int64, "value_ints": np.int64}


@register_standard_converter("Constant")
class Constant(onnx_frontend.Constant):
    @classmethod
    def _impl_v13(cls, bb, inputs, attr, params):
        for name, dtype in _TYPED.items():
            if name in attr:
                value = np.array(attr[name], dtype=dtype)
                return relax.const(value, np.dtype(dtype).name)
        given = sorted(k for k in attr if k.startswith(("value_string", "sparse_value")))
        if given:
            refuse(f"Constant given by {given[0]}; allowed: value, value_float(s), value_int(s)")
        return super()._impl_v13(bb, inputs, attr, params)
