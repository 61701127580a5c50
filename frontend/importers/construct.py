"""The one Relax construct per compressed layer that sedge's passes match.

A compressed layer imports as a call to its own private Relax function whose attributes are
{"sedge.op": <ONNX function name, e.g. "StructuredConv">, plus the layer's settings} and
whose body is the layer's generic path in standard Relax ops, so that every model compiles
and runs before (and without) sedge's kernel passes. A pass finds the layers by looking for
calls to functions carrying "sedge.op" and may replace the body or the call.
"""
from tvm import relax

OP_ATTR = "sedge.op"


def emit_sedge_call(bb: relax.BlockBuilder, op: str, args: list, settings: dict, body) -> relax.Expr:
    """Emit `f(*args)` where f is a new function tagged {"sedge.op": op, **settings}.

    `body(builder, params)` emits the generic path inside f's dataflow block and returns its output.
    """
    builder = relax.BlockBuilder()
    params = [relax.Var(f"arg{i}", arg.ty) for i, arg in enumerate(args)]
    name = f"sedge_{op}"
    with builder.function(name, params, attrs={OP_ATTR: op, **settings}, private=True):
        with builder.dataflow():
            output = builder.emit_output(body(builder, params))
        builder.emit_func_output(output)
    function = builder.get()[name]
    return bb.emit(relax.Call(bb.add_func(function, name), list(args)))


def shape_of(expr) -> list[int]:
    return [int(d) for d in expr.ty.shape]


def add_channel_bias(builder, y, bias):
    """y (B, O, ...) + bias (O,) broadcast over the trailing dims."""
    trailing = len(shape_of(y)) - 2
    return builder.emit(relax.op.add(y, relax.op.reshape(bias, [1, -1] + [1] * trailing)))
