"""Turn scalar clamps into Relax `maximum` / `minimum` ops.

TVM's ONNX importer lowers Clip (ReLU6 in MobileNets) straight to `call_tir` of a TOPI
`maximum` / `minimum` PrimFunc against a 0-d bound; its PyTorch importer writes ReLU6 and
hardtanh as `relax.clip`, which the layout rewrite has no rule for. Either way the layout
rewrite wraps every clamp in a pair of transposes and keeps it out of the convolution's
fused epilogue (a PyTorch mobilenetv2 ran 1.5x slower than its ONNX export). As `maximum`
/ `minimum` the clamps follow the conv into channels-last and fuse into its kernel.
"""
import numpy as np
import tvm
from tvm import relax, tirx
from tvm.ir.expr import Constant, GenericConst, TensorLoad  # TensorLoad: what tirx.BufferLoad builds here

from sedge.tvm_passes.passes import bound_constant, mutate_functions, op_name, static_shape

_OPS = {tirx.Max: relax.op.maximum, tirx.Min: relax.op.minimum}


def _clamp_op(func: tirx.PrimFunc):
    """relax.op.maximum / minimum when `func` is out[i] = max|min(a[i], b[()]), else None."""
    sch = tvm.s_tir.Schedule(func)
    blocks = sch.get_child_blocks(sch.get_sblock("root"))
    if len(blocks) != 1 or len(func.params) != 3:
        return None
    store = sch.get(blocks[0]).body
    if not isinstance(store, tirx.BufferStore) or type(store.value) not in _OPS:
        return None
    a, b = store.value.a, store.value.b
    if not (isinstance(a, TensorLoad) and isinstance(b, TensorLoad) and len(b.indices) == 0):
        return None
    if len(a.indices) != len(store.indices):  # the call's 0-d argument is b, its tensor a
        return None
    if not all(i.same_as(j) for i, j in zip(a.indices, store.indices)):
        return None  # not elementwise
    return _OPS[type(store.value)]


# what TVM's ONNX Clip converter computes its bounds with: isnan(bound), where(nan?, inf, bound)
_SCALAR_OPS = {"relax.isnan": np.isnan, "relax.where": np.where}


@relax.expr_functor.mutator
class _ScalarBounds(relax.PyExprMutator):
    """Evaluate the Clip bounds' scalar ops on constants in numpy. FoldConstant would build
    and run a TVM kernel for each (seconds for mobilenetv2's 35 clamps)."""

    def visit_call_(self, call):
        call = super().visit_call_(call)
        op = _SCALAR_OPS.get(op_name(call))
        constants = [bound_constant(self, a) for a in call.args]
        if op is None or any(c is None or len(c.ty.shape) for c in constants):
            return call
        return relax.const(np.asarray(op(*[c.value.numpy() for c in constants])))


def _as_maximum_minimum(clip):
    """`relax.clip(x, lo, hi)` with constant bounds as minimum(maximum(x, lo), hi)."""
    x, *bounds = clip.args
    values = [getattr(b, "value", None) for b in bounds]  # PrimValue(FloatImm) -> FloatImm -> float
    values = [getattr(v, "value", v) for v in values]
    if not all(isinstance(v, (int, float)) for v in values):
        return clip
    lo, hi = (relax.const(v, str(x.ty.dtype)) for v in values)
    return relax.op.minimum(relax.op.maximum(x, lo), hi)


@relax.expr_functor.mutator
class _Rewriter(relax.PyExprMutator):
    def __init__(self, mod):
        super().__init__(mod)
        self.mod = mod

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if op_name(call) == "relax.clip":
            return _as_maximum_minimum(call)
        if op_name(call) != "relax.call_tir" or not isinstance(call.args[1], relax.Tuple):
            return call
        callee, args = self.mod[call.args[0]], call.args[1].fields
        if len(args) != 2:
            return call
        # a constant bound, or any other 0-d value: the dynamo exporter stores Clip's bounds as
        # weights, which arrive as parameters (and their isnan / where as load-time work)
        bound = bound_constant(self, args[1]) or args[1]
        if static_shape(bound) != ():
            return call
        op = _clamp_op(callee) if isinstance(callee, tirx.PrimFunc) else None
        return op(args[0], bound) if op else call


def _computes_on_constants(mod) -> bool:
    """Whether some op call in `mod` takes only constants (a bound the numpy evaluation above
    left, an exporter's constant subgraph): what FoldConstant is for."""
    found = []

    def visit(expr):
        if (not found and op_name(expr) not in (None, "relax.call_tir") and expr.args
                # a prim value is a Constant too in this TVM; a tensor constant is a GenericConst
                and all(isinstance(a, (Constant, relax.ShapeExpr)) for a in expr.args)
                and any(isinstance(a, GenericConst) for a in expr.args)):
            found.append(expr)

    for func in mod.functions.values():
        if isinstance(func, relax.Function):
            relax.analysis.post_order_visit(func, visit)
    return bool(found)


def scalar_clamps_as_ops(_target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="ScalarClampsAsOps")
    def rewrite(mod, _ctx):
        # the importer computes the bounds: fold them to constants, in numpy, then what is left
        # with FoldConstant, only where something is left: it legalizes every op of the model
        # to look (4.8 of densenet121's 41 s, which has no Clip). Inner passes run through
        # Sequential, which skips what the user disabled (--disabled-pass FoldConstant)
        mod = mutate_functions(_ScalarBounds(mod))
        if _computes_on_constants(mod):
            mod = tvm.transform.Sequential([relax.transform.FoldConstant()])(mod)
        cleanup = [relax.transform.DeadCodeElimination(), relax.transform.RemoveUnusedOutputs()]
        return tvm.transform.Sequential(cleanup)(mutate_functions(_Rewriter(mod)))

    return rewrite
