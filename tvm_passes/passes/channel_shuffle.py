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

ShuffleNet v2 splits the shuffled channels in two halves and joins them again with concat.
Imported from NCHW, the layout rewrite keeps that region in NCHW (the reshapes pin it), each
unit turning its tensors to NCHW and back around one scalar-indexed kernel. Here

3. a chain from an NHWC tensor that ends in NCHW becomes the NCHW turn of a take,
4. a slice of an NCHW turn becomes the turn of the NHWC slice, a slice of a take along
   the channels one take of those channels (a split of either, the dynamo exporter's form
   of the halving, first becomes its slices), and a concat of NCHW turns the turn of the
   NHWC concat, so that the turns meet their inverses and cancel,

leaving channels-last concats and takes (gathers), which PackConvWeights reads through
and the layout schedule copies row by row (torchvision's shufflenet_v2: 4.1 -> 1.5 ms).
"""
import numpy as np
import tvm
from tvm import relax

from sedge.tvm_passes.passes import bound_constant, bound_value, mutate_functions, op_name, static_shape

_LAYOUT_OPS = ("relax.reshape", "relax.permute_dims")
_TO_NCHW, _TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]
_UNARY = ("relax.nn.relu", "relax.clip", "relax.sigmoid", "relax.tanh", "relax.nn.silu")
_BINARY = ("relax.add", "relax.subtract", "relax.multiply", "relax.divide", "relax.maximum", "relax.minimum")


def channel_gather(mutator: relax.PyExprMutator, expr) -> tuple[relax.Expr, np.ndarray] | None:
    """(x, index) when `expr` is `take(x, index, axis=3)` with a constant 1-d index, else None."""
    value = bound_value(mutator, expr)
    if op_name(value) != "relax.take" or int(value.attrs.axis) != 3 or static_shape(value.args[0]) is None:
        return None
    indices = bound_constant(mutator, value.args[1])
    if indices is None or indices.value.numpy().ndim != 1:
        return None
    return value.args[0], indices.value.numpy()


def channel_permutation(mutator: relax.PyExprMutator, expr) -> tuple[relax.Expr, np.ndarray] | None:
    """(x, perm) when `expr` is `take(x, perm, axis=3)` with a constant perm that permutes
    all of x's channels (not a gather of some of them), else None."""
    found = channel_gather(mutator, expr)
    if found is None or not np.array_equal(np.sort(found[1]), np.arange(static_shape(found[0])[-1])):
        return None
    return found


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
        if name == "relax.permute_dims" and _axes(call) == _TO_NHWC:
            back = bound_value(self, call.args[0])
            if op_name(back) == "relax.permute_dims" and _axes(back) == _TO_NCHW:
                return back.args[0]  # NHWC -> NCHW -> NHWC
        if name in _LAYOUT_OPS:
            return self._as_take(call)
        if name == "relax.strided_slice":
            return self._sliced(call)
        if name == "relax.split":
            return self._split(call)
        if name == "relax.concat":
            return self._concatenated(call)
        if name == "relax.nn.conv2d" or name in _UNARY or name in _BINARY:
            return self._sunk(call, name)
        return call

    def _as_take(self, call):
        """`take(x, perm, axis=3)` for a layout chain ending at `call` that permutes the
        channels of an NHWC tensor x; the same transposed to NCHW for a chain that ends in
        NCHW (a shuffle that a reshape kept in NCHW, ahead of a channel split); else `call`."""
        shape = static_shape(call)
        if shape is None or len(shape) != 4:
            return call
        nhwc = (shape[0], shape[2], shape[3], shape[1])  # the NHWC form of an NCHW result
        chain, source = [call], call.args[0]
        while True:  # back to the nearest tensor of the result's shape or its NHWC form
            value = bound_value(self, source)
            if static_shape(source) in (shape, nhwc) or op_name(value) not in _LAYOUT_OPS:
                break
            chain.append(value)
            source = value.args[0]
        # `value` is what `source` is bound to
        if static_shape(source) == shape and op_name(value) == "relax.permute_dims" and _axes(value) == _TO_NCHW:
            chain.append(value)  # an NHWC tensor turned NCHW for the chain: start from the NHWC one
            source = value.args[0]
        source_shape = static_shape(source)
        if len(chain) < 2 or source_shape not in (shape, nhwc):
            return call
        index = np.arange(np.prod(source_shape)).reshape(source_shape)
        moved = index
        for op in reversed(chain):
            if op_name(op) == "relax.reshape":
                moved = moved.reshape([int(d) for d in op.ty.shape])
            else:
                moved = moved.transpose(_axes(op))
        channels = source_shape[3]
        # the result as NHWC (it is, or it is NCHW), tried in turn: with H = W = C both fit
        for ends_nchw, layout in ((False, shape), (True, nhwc)):
            if source_shape != layout:
                continue
            found = moved.transpose(_TO_NHWC) if ends_nchw else moved
            perm = found.reshape(-1, channels)[0] - index.reshape(-1, channels)[0, 0]
            if (not np.array_equal(np.sort(perm), np.arange(channels)) or not np.array_equal(found, index[..., perm])
                    or (not ends_nchw and np.array_equal(perm, np.arange(channels)))):
                continue
            take = self._take(source, perm)
            return relax.op.permute_dims(self.builder_.emit(take), _TO_NCHW) if ends_nchw else take
        return call

    def _sliced(self, call):
        """A channel split after the shuffle: a slice of an NHWC tensor turned NCHW as the
        NCHW turn of the NHWC slice (so the turn back to NHWC cancels), and a slice of
        `take(x, perm, axis=3)` along the channels as one take of those channels."""
        source = bound_value(self, call.args[0])
        axes, begin, end, *strides = ([int(getattr(f, "value", f)) for f in t.fields] for t in call.args[1:])
        if op_name(source) == "relax.permute_dims" and _axes(source) == _TO_NCHW:
            axes = [_TO_NCHW[a] for a in axes]
            sliced = self._slice_of_take(source.args[0], axes, begin, end, strides)
            if sliced is None:
                sliced = relax.op.strided_slice(source.args[0], axes, begin, end, *strides)
            return relax.op.permute_dims(self.builder_.emit(sliced), _TO_NCHW)
        sliced = self._slice_of_take(call.args[0], axes, begin, end, strides)
        return call if sliced is None else sliced

    def visit_tuple_getitem_(self, op):
        op = super().visit_tuple_getitem_(op)
        value = bound_value(self, op.tuple_value)
        return value.fields[int(op.index)] if isinstance(value, relax.Tuple) else op  # a split made slices

    def _split(self, call):
        """A split of an NCHW turn or of a channel take (the dynamo exporter's `chunk` of
        ShuffleNet v2's shuffled channels, where the TorchScript one writes two slices) as the
        tuple of its slices, each then a slice as above; else `call`."""
        shape, source = static_shape(call.args[0]), bound_value(self, call.args[0])
        turned = op_name(source) == "relax.permute_dims" and _axes(source) == _TO_NCHW
        if shape is None or len(shape) != 4 or not (turned or channel_gather(self, call.args[0]) is not None):
            return call
        axis = int(call.attrs.axis) % 4
        pieces = call.attrs.indices_or_sections
        if isinstance(pieces, (int, tvm.tirx.IntImm)):
            step = -(-shape[axis] // int(pieces))
            bounds = [*range(0, shape[axis], step), shape[axis]]
        else:
            bounds = [0, *(int(i) for i in pieces), shape[axis]]
        slices = [self.builder_.emit(self._sliced(self.builder_.normalize(
            relax.op.strided_slice(call.args[0], [axis], [begin], [end]))))
            for begin, end in zip(bounds, bounds[1:])]
        return relax.Tuple(slices)

    def _concatenated(self, call):
        """A concat of NCHW tensors, some of them NHWC tensors turned NCHW, as the NCHW turn
        of their NHWC concat (ShuffleNet v2 joins its split halves so, ahead of the next
        shuffle); when at least half the parts are turns, a part that is none (a half split
        off the model's NCHW input) is turned NHWC on its own."""
        parts = list(call.args[0].fields)
        turned = [bound_value(self, part) for part in parts]
        turned = [p if op_name(p) == "relax.permute_dims" and _axes(p) == _TO_NCHW else None for p in turned]
        if 2 * sum(t is not None for t in turned) < len(parts) or any(len(static_shape(p) or ()) != 4 for p in parts):
            return call
        nhwc = [t.args[0] if t is not None else self.builder_.emit(relax.op.permute_dims(part, _TO_NHWC))
                for part, t in zip(parts, turned)]
        joined = relax.op.concat(nhwc, axis=_TO_NCHW[int(call.attrs.axis)])
        return relax.op.permute_dims(self.builder_.emit(joined), _TO_NCHW)

    def _slice_of_take(self, x, axes, begin, end, strides):
        """`take(y, perm[begin:end:stride], axis=3)` when `x` is `take(y, perm, axis=3)` with a
        constant perm and the slice is along the channels, else None."""
        gathered = channel_gather(self, x)
        if gathered is None or axes != [3]:
            return None
        source, index = gathered
        return self._take(source, index[slice(begin[0], end[0], strides[0][0] if strides else None)])

    def _take(self, x, index):
        """`take(x, index, axis=3)`, one take with the constant take that `x` may be."""
        inner = channel_gather(self, x)
        if inner is not None:
            x, index = inner[0], inner[1][index]
        return relax.op.take(x, relax.const(index.astype("int64")), axis=3)

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


def _axes(permute) -> list[int]:
    axes = permute.attrs.axes
    return list(range(len(permute.ty.shape)))[::-1] if axes is None else [int(a) for a in axes]


def sink_channel_shuffles(target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="SinkChannelShuffles")
    def rewrite(mod, _ctx):
        if target.kind.name != "llvm":
            return mod  # channels-last only
        return relax.transform.DeadCodeElimination()(mutate_functions(_Shuffles(mod)))

    return rewrite
