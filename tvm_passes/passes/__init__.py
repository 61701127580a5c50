"""sedge's own Relax rewrite passes, one per file, in one registry.

`PASSES` maps a pass name to a factory `tvm.target.Target -> tvm.transform.Pass`, in the
order the `rewrite` phase runs them. Register with `@register_pass("Name")`.
A pass returns the module unchanged where it cannot handle a case (or target).
"""
import tvm
from tvm import relax
from tvm.ir.expr import Constant

from sedge.registry import Registry

PASSES = Registry("pass")
register_pass = PASSES.register


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
    # the schedules import the pipeline, which imports this registry: import them late
    from sedge.tvm_passes.schedules.cpu import cpu_spec
    from sedge.tvm_passes.schedules.reduction import tile_shape

    return mutate_functions(mutator_class(mod, cpu_spec(target), tile_shape))


# registration order is run order: batch-norms fold into convs while those are still NCHW/OIHW;
# clamps become Relax ops before the layout rewrite sees them
from sedge.tvm_passes.passes import fold_batch_norm  # noqa: E402,F401,I001 - registers its pass
from sedge.tvm_passes.passes import scalar_clamps  # noqa: E402,F401 - registers its pass
from sedge.tvm_passes.passes import inline_constructs  # noqa: E402,F401 - after construct passes, before layouts
from sedge.tvm_passes.passes import channels_last  # noqa: E402,F401 - registers its pass
from sedge.tvm_passes.passes import channel_shuffle  # noqa: E402,F401 - after channels_last: NHWC shuffles
from sedge.tvm_passes.passes import winograd_conv  # noqa: E402,F401 - before packing: takes its 3x3 convs
from sedge.tvm_passes.passes import packed_conv  # noqa: E402,F401 - after channels_last: packs its HWIO weights
from sedge.tvm_passes.passes import vector_math  # noqa: E402,F401 - last: the ops it replaces stay Relax ops until then
