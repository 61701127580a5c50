"""Checks a resolved board dict against the schema and says what is wrong in one line.

jsonschema finds the problem; this module only words it: the dotted field path, what was
found, and what is allowed. A field whose stem is known but whose unit suffix is not
(`size_kb` next to `size_bytes`) is reported as an unknown unit.
"""
import math

import jsonschema
from jsonschema.exceptions import best_match

from sedge.boards.schema import BOARD_SCHEMA
from sedge.errors import SedgeError


def _non_finite(value, path=()):
    """The path of the first nan or infinite number (TOML has `nan`, `inf`, and 1e400 overflows to
    inf); the schema's bounds let them through, and the cost models would turn them into figures."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _non_finite(item, path + (key,))
        if found is not None:
            return found
    return None


def check_board(data: dict, where: str) -> None:
    bad = _non_finite(data)
    if bad is not None:
        value = _lookup(data, bad)
        raise SedgeError(f"board {where}: field {_path(bad)} is {value}; allowed: a finite number")
    errors = list(jsonschema.Draft202012Validator(BOARD_SCHEMA).iter_errors(data))
    # a misspelt unit also makes its field "missing": name the misspelling, the real cause
    unknown = [e for e in errors if e.validator == "additionalProperties"]
    error = unknown[0] if unknown else best_match(errors)
    if error is not None:
        raise SedgeError(f"board {where}: {_explain(error)}")


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _explain(error) -> str:
    where, schema = _path(error.absolute_path), error.schema
    allowed = sorted(schema.get("properties", {}))
    if error.validator == "required":
        missing = [name for name in schema["required"] if name not in error.instance]
        return f"missing field {_join(where, missing[0])}; required fields here: {', '.join(schema['required'])}"
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(allowed))[0]
        same_stem = [name for name in allowed if _stem(name) == _stem(unknown) and "_" in unknown]
        if same_stem:
            return (f"unknown unit in field {_join(where, unknown)}; allowed: {', '.join(same_stem)} "
                    f"(units: _bytes, _hz, _gbps = GB/s, _pj, _pj_per_byte, _nm, _s)")
        return f"unknown field {_join(where, unknown)}; allowed fields here: {', '.join(allowed)}"
    if error.validator in ("exclusiveMinimum", "minimum"):
        bound = "> 0" if error.validator == "exclusiveMinimum" else f">= {error.validator_value}"
        return f"field {where} is {error.instance!r}; allowed: a number {bound}"
    if error.validator == "enum":
        return f"field {where} is {error.instance!r}; allowed: {', '.join(map(str, error.validator_value))}"
    if error.validator == "type":
        return f"field {where} is {error.instance!r}; allowed: a value of type {error.validator_value}"
    return f"field {where}: {error.message}"


def _stem(field: str) -> str:
    """`read_pj_per_byte` -> `read`, `size_kb` -> `size`: the name without its unit."""
    return field.split("_")[0]


def _join(where: str, field: str) -> str:
    return field if where == "(top level)" else f"{where}.{field}"


def _lookup(data, path):
    for part in path:
        data = data[part]
    return data
