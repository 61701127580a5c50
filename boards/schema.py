"""The JSON schema every board file must satisfy after `inherit` is resolved.

Units are part of the field names so that no number is ambiguous: `_bytes` (bytes),
`_hz` (hertz), `_gbps` (10^9 *bytes* per second, i.e. GB/s), `_pj` (picojoules),
`_pj_per_byte` (picojoules per byte moved), `_nm` (nanometres), `_s` (seconds).
"""

PRECISIONS = ["int8", "fp16", "fp32"]

_POSITIVE = {"type": "number", "exclusiveMinimum": 0}
_PER_PRECISION = {
    "type": "object",
    "properties": {p: _POSITIVE for p in PRECISIONS},
    "required": PRECISIONS,
    "additionalProperties": False,
}
_PARTIAL_PER_PRECISION = dict(_PER_PRECISION, required=[])

_MEMORY_LEVEL = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "size_bytes": _POSITIVE,
        "bandwidth_gbps": _POSITIVE,
        "read_pj_per_byte": _POSITIVE,
        "write_pj_per_byte": _POSITIVE,
    },
    "required": ["name", "size_bytes", "bandwidth_gbps", "read_pj_per_byte", "write_pj_per_byte"],
    "additionalProperties": False,
}

BOARD_SCHEMA = {
    "type": "object",
    "properties": {
        "description": {"type": "string"},
        "kind": {"enum": ["cpu", "gpu", "accelerator", "mcu"]},
        "inherit": {"type": "string"},
        "detect": {"type": "boolean"},
        "compute": {
            "type": "object",
            "properties": {
                "units": {"type": "integer", "minimum": 1},
                "clock_hz": _POSITIVE,
                "macs_per_cycle": _PER_PRECISION,
                "adds_per_cycle": _PER_PRECISION,
                "target": {"type": "string", "minLength": 1},
                "register_bytes": {"type": "number", "minimum": 0},
                "launch_overhead_s": {"type": "number", "minimum": 0},
                "efficiency": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            },
            "required": ["units", "clock_hz", "macs_per_cycle", "adds_per_cycle", "target"],
            "additionalProperties": False,
        },
        "memory": {
            "type": "object",
            "properties": {
                "sram": {"type": "array", "items": _MEMORY_LEVEL, "minItems": 1},
                "dram": dict(_MEMORY_LEVEL, properties=dict(_MEMORY_LEVEL["properties"],
                                                            type={"type": "string"})),
            },
            "required": ["sram", "dram"],
            "additionalProperties": False,
        },
        "energy": {
            "type": "object",
            "properties": {
                "node_nm": _POSITIVE,
                "mult_pj": _PARTIAL_PER_PRECISION,
                "add_pj": _PARTIAL_PER_PRECISION,
            },
            "required": ["node_nm"],
            "additionalProperties": False,
        },
        "transport": {
            "type": "object",
            "properties": {
                "kind": {"enum": ["local", "rpc", "serial", "none"]},
                "rpc_key": {"type": "string"},
                "baud": {"type": "integer", "minimum": 1},
            },
            "required": ["kind"],
            "additionalProperties": False,
        },
    },
    "required": ["description", "kind", "compute", "memory", "energy", "transport"],
    "additionalProperties": False,
}
