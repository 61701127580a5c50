"""What a layer's arithmetic really costs: multiplies and additions, by operator kind.

The records already count each operator as it runs (the frontend counts sum-pooling as
additions only, ACDC's DCTs and the FFT convolution's transforms as their butterflies, a
band-limited filter's multiply over its kept spectrum only). A MAC is one multiply and one
addition; `adds` are the additions outside MACs. The one cost a record cannot hold is how a
CSG layer is deployed, which depends on the board: in "generate" mode each kernel element
is rebuilt on chip as a length-K dot product of a code and the shared generator.
"""
from __future__ import annotations

from dataclasses import dataclass

from sedge.contract import LayerRecord, dtype_bytes


@dataclass(frozen=True)
class OpCounts:
    macs: float  # multiplies, each with its accumulate
    adds: float  # additions outside MACs


def csg_code_length(record: LayerRecord) -> int:
    """K, from the attrs or the codes' shape (n_l x K)."""
    if "code_length" in record.attrs:
        return int(record.attrs["code_length"])
    return int(record.weight_shapes[0][-1]) if record.weight_shapes else 1


def generation_macs(record: LayerRecord) -> float:
    """MACs to rebuild a CSG layer's dense kernel from its codes: K per kernel element."""
    dense_elements = record.attrs.get("dense_weight_bytes", 0) / dtype_bytes(record.dtype)
    return dense_elements * csg_code_length(record)


def count_ops(record: LayerRecord, mode: str = "") -> OpCounts:
    """`mode` is the deployment chosen for the layer ("generate" adds CSG's kernel rebuild)."""
    extra = generation_macs(record) if record.op == "csg_conv" and mode == "generate" else 0.0
    return OpCounts(macs=float(record.macs) + extra, adds=float(record.adds))
