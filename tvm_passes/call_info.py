"""One call of the walk in layer_records.py, as a recorder sees it, and how it becomes a record."""
import math
from dataclasses import dataclass, field

from sedge.contract import LayerRecord, dtype_bytes


@dataclass
class CallInfo:
    name: str  # a unique layer name: <kind>_<index>
    key: str  # op name or sedge.op value
    attrs: dict  # the call's attributes, or the construct function's attributes
    input_shapes: list  # activation arguments
    weight_shapes: list  # weight arguments
    output_shape: list
    dtype: str
    extra: dict = field(default_factory=dict)

    def record(self, op: str, macs: int = 0, adds: int = 0, weight_bytes: int | None = None, **kw) -> LayerRecord:
        size = dtype_bytes(self.dtype)
        if weight_bytes is None:
            weight_bytes = sum(math.prod(s) for s in self.weight_shapes) * size
        return LayerRecord(
            name=self.name, op=op, input_shapes=self.input_shapes, output_shape=self.output_shape,
            weight_shapes=self.weight_shapes, attrs=kw.pop("attrs", plain(self.attrs)), macs=int(macs),
            adds=int(adds), weight_bytes=int(weight_bytes),
            input_bytes=sum(math.prod(s) for s in self.input_shapes) * size,
            output_bytes=math.prod(self.output_shape) * size, dtype=self.dtype, **kw)


def plain(value):
    """TVM attribute values (Array, IntImm, String) -> JSON-friendly Python values."""
    import tvm

    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ in ("Array", "Shape"):
        return [plain(v) for v in value]
    if isinstance(value, tvm.tirx.IntImm):
        return int(value.value)
    if isinstance(value, (bool, int, float)):
        return value
    if hasattr(value, "value") and isinstance(value.value, (int, float)):
        return value.value
    return str(value)
