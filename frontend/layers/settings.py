"""Validation of layer settings: one-line SedgeErrors that name the allowed range."""
from sedge.errors import SedgeError


def require_int_range(name: str, value, low: int, high: int | None = None, why: str = ""):
    """Raise unless `value` is an integer with low <= value (<= high)."""
    hint = f" ({why})" if why else ""
    allowed = f"{low} <= {name} <= {high}" if high is not None else f"{name} >= {low}"
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise SedgeError(f"bad setting {name} = {value!r}; allowed: integer {allowed}{hint}")
    return value


def require_float_range(name: str, value, low: float, high: float, low_open=False, high_open=False, why=""):
    """Raise unless low <(=) value <(=) high."""
    hint = f" ({why})" if why else ""
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (above and below):
        allowed = f"{low} {'<' if low_open else '<='} {name} {'<' if high_open else '<='} {high}"
        raise SedgeError(f"bad setting {name} = {value!r}; allowed: {allowed}{hint}")
    return float(value)


def pair(value) -> list[int]:
    """An int or a pair of equal ints -> [v, v]; the layers use square windows only."""
    values = list(value) if isinstance(value, (tuple, list)) else [value, value]
    if len(values) != 2 or values[0] != values[1]:
        raise SedgeError(f"non-square setting {value!r}; sedge's compressed layers take square kernels, "
                         f"strides, paddings and dilations")
    return [int(values[0])] * 2
