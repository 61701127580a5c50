"""Helpers the replacement converters share."""
from sedge.errors import ModelImportError


def refuse(message: str):
    """Stop the import with a one-line error (the loader passes a SedgeError through as is)."""
    raise ModelImportError(message)


def output_count(attr) -> int:
    """How many outputs the ONNX node lists (skipped optional ones included)."""
    return int(attr.get("tvm_custom", {}).get("num_outputs", 1))


def text(value, default: str) -> str:
    """A string attribute (TVM hands them over as bytes)."""
    if value is None:
        return default
    return value.decode() if isinstance(value, bytes) else str(value)


def rank_of(expr) -> int:
    """A tensor expression's rank; -1 where it is unknown (or `expr` is no tensor)."""
    return int(getattr(getattr(expr, "ty", None), "ndim", -1))


def static_shape(expr) -> list[int] | None:
    from tvm import tirx

    shape = getattr(expr.ty, "shape", None)
    values = getattr(shape, "values", None)
    if values is None or not all(isinstance(d, tirx.IntImm) for d in values):
        return None
    return [int(d) for d in values]


def dtype_of(expr) -> str:
    """A tensor expression's element type as numpy names it ('float32', 'int64')."""
    return str(expr.ty.dtype.dtype)
