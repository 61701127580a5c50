"""Channel permutations (ShuffleNet's channel shuffle) moved to the convolution that reads them.

A shuffle layer permutes channels between its grouped convs, out[i*g + j] = x[j*C/g + i].
Imported from NCHW and turned channels-last it is transpose -> reshape -> transpose ->
reshape -> transpose: one kernel moving every value through scalar index arithmetic, as
long as the grouped conv before it (20 us for wrn-28-10-shuffle-8's 32x32x40 images).
A conv kernel broadcasts its input one scalar at a time, so it reads any channel order at
no cost. This pass

1. replaces every chain of reshapes and transposes from an NHWC tensor to one of the same
   shape that only permutes channels by `take(x, perm, axis=3)` (the permutation found by
   running the chain on an index array), and
2. sinks that take past the per-channel ops after it (depthwise convs, unary ops, binary
   ops with a per-channel or scalar operand), permuting their per-channel operands instead
   (a weight's permutation runs at load time, with the other weight re-layouts),

so that PackConvWeights finds it in front of a conv and folds it into the conv's input
index. A take nothing folds stays a kernel of its own (the test with a residual add checks its numerics).
"""
import numpy as np
import tvm
from tvm import relax

from sedge.tvm_passes.passes import (bound_constant, bound_value, mutate_functions, op_name, register_pass,
                                     static_shape)

_LAYOUT_OPS = ("relax.reshape", "relax.permute_dims")
_UNARY = ("relax.nn.relu", "relax.clip", "relax.sigmoid", "relax.tanh", "relax.nn.silu")
_BINARY = ("relax.add", "relax.subtract", "relax.multiply", "relax.divide", "relax.maximum", "relax.minimum")


def channel_permutation(mutator: relax.PyExprMutator, expr) -> tuple[relax.Expr, np.ndarray] | None:
    """(x, perm) when `expr` is `take(x, perm, axis=3)` with a constant perm, else None."""
    value = bound_value(mutator, expr)
    if op_name(value) != "relax.take" or int(value.attrs.axis) != 3:
        return None
    indices = bound_constant(mutator, value.args[1])
    return None if indices is None else (value.args[0], indices.value.numpy())


def shuffle_groups(perm: np.ndarray) -> int | None:
    """g when `perm` is the channel shuffle out[i*g + j] = x[j*C/g + i], else None."""
    channels = len(perm)
    m = np.arange(channels)
    return next((g for g in range(2, channels) if channels % g == 0
                 and np.array_equal(perm, m % g * (channels // g) + m // g)), None)


@relax.expr_functor.mutator
class _Shuffles(relax.PyExprMutator):
    def visit_call_(self, call):
        call = super().visit_call_(call)
        name = op_name(call)
        if name in _LAYOUT_OPS:
            return self._as_take(call)
        if name == "relax.nn.conv2d" or name in _UNARY or name in _BINARY:
            return self._sunk(call, name)
        return call

    def _as_take(self, call):
        """`take(x, perm, axis=3)` for a layout chain ending at `call` that permutes the
        channels of an NHWC tensor x, else `call`."""
        shape = static_shape(call)
        if shape is None or len(shape) != 4:
            return call
        chain, source = [call], call.args[0]
        while True:  # back to the nearest tensor of the result's shape
            value = bound_value(self, source)
            if static_shape(source) == shape or op_name(value) not in _LAYOUT_OPS:
                break
            chain.append(value)
            source = value.args[0]
        if len(chain) < 2 or static_shape(source) != shape:
            return call
        index = np.arange(np.prod(shape)).reshape(shape)
        moved = index
        for op in reversed(chain):
            if op_name(op) == "relax.reshape":
                moved = moved.reshape([int(d) for d in op.ty.shape])
            elif op.attrs.axes is None:
                moved = moved.transpose()
            else:
                moved = moved.transpose([int(a) for a in op.attrs.axes])
        perm = moved.reshape(-1, shape[3])[0] - index.reshape(-1, shape[3])[0, 0]
        if (np.array_equal(perm, np.arange(shape[3])) or not np.array_equal(np.sort(perm), np.arange(shape[3]))
                or not np.array_equal(moved, index[..., perm])):
            return call
        return relax.op.take(source, relax.const(perm.astype("int64")), axis=3)

    def _sunk(self, call, name):
        """op(take(x, p)) as take(op'(x), p) for a per-channel op, its per-channel operands
        permuted by p's inverse; else `call`."""
        operands = list(call.args)
        found = [(i, channel_permutation(self, a)) for i, a in enumerate(operands[:2])]
        found = [(i, f) for i, f in found if f is not None]
        if not found:
            return call
        position, (source, perm) = found[0]
        channels = len(perm)
        inverse = np.argsort(perm)

        def permuted(operand, axis):  # a constant in numpy: FoldConstant would build a kernel for it
            constant = bound_constant(self, operand)
            if constant is not None:
                return relax.const(np.ascontiguousarray(np.take(constant.value.numpy(), inverse, axis=axis)))
            return relax.op.take(operand, relax.const(inverse.astype("int64")), axis=axis)

        if name == "relax.nn.conv2d":
            attrs = call.attrs
            if (position != 0 or (attrs.data_layout, attrs.kernel_layout, attrs.out_layout) != ("NHWC", "HWIO", "NHWC")
                    or int(attrs.groups) != channels or (static_shape(operands[1]) or ())[2:] != (1, channels)):
                return call  # not depthwise with one output per channel
            operands = [source, permuted(operands[1], 3)]
        elif name in _BINARY:
            other = operands[1 - position]
            other_shape = static_shape(other)
            if other_shape is None or int(np.prod(other_shape)) not in (1, channels) or (
                    other_shape and other_shape[-1] != int(np.prod(other_shape))):
                return call  # a full tensor, not a per-channel or scalar operand
            operands[position] = source
            if int(np.prod(other_shape)) == channels:
                operands[1 - position] = permuted(other, len(other_shape) - 1)
        else:
            operands[0] = source
        moved = self.builder_.emit(relax.Call(call.op, operands, call.attrs, call.ty_args))
        return relax.op.take(moved, relax.const(perm.astype("int64")), axis=3)


@register_pass("SinkChannelShuffles")
def sink_channel_shuffles(target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="SinkChannelShuffles")
    def rewrite(mod, _ctx):
        if target.kind.name != "llvm":
            return mod  # channels-last only
        return relax.transform.DeadCodeElimination()(mutate_functions(_Shuffles(mod)))

    return rewrite
