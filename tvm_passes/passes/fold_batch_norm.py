"""Inference batch-norms (and any chain of per-channel affine ops) folded into one
multiply-add, and into the weights and bias of the conv before them.

DecomposeOpsForInference writes a batch-norm as `(y - mean) / sqrt(var + eps) * gamma +
beta`: four ops per element, a division among them, fused into the epilogue of the conv
that produces `y`. Exporters to ONNX usually fold a conv's batch-norm; PyTorch programs
keep it (every zoo model). This pass takes every chain `y -> op(y, c) -> ...` of add,
subtract, multiply and divide whose operands `c` are weights (constants or parameters,
nothing computed from the model's inputs) and

- after a conv whose output has no other use, with per-output-channel operands: the chain
  is `y * a + b`, so it becomes `conv(x, w * a) + b` (one bias add per element); the same
  after a structured or band-limited conv construct (LINEAR_CONSTRUCTS), whose weight and
  bias scale alike, so that whichever lowering it gets has no multiply left; with a bias
  argument the construct takes the shift too, `f(x, w * a, bias * a + b)`, and no add is
  left after it (two adds there, fused before a residual block's shortcut conv, kept that
  conv's kernel from being scheduled);
- elsewhere (the pre-activation batch-norm after a residual add): `y * a + b`, two ops.

`a` and `b` are computed from the weights only, so `lift-params` moves them, and the
weight scaling, to load time. A conv with a constant weight (an importer's 0/1 sum-pool
weight) keeps it as it is: only its chain becomes a multiply-add.
"""
import numpy as np
import tvm
from tvm import relax
from tvm.ir.expr import Constant, StringImm

from sedge.frontend.importers.construct import OP_ATTR
from sedge.tvm_passes.passes import bound_value, mutate_functions, op_name, static_shape

_AFFINE = ("relax.add", "relax.subtract", "relax.multiply", "relax.divide")
_COMMUTATIVE = ("relax.add", "relax.multiply")
# (numpy, Relax) of the arithmetic a folded chain and a decomposed batch-norm's statistics use
_ARITH = {"relax.add": (np.add, relax.op.add), "relax.subtract": (np.subtract, relax.op.subtract),
          "relax.multiply": (np.multiply, relax.op.multiply), "relax.divide": (np.divide, relax.op.divide),
          "relax.negative": (np.negative, relax.op.negative), "relax.sqrt": (np.sqrt, relax.op.sqrt)}
_RESHAPES = ("relax.expand_dims", "relax.reshape", "relax.broadcast_to")
# compressed constructs (frontend/importers) whose output is linear in their weight argument,
# output channel first: a batch-norm after a structured conv (alpha: O x c x n x n) or a
# band-limited conv (weight: O x C x k x k) scales that weight, as it scales a conv's
LINEAR_CONSTRUCTS = ("StructuredConv", "FFTConv")


class _Chains:
    """The foldable chains of one function, found before it is rewritten: for the last
    variable of each, (the value the chain starts from, [(op name, weight operand)])."""

    def __init__(self, func: relax.Function):
        num_input = int(func.attrs["num_input"]) if func.attrs and "num_input" in func.attrs else len(func.params)
        self.weights = set(func.params[num_input:])  # parameters that are weights
        self.values, self.users = {}, {}
        blocks = func.body.blocks if isinstance(func.body, relax.SeqExpr) else []
        for block in blocks:
            for binding in block.bindings:
                if isinstance(binding, relax.VarBinding):
                    self.values[binding.var] = binding.value
            if isinstance(block, relax.DataflowBlock):
                self.users.update(relax.analysis.udchain(block))
        self._weight_only = {}
        # variable -> (data, op name, weight operand) of each affine binding
        self.steps = {var: step for var, step in ((v, self._step(value)) for v, value in self.values.items())
                      if step is not None}
        self.ends = {}
        for var, step in self.steps.items():
            if self._next_step_of(var) is not None:
                continue  # not the end of its chain
            steps, source = [step[1:]], step[0]
            while self.single_use(source) and source in self.steps:
                previous = self.steps[source]
                steps.insert(0, previous[1:])
                source = previous[0]
            self.ends[var] = (source, steps)

    def single_use(self, var) -> bool:
        return isinstance(var, relax.DataflowVar) and len(self.users.get(var, ())) == 1

    def _next_step_of(self, var):
        """The affine op that is the only use of `var`, if there is one."""
        if not self.single_use(var):
            return None
        step = self.steps.get(self.users[var][0])
        return step if step is not None and step[0].same_as(var) else None

    def _step(self, value):
        """(data, op name, weight operand) when `value` is an affine op of data and a weight
        that keeps the data's shape and dtype, else None."""
        name = op_name(value)
        if name not in _AFFINE:
            return None
        lhs, rhs = value.args
        for data, weight in [(lhs, rhs), (rhs, lhs)] if name in _COMMUTATIVE else [(lhs, rhs)]:
            if (self.weight_only(weight) and not self.weight_only(data)
                    and static_shape(data) is not None and static_shape(data) == static_shape(value)
                    and str(data.ty.dtype) == str(value.ty.dtype) == str(weight.ty.dtype)):
                return data, name, weight
        return None

    def weight_only(self, expr) -> bool:
        """Whether `expr` depends on weights and constants only."""
        if isinstance(expr, (Constant, relax.ShapeExpr, StringImm)):  # IntImm is a Constant here
            return True
        if isinstance(expr, relax.Var):
            if expr not in self._weight_only:
                self._weight_only[expr] = False  # no cycles in SSA; a guard all the same
                value = self.values.get(expr)
                self._weight_only[expr] = expr in self.weights or (value is not None and self.weight_only(value))
            return self._weight_only[expr]
        if isinstance(expr, relax.Call):
            return all(self.weight_only(a) for a in expr.args)
        if isinstance(expr, relax.Tuple):
            return all(self.weight_only(f) for f in expr.fields)
        if isinstance(expr, relax.TupleGetItem):
            return self.weight_only(expr.tuple_value)
        return False


def _per_channel(shape: tuple, out_shape: tuple, axis: int) -> bool:
    """Whether an operand of `shape` broadcasts along every axis of `out_shape` but `axis`."""
    padded = (1,) * (len(out_shape) - len(shape)) + shape
    return len(shape) <= len(out_shape) and all(d == 1 for i, d in enumerate(padded) if i != axis)


@relax.expr_functor.mutator
class _Folder(relax.PyExprMutator):
    def __init__(self, mod):
        super().__init__(mod)
        self.chains = None

    def visit_function_(self, func):
        outer, self.chains = self.chains, _Chains(func)
        try:
            return super().visit_function_(func)
        finally:
            self.chains = outer

    def visit_var_binding_(self, binding):
        end = self.chains.ends.get(binding.var) if self.chains is not None else None
        folded = self._folded(*end) if end is not None else None
        if folded is None:
            return super().visit_var_binding_(binding)
        self.builder_.emit_normalized(relax.VarBinding(binding.var, self.builder_.normalize(folded)))

    def _folded(self, source, steps):
        """The chain's value as `conv(x, w * a) + b` or `source * a + b`; None when that
        is not fewer ops."""
        scale = shift = None
        for name, weight in steps:
            weight = self.visit_expr(weight)
            if name == "relax.add":
                shift = weight if shift is None else self._arith(name, shift, weight)
            elif name == "relax.subtract":
                shift = self._arith("relax.negative", weight) if shift is None else self._arith(name, shift, weight)
            else:
                if scale is None and name == "relax.divide":
                    scale = self._arith(name, relax.const(1.0, weight.ty.dtype), weight)
                else:
                    scale = weight if scale is None else self._arith(name, scale, weight)
                shift = None if shift is None else self._arith(name, shift, weight)
        conv = self._conv_taking_scale(source, steps)
        if conv is not None and scale is not None:
            x, w, *bias = (self.visit_expr(a) for a in conv.args)
            out_shape = static_shape(conv)
            channel, kernel_out = self._channel_axes(conv)
            kernel_shape = static_shape(conv.args[1])
            per_output = [1] * len(kernel_shape)
            per_output[kernel_out] = out_shape[channel]
            row = [1] * len(out_shape)
            row[channel] = out_shape[channel]
            constant = self._evaluate(scale)
            scale = (relax.const(np.ascontiguousarray(np.broadcast_to(constant, row).reshape(per_output)))
                     if constant is not None else relax.op.reshape(relax.op.broadcast_to(scale, row), per_output))
            if bias:  # a construct's bias (O,) scales too, and takes the shift: no add is left after it
                channels = [out_shape[channel]]
                (b,) = bias
                b = relax.op.multiply(b, relax.op.reshape(scale, channels))
                if shift is not None:
                    b = relax.op.add(b, relax.op.reshape(relax.op.broadcast_to(shift, row), channels))
                return relax.Call(conv.op, [x, relax.op.multiply(w, scale), b], conv.attrs)
            value = self.builder_.emit(relax.Call(conv.op, [x, relax.op.multiply(w, scale)], conv.attrs))
            return value if shift is None else relax.op.add(value, shift)
        if len(steps) <= (scale is not None) + (shift is not None):
            return None  # already one multiply and/or one add
        value = self.visit_expr(source)
        if scale is not None:
            value = self.builder_.emit(relax.op.multiply(value, scale))
        return value if shift is None else relax.op.add(value, shift)

    def _arith(self, name, *args):
        """`name`(*args), computed here in numpy when the arguments are constants:
        FoldConstant would build and run a TVM kernel for each (seconds per model)."""
        arrays = [self._evaluate(a) for a in args]
        numpy_op, relax_op = _ARITH[name]
        if all(a is not None for a in arrays):
            return relax.const(np.asarray(numpy_op(*arrays), dtype=arrays[0].dtype))
        return relax_op(*args)

    def _evaluate(self, expr) -> np.ndarray | None:
        """`expr` in numpy when it is computed from constants only, by the ops a decomposed
        batch-norm's statistics go through; else None."""
        value = bound_value(self, expr)
        if isinstance(value, Constant) and hasattr(value.value, "numpy"):
            return value.value.numpy()
        name = op_name(value)
        if name not in _ARITH and name not in _RESHAPES:
            return None
        arrays = [self._evaluate(a) for a in (value.args[:1] if name in _RESHAPES else value.args)]
        shape = static_shape(value)
        if any(a is None for a in arrays) or shape is None:
            return None
        if name in _RESHAPES:
            return np.broadcast_to(arrays[0], shape) if name == "relax.broadcast_to" else arrays[0].reshape(shape)
        return np.asarray(_ARITH[name][0](*arrays), dtype=str(value.ty.dtype))

    def _channel_axes(self, conv) -> tuple[int, int]:
        """(the output's channel axis, the weight's output-channel axis) of a conv2d or of a
        linear construct (NCHW output, its weight output-channel first)."""
        if op_name(conv) == "relax.nn.conv2d":
            return str(conv.attrs.out_layout).index("C"), str(conv.attrs.kernel_layout).index("O")
        return 1, 0

    def _linear_construct(self, call) -> bool:
        """Whether `call` calls a construct that is linear in its weight (argument 1, output
        channel first) and bias (argument 2, if any): a per-output-channel scale folds into them."""
        if not isinstance(call, relax.Call) or not isinstance(call.op, relax.GlobalVar) or len(call.args) > 3:
            return False
        bias = call.args[2] if len(call.args) == 3 else None
        if bias is not None and not (self.chains.weight_only(bias) and len(static_shape(bias) or ()) == 1):
            return False
        func = self.builder_.get()[call.op]
        return func.attrs is not None and str(func.attrs.get(OP_ATTR, "")) in LINEAR_CONSTRUCTS

    def _conv_taking_scale(self, source, steps):
        """The conv2d (or linear construct call) `source` is bound to when its weight can
        absorb the chain's scale."""
        conv = self.chains.values.get(source)
        if not (op_name(conv) == "relax.nn.conv2d" or self._linear_construct(conv)):
            return None
        if not self.chains.single_use(source):
            return None
        weight = conv.args[1]
        if (isinstance(self.chains.values.get(weight, weight), Constant) or not self.chains.weight_only(weight)
                or static_shape(conv) is None or static_shape(weight) is None):
            return None
        channel = self._channel_axes(conv)[0]
        out_shape = static_shape(conv)
        shapes = [static_shape(w) for _, w in steps]
        return conv if all(s is not None and _per_channel(s, out_shape, channel) for s in shapes) else None


def fold_batch_norm(target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="FoldBatchNorm")
    def rewrite(mod, _ctx):
        return relax.transform.DeadCodeElimination()(mutate_functions(_Folder(mod)))

    return rewrite
