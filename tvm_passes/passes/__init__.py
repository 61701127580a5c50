"""sedge's own Relax rewrite passes, one per file, and the helpers they share.

Each pass module offers a factory `tvm.target.Target -> tvm.transform.Pass`; the pass's
name is the one its `tvm.transform.Pass` carries. The `rewrite` phase of the recipe in
`tvm_passes/pipeline.py` lists them in run order. A pass returns the module unchanged
where it cannot handle a case (or target).
"""
import tvm
from tvm import relax
from tvm.ir.expr import Constant

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

