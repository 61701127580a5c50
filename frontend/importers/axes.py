"""Imported constructs that TVM's later passes mishandle, rewritten to equivalents after import.

Negative squeeze axes:

`relax.transform.ConvertLayout` (the channels-last rewrite) dies with `std::bad_alloc` on a
`squeeze` whose axis is negative, whatever precedes it: torch's dynamo exporter writes
nn.MultiheadAttention's q/k/v split as Squeeze(axes=[-2]), so every vision transformer it
exported stopped there with an internal error. The importer knows every shape, so the axes
are rewritten to their non-negative equivalents (other axis-taking ops were checked through
ConvertLayout with negative axes and are fine).

Dropout: see `dropout_as_identity`.

Stacks: ConvertLayout's layout inference for `relax.stack` fails whatever its inputs
("Index -1 out of bounds", or "Invalid SLayout: can't find S in source layout ABC" for 2-D
ones: ONNX's Max/Min of several inputs import as a stack and a reduction). A stack is a
concat of its inputs each given the new axis, which every pass handles.
"""


def tidy(func):
    """`func` with every rewrite of this module applied."""
    return dropout_as_identity(stack_as_concat(nonnegative_squeeze_axes(func)))


def dropout_as_identity(func):
    """`func` with each `nn.dropout(x)` (its output and mask) as the tuple (x, ones): an
    inference model's dropout passes its input through. ConvertLayout fails on the op's
    tuple result ("Expected nested to match tuple"), and no TVM pass removes it first: the
    Model Zoo's AlexNet and SqueezeNet (Dropout with its mask output, opset 9) stopped so."""
    from tvm import relax
    from tvm.relax.dpl import is_op, rewrite_call, wildcard

    data = wildcard()

    def rewrite(_call, matches):
        x = matches[data]
        return relax.Tuple([x, relax.op.ones_like(x)])

    return rewrite_call(is_op("relax.nn.dropout")(data), rewrite, func)


def stack_as_concat(func):
    """`func` with each `stack(xs, axis)` as `concat([expand_dims(x, axis) ...], axis)`."""
    from tvm import relax
    from tvm.relax.dpl import is_op, rewrite_call, wildcard

    pattern = is_op("relax.stack")(wildcard())

    def rewrite(call, _matches):
        tensors = call.args[0]
        ndim = len(call.ty.shape)
        axis = int(call.attrs.axis) % ndim if call.attrs.axis is not None else 0
        fields = tensors.fields if isinstance(tensors, relax.Tuple) else [
            relax.TupleGetItem(tensors, i) for i in range(len(tensors.ty.fields))]
        return relax.op.concat([relax.op.expand_dims(x, axis) for x in fields], axis)

    return rewrite_call(pattern, rewrite, func)


def nonnegative_squeeze_axes(func):
    """`func` with each `squeeze(x, axis=[...])` given non-negative axes."""
    from tvm import relax
    from tvm.relax.dpl import is_op, rewrite_call, wildcard

    data = wildcard()
    pattern = is_op("relax.squeeze")(data)

    def rewrite(call, matches):
        axes = call.attrs.axis
        if axes is None or all(int(a) >= 0 for a in axes):
            return call
        ndim = len(matches[data].ty.shape)
        return relax.op.squeeze(matches[data], axis=[int(a) % ndim for a in axes])

    return rewrite_call(pattern, rewrite, func)
