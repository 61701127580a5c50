"""sedge's own Relax rewrite passes, one per file, and the helpers they share.

Each pass module offers a factory `tvm.target.Target -> tvm.transform.Pass`; the pass's
name is the one its `tvm.transform.Pass` carries. The `rewrite` phase of the recipe in
`tvm_passes/pipeline.py` lists them in run order. A pass returns the module unchanged
where it cannot handle a case (or target).
"""
import numpy as np
import tvm
from tvm import relax
from tvm.ir.expr import Constant
from tvm.relax.utils import gen_call_tir_inputs

from sedge.tvm_passes.schedules.cpu import cpu_spec
from sedge.tvm_passes.schedules.reduction import tile_shape


def mutate_functions(mutator: relax.PyExprMutator):
    """The module `mutator` was built on, with every Relax function passed through it."""
    for gv, func in list(mutator.builder_.get().functions.items()):
        if isinstance(func, relax.Function):
            mutator.builder_.update_func(gv, mutator.visit_expr(func))
    return mutator.builder_.get()


def op_name(expr) -> str | None:
    """The name of the Relax op `expr` calls, or None when it is no op call."""
    return expr.op.name if isinstance(expr, relax.Call) and isinstance(expr.op, tvm.ir.Op) else None


def static_shape(expr) -> tuple | None:
    """`expr`'s shape as ints, or None when it is unknown or symbolic."""
    shape = getattr(expr.ty, "shape", None)
    if shape is None or not all(isinstance(d, tvm.tirx.IntImm) for d in shape):
        return None
    return tuple(int(d) for d in shape)


def bound_value(mutator: relax.PyExprMutator, expr):
    """What the variable `expr` is bound to, through aliases (`y = x`), or `expr` itself when
    it is no variable; None for a function parameter."""
    while isinstance(expr, relax.Var):
        expr = mutator.lookup_binding(expr)
    return expr


def nchw_source(mutator: relax.PyExprMutator, expr):
    """The NCHW tensor `expr` is permute_dims(t, [0, 2, 3, 1]) of, or None: the importers'
    turn to channels-last, which a rewrite can read through to the NCHW tensor itself."""
    value = bound_value(mutator, expr)
    if (op_name(value) == "relax.permute_dims" and value.attrs.axes is not None
            and [int(a) for a in value.attrs.axes] == [0, 2, 3, 1]):
        return value.args[0]
    return None


def bound_constant(mutator: relax.PyExprMutator, expr) -> Constant | None:
    """The Constant `expr` is, or the variable `expr` is bound to, else None."""
    value = bound_value(mutator, expr)
    return value if isinstance(value, Constant) else None


def rewrite_for_cpu(mod, target, mutator_class):
    """`mod` with every Relax function passed through `mutator_class(mod, spec, tile_shape)`
    on an LLVM (CPU) target, `mod` itself elsewhere: the rewrites that lay weights out for
    the register tiles the CPU schedule will choose get its spec and tile choice here."""
    if target.kind.name != "llvm":
        return mod
    return mutate_functions(mutator_class(mod, cpu_spec(target), tile_shape))


class TeCalls:
    """`BlockBuilder.call_te` that builds each distinct kernel once: a call whose function,
    argument shapes and options were seen before reuses that PrimFunc. Turning a TE compute
    into a PrimFunc takes 5-15 ms, and a model repeats its layer shapes (densenet121's 58
    Winograd convs are 4 shapes: 168 builds, 1.9 s of its compile, became 12)."""

    def __init__(self, builder: relax.BlockBuilder):
        self.builder, self.built = builder, {}

    def __call__(self, func, *args, primfunc_name_hint: str, **kwargs):
        key = _signature((func, args, sorted(kwargs.items()), primfunc_name_hint))
        tensors = _exprs(args)
        if key is not None and key in self.built:
            gvar, output_ty = self.built[key]
            return relax.call_tir(gvar, relax.Tuple(tensors), output_ty)
        tir_func, call_args, output_ty = gen_call_tir_inputs(func, *args, **kwargs)
        gvar = self.builder.add_func(tir_func, primfunc_name_hint)
        # reused only where the call's tensors are the arguments' Relax values, in order
        # (what call_te passes when no argument is symbolic)
        given = list(call_args.fields if isinstance(call_args, relax.Tuple) else call_args)
        if key is not None and len(given) == len(tensors) and all(a.same_as(b) for a, b in zip(given, tensors)):
            self.built[key] = (gvar, output_ty)
        return relax.call_tir(gvar, call_args, output_ty)


def _exprs(value) -> list:
    """The Relax values in `value` (nested lists and tuples), in order."""
    if isinstance(value, relax.Expr):
        return [value]
    if isinstance(value, (list, tuple)):
        return [e for item in value for e in _exprs(item)]
    return []


def _signature(value):
    """A hashable key for `value` that two calls share only when call_te would build the
    same kernel from them: Relax values by their static shape and dtype, arrays by their
    bytes; None for anything else (such a call is built every time)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        value = sorted(value.items())
    if isinstance(value, (list, tuple)):
        items = [_signature(v) for v in value]
        return None if any(i is None and v is not None for i, v in zip(items, value)) else tuple(items)
    if isinstance(value, np.ndarray):
        return ("array", value.shape, str(value.dtype), value.tobytes())
    if isinstance(value, relax.Expr):
        shape = static_shape(value)
        return None if shape is None else ("tensor", shape, str(value.ty.dtype))
    if callable(value) and hasattr(value, "__qualname__") and "<locals>" not in value.__qualname__:
        return value  # a module-level function: its identity is its code
    return None
