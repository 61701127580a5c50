"""Per-layer records of an imported Relax module: what each layer computes and moves.

The walk visits `main`'s bindings in order. A value computed only from weights (function
parameters after `num_input`, constants, and ops on those, such as a transposed weight)
counts as a weight; everything else is an activation. `RECORDERS` maps a Relax op name
(`relax.nn.conv2d`), and records_compressed's `COMPRESSED_RECORDERS` a compressed
construct's `sedge.op` attribute, to a function `CallInfo -> LayerRecord | None` (None:
the op moves no data worth a record, e.g. reshape).
"""
import math

from sedge.contract import LayerRecord
from sedge.registry import Registry
from sedge.tvm_passes.call_info import CallInfo, plain
from sedge.tvm_passes.records_compressed import COMPRESSED_RECORDERS

# Relax op name -> recorder; the compressed constructs' recorders are in records_compressed.py
RECORDERS = Registry("layer recorder")
register_recorder = RECORDERS.register


def call_attrs(call) -> dict:
    if call.attrs is None:
        return {}
    # Attrs objects expose their fields as attributes (no keys() in 0.27)
    fields = [n for n in dir(call.attrs)
              if not n.startswith("_") and n != "id_" and not callable(getattr(call.attrs, n))]
    return {name: plain(getattr(call.attrs, name)) for name in fields}


def _shape(expr) -> list | None:
    ty = expr.ty
    if hasattr(ty, "fields") and ty.fields:  # ops such as batch_norm return (out, mean, var)
        ty = ty.fields[0]
    shape = getattr(ty, "shape", None)
    if shape is None:
        return None
    try:
        return [int(d) for d in shape]
    except TypeError:
        return None


def _dtype(expr) -> str:
    ty = expr.ty
    return str(ty.fields[0].dtype if hasattr(ty, "fields") and ty.fields else ty.dtype)


def recorded_calls(mod, function: str = "main"):
    """(call, CallInfo) of each call of `mod[function]` that has a recorder, in execution order."""
    import tvm
    from tvm import relax

    func = mod[function]
    num_input = int(func.attrs["num_input"]) if func.attrs and "num_input" in func.attrs else len(func.params)
    weights = set(func.params[num_input:])  # TVM objects hash by identity of the node
    counts = {}

    def is_weight(arg):
        return isinstance(arg, tvm.ir.expr.Constant) or arg in weights

    for block in func.body.blocks:
        for binding in block.bindings:
            value = binding.value
            if not isinstance(value, relax.Call):
                continue
            tensor_args = [a for a in value.args if _shape(a) is not None]
            if tensor_args and all(is_weight(a) for a in tensor_args):
                weights.add(binding.var)
                continue
            key, attrs = _key_and_attrs(mod, value)
            output_shape = _shape(binding.var)
            if recorder_of(key) is None or output_shape is None:
                continue
            kind = key.rsplit(".", 1)[-1]
            counts[kind] = counts.get(kind, 0) + 1
            yield value, CallInfo(
                name=f"{kind}_{counts[kind] - 1}", key=key, attrs=attrs,
                input_shapes=[_shape(a) for a in tensor_args if not is_weight(a)],
                weight_shapes=[_shape(a) for a in tensor_args if is_weight(a)],
                output_shape=output_shape, dtype=_dtype(binding.var))


def recorder_of(key: str):
    return RECORDERS.get(key) or COMPRESSED_RECORDERS.get(key)


def layer_records(mod, function: str = "main", target=None, lowering: dict | None = None) -> list[LayerRecord]:
    """The records of `mod[function]`, in execution order.

    A compressed layer's record counts the lowering chosen for it on `target` (None: this
    host's CPU), with `lowering` ({layer or "all": choice}, `--lowering`) forcing choices:
    its MACs, adds and weight bytes are those of the kernel that runs (lowering.py)."""
    from sedge.tvm_passes.lowering import decisions

    chosen = decisions(mod, target, lowering, function)
    records = []
    for _call, info in recorded_calls(mod, function):
        record = recorder_of(info.key)(info)
        if record is None:
            continue
        if info.name in chosen:
            record = chosen[info.name].applied_to(record)
        records.append(record)
    return records


def _key_and_attrs(mod, call):
    """A call's registry key: the op name, or `sedge.op` of a called construct function."""
    from tvm import relax

    if isinstance(call.op, relax.GlobalVar):
        callee = mod[call.op]
        attrs = dict(callee.attrs.items()) if callee.attrs is not None else {}
        return str(attrs.get("sedge.op", call.op.name_hint)), plain(attrs)
    return str(getattr(call.op, "name", call.op)), call_attrs(call)


# ---- standard Relax ops ----

@register_recorder("relax.nn.conv2d")
def _conv2d(info: CallInfo):
    n, o, h, w = info.output_shape
    kernel = info.weight_shapes[0] if info.weight_shapes else info.input_shapes[1]
    macs = n * o * h * w * math.prod(kernel[1:])
    groups = info.attrs.get("groups", 1)
    op = "depthwise_conv2d" if groups > 1 and groups == kernel[0] and kernel[1] == 1 else "conv2d"
    return info.record(op, macs=macs, attrs={**info.attrs, "kernel": kernel[2:]})


@register_recorder("relax.matmul", "relax.nn.linear")
def _matmul(info: CallInfo):
    reduction = (info.weight_shapes or info.input_shapes[1:])[0][-2] if info.key == "relax.matmul" else \
        info.weight_shapes[0][-1]
    macs = math.prod(info.output_shape) * reduction
    return info.record("dense" if info.weight_shapes else "matmul", macs=macs)


@register_recorder("relax.nn.max_pool2d", "relax.nn.avg_pool2d", "relax.nn.adaptive_avg_pool2d", "relax.mean",
                   "relax.sum", "relax.max")
def _pool(info: CallInfo):
    adds = math.prod(info.input_shapes[0]) if info.input_shapes else 0
    return info.record("pool", adds=adds, attrs={**info.attrs, "kind": info.key.rsplit(".", 1)[-1]})


_ADDITIVE = {"relax.add", "relax.subtract"}
_MULTIPLICATIVE = {"relax.multiply", "relax.divide"}


@register_recorder(*_ADDITIVE, *_MULTIPLICATIVE, "relax.nn.relu", "relax.clip", "relax.sigmoid", "relax.nn.silu",
                   "relax.nn.gelu", "relax.tanh", "relax.nn.softmax", "relax.maximum", "relax.minimum")
def _elementwise(info: CallInfo):
    elements = math.prod(info.output_shape)
    return info.record("elementwise", adds=elements if info.key in _ADDITIVE else 0,
                       macs=elements if info.key in _MULTIPLICATIVE else 0,
                       attrs={"kind": info.key.rsplit(".", 1)[-1]})


@register_recorder("relax.nn.batch_norm")
def _batch_norm(info: CallInfo):
    elements = math.prod(info.output_shape)
    return info.record("elementwise", macs=elements, adds=elements, attrs={"kind": "batch_norm"})
