"""The contract every stage shares: tensor specs, per-layer records, package metadata
(metadata.json), dtype sizes, as plain Python.

The frontend fills tensor specs, the compiler writes the metadata and its layer records,
the runtime loads packages by it and the hardware models read only the layer records. It
lives in the ground package and imports nothing heavy, so that no stage has to import
another's insides for it: a board without torch or the compiler, and `hw_models`, use it.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from sedge.errors import SedgeError

FORMAT_NAME = "sedge-package"
# 2: metadata.json lists the SHA-256 of every other member ("members"), checked on load.
# Version 1 packages (no hashes) stay readable; see docs/reliability.md.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


@dataclass
class TensorSpec:
    name: str
    shape: list[int]
    dtype: str = "float32"


@dataclass
class LayerRecord:
    """One compute layer as the hardware models see it.

    `macs` counts multiply-accumulates; `adds` counts additions that are not part of a MAC
    (sum-pooling, bias, residual adds, butterflies' additions). Byte counts are for the
    layer's own dtype: `weight_bytes` is what the layer stores and reads (for a compressed
    layer, the compressed form), `input_bytes` / `output_bytes` its activations.
    `shared_weights` names tensors several layers read (a CSG generator): id -> bytes, so a
    cost model counts them once and may keep them on chip.
    """

    name: str
    op: str
    input_shapes: list[list[int]]
    output_shape: list[int]
    weight_shapes: list[list[int]] = field(default_factory=list)
    attrs: dict = field(default_factory=dict)
    macs: int = 0
    adds: int = 0
    weight_bytes: int = 0
    input_bytes: int = 0
    output_bytes: int = 0
    dtype: str = "float32"
    shared_weights: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> "LayerRecord":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        missing = {"name", "op", "input_shapes", "output_shape"} - set(data)
        if unknown or missing:
            raise SedgeError(f"bad layer record {data.get('name', '?')}: "
                             f"unknown fields {sorted(unknown)}, missing {sorted(missing)}; "
                             f"allowed fields: {sorted(names)}")
        return cls(**data)


@dataclass
class Metadata:
    sedge_version: str
    tvm_version: str
    target: dict
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    passes: list[str]
    layers: list[LayerRecord]
    params: list[TensorSpec]
    source: dict = field(default_factory=dict)
    build: dict = field(default_factory=dict)
    # member name -> hex SHA-256 of every member but metadata.json (format version 2)
    members: dict[str, str] = field(default_factory=dict)
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str, where: str = "metadata.json") -> "Metadata":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as err:
            raise SedgeError(f"{where} is not valid JSON ({str(err)[:120]})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise SedgeError(f"{where} is not a sedge package's metadata (expected format '{FORMAT_NAME}')")
        version = data.get("format_version")
        if version not in READABLE_VERSIONS or isinstance(version, bool):
            raise SedgeError(f"{where} has package format version {version}; this sedge reads versions "
                             f"{', '.join(map(str, READABLE_VERSIONS))}: compile the model again with this sedge")
        members = data.get("members")
        if version >= 2 and not (isinstance(members, dict) and members and all(
                isinstance(k, str) and isinstance(v, str) and len(v) == 64 for k, v in members.items())):
            raise SedgeError(f"{where} lacks the members' SHA-256 hashes a version {version} package must hold; "
                             f"compile the model again")
        try:
            data["inputs"] = [TensorSpec(**t) for t in data["inputs"]]
            data["outputs"] = [TensorSpec(**t) for t in data["outputs"]]
            data["params"] = [TensorSpec(**t) for t in data["params"]]
            data["layers"] = [LayerRecord.from_dict(r) for r in data["layers"]]
            for spec in data["inputs"] + data["outputs"] + data["params"]:
                if not (isinstance(spec.name, str) and isinstance(spec.dtype, str) and isinstance(spec.shape, list)
                        and all(type(d) is int and d >= 0 for d in spec.shape)):
                    raise TypeError(f"tensor {str(spec.name)[:40]!r} needs a name, a list of sizes >= 0 and a dtype")
            return cls(**data)
        except (KeyError, TypeError, AttributeError) as err:
            raise SedgeError(f"{where} is missing or has a malformed field ({err})") from None


# bytes per element of the precisions the estimates and boards speak of
PRECISION_BYTES = {"int8": 1, "fp16": 2, "fp32": 4}


def dtype_bytes(dtype: str) -> int:
    """Bytes per element of a TVM/numpy dtype name such as 'float32' or 'int8'."""
    bits = "".join(ch for ch in dtype if ch.isdigit())
    if not bits:
        raise SedgeError(f"unknown dtype '{dtype}'; expected a sized dtype such as float32 or int8")
    return max(1, int(bits) // 8)
