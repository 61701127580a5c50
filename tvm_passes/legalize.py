"""sedge's own legalizations, registered over TVM's for the ops they cover, each falling
back to TVM's where it does not apply.

They are registered as the ops' FLegalize attribute (at a higher level than TVM's), not
passed to LegalizeOps as a map: FoldConstant legalizes every call it meets through that
attribute too, before the legalize phase runs. A SedgeError raised in one reaches the
caller as itself, through TVM's FFI, once registered with it. Both registrations change
TVM process-wide, so they happen in `install()`, which the pipeline calls when it is built,
never on import.
"""
import functools

import numpy as np
import tvm
import tvm_ffi
from tvm import relax, te
from tvm.ir.expr import Constant

from sedge.errors import SedgeError

_TVM_TAKE = tvm.ir.Op.get("relax.take").get_attr("FLegalize")


def _gather(data: te.Tensor, index: te.Tensor, axis: int) -> te.Tensor:
    """data[..., index[j...], ...] along `axis`, trusting `index` (TOPI's "fast" take)."""
    rank = len(index.shape)
    shape = [*data.shape[:axis], *index.shape, *data.shape[axis + 1:]]
    return te.compute(shape, lambda *i: data(*i[:axis], index(*i[axis:axis + rank]), *i[axis + rank:]), name="take")


def require_indices_within(values: np.ndarray, extent: int, axis: int):
    """A one-line error when constant take indices leave the `extent` elements of `axis`."""
    outside = values[(values < 0) | (values >= extent)]
    if outside.size:
        raise SedgeError(f"a take along axis {axis} reads index {int(np.ravel(outside)[0])}, but that axis has "
                         f"{extent} elements; constant indices must lie in 0..{extent - 1}")


def take_by_constant_index(bb: relax.BlockBuilder, call: relax.Call) -> relax.Expr:
    """A `take` by constant indices (sedge's channel shuffles, a channel gather) has them
    checked here, at compile time, so that its kernel may trust them, as TOPI's "fast" take
    does. TVM's own legalization cannot check them and prints a warning per take that a
    bad index would read past the tensor (24 lines for wrn-28-10-shuffle-8); a take by
    indices known only at run time stays TVM's, warning included."""
    data, indices = call.args
    shape = getattr(data.ty, "shape", None)
    if (not isinstance(indices, Constant) or call.attrs.axis is None or call.attrs.mode != "fast"
            or not isinstance(shape, relax.ShapeExpr)):
        return _TVM_TAKE(bb, call)
    axis = int(call.attrs.axis) % len(shape.values)
    extent = int(shape.values[axis])
    require_indices_within(indices.value.numpy(), extent, axis)
    return bb.call_te(_gather, data, indices, axis, primfunc_name_hint="take")


@functools.cache  # once per process: TVM refuses a second registration at the same level
def install():
    """Register sedge's legalizations over TVM's, and SedgeError with TVM's FFI."""
    tvm_ffi.register_error(SedgeError)
    tvm.ir.register_op_attr("relax.take", "FLegalize", take_by_constant_index, level=11)
