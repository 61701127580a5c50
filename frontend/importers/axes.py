"""Negative axes that TVM's later passes mishandle, made non-negative after import.

`relax.transform.ConvertLayout` (the channels-last rewrite) dies with `std::bad_alloc` on a
`squeeze` whose axis is negative, whatever precedes it: torch's dynamo exporter writes
nn.MultiheadAttention's q/k/v split as Squeeze(axes=[-2]), so every vision transformer it
exported stopped there with an internal error. The importer knows every shape, so the axes
are rewritten to their non-negative equivalents (other axis-taking ops were checked through
ConvertLayout with negative axes and are fine).
"""


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
