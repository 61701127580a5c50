"""Pow of integer tensors, and of a base and an exponent of different types.

ONNX's Pow gives the base's type. TVM's converter wants one type for both: a float base
with an integer exponent has the exponent cast to the base's type (exact: integers that
fit the float); an integer base with a float exponent is computed in float64 and cast
back, truncating as ONNX's reference does (numpy's astype); an integer base with an
integer exponent of another width has the exponent cast to the base's type.

TVM's `power` is defined for floats only (its converter stops with "power only applies to
float"). With the exponent stored in the model (a constant, as models store one), x ** e
is the product acc * where(e > j, x, 1) over j < max(e): one multiply per unit of the
largest exponent, each operand used once, so a fused kernel stays linear in size
(squaring reuses each square twice, and the inlined kernel doubled with every bit: one
int32 Pow took 9 GB to compile). Products wrap on overflow as integer multiplies do. A
negative exponent gives the integer part of the real power, as ONNX Runtime does: 1 for
x = 1, +-1 for x = -1, else 0; for x = 0, where the real power is infinite, 0 (ONNX
Runtime's cast of infinity gives the type's minimum).
Refused in one line: an integer base's integer exponent known only at run time, or one
above 64.
"""
import numpy as np
import tvm
from tvm import relax
from tvm.relax.frontend.onnx import onnx_frontend

from sedge.frontend.importers.standard.common import dtype_of, refuse
from sedge.frontend.onnx_ops import register_standard_converter

LARGEST_EXPONENT = 64


def _is_integer_tensor(expr) -> bool:
    return isinstance(getattr(expr, "ty", None), relax.TensorType) and np.dtype(dtype_of(expr)).kind in "iu"


def _integer_power(bb, x, exponent: np.ndarray):
    dtype = dtype_of(x)
    one, zero = relax.const(1, dtype), relax.const(0, dtype)
    largest = int(exponent.max())
    if largest > LARGEST_EXPONENT:
        refuse(f"Pow of {dtype} tensors with an exponent of {largest}; allowed: exponents up to "
               f"{LARGEST_EXPONENT} (stored in the model)")
    result = bb.emit(relax.op.ones_like(relax.op.add(x, relax.const(np.zeros(exponent.shape, dtype), dtype))))
    for j in range(largest):
        factor = x if (exponent > j).all() else relax.op.where(relax.const(exponent > j), x, one)
        result = bb.emit(relax.op.multiply(result, factor))
    if (exponent < 0).any():
        minus_one = relax.const(-1, dtype)
        sign = relax.op.where(relax.const((exponent & 1).astype(bool)), minus_one, one)
        truncated = relax.op.where(relax.op.equal(x, one), one,
                                   relax.op.where(relax.op.equal(x, minus_one), sign, zero))
        result = bb.emit(relax.op.where(relax.const(exponent < 0), truncated, result))
    return result


@register_standard_converter("Pow")
class Pow(onnx_frontend.Pow):
    @classmethod
    def _impl_v7(cls, bb, inputs, attr, params):
        x, e = inputs
        tensors = all(isinstance(getattr(v, "ty", None), relax.TensorType) for v in (x, e))
        if not tensors or (isinstance(x, tvm.ir.GenericConst) and isinstance(e, tvm.ir.GenericConst)):
            return super()._impl_v7(bb, inputs, attr, params)
        base, exponent = np.dtype(dtype_of(x)), np.dtype(dtype_of(e))
        if base.kind == "f" and exponent.kind in "iu":
            e = bb.emit(relax.op.astype(e, base.name))
        elif base.kind in "iu" and exponent.kind == "f":
            power = relax.op.power(relax.op.astype(x, "float64"), relax.op.astype(e, "float64"))
            return relax.op.astype(bb.emit(power), base.name)
        if not _is_integer_tensor(x):
            return super()._impl_v7(bb, [x, e], attr, params)
        e = onnx_frontend.get_constant(e, params)
        if not isinstance(e, tvm.ir.GenericConst):
            refuse(f"Pow of {base.name} tensors with an exponent known only at run time; allowed: integer "
                   "exponents stored in the model (TVM's power takes floats only)")
        return _integer_power(bb, x, e.value.numpy().astype(base))
