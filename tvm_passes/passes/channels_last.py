"""Convert convolutions (and what follows them) to channels-last (NHWC data, HWIO weights) on CPUs.

Channels-last puts the output channels innermost, so the CPU schedules vectorise over
them with contiguous loads and stores. The weight re-layout depends on weights only, so
`lift-params` moves it to load time; the activations change layout once at the model's
input and back where a layout-bound op (flatten, reshape) needs NCHW.
"""
import numpy as np
import tvm
from tvm import relax

from sedge.tvm_passes.passes import bound_value, mutate_functions, op_name

# pooling and elementwise ops follow their input's layout (TVM refuses a desired one for them)
DESIRED_LAYOUTS = {"relax.nn.conv2d": ["NHWC", "HWIO"]}


@relax.expr_functor.mutator
class _ConstantTransposes(relax.PyExprMutator):
    def visit_call_(self, call):
        call = super().visit_call_(call)
        if (op_name(call) == "relax.permute_dims" and isinstance(call.args[0], tvm.ir.expr.Constant)
                and call.attrs.axes is not None):
            data = call.args[0].value.numpy()
            return relax.const(np.ascontiguousarray(data.transpose([int(a) for a in call.attrs.axes])))
        return call


@relax.expr_functor.mutator
class _TransposePairs(relax.PyExprMutator):
    def visit_call_(self, call):
        call = super().visit_call_(call)
        if op_name(call) != "relax.permute_dims" or call.attrs.axes is None:
            return call
        axes = [int(a) for a in call.attrs.axes]
        if axes == list(range(len(axes))):
            return call.args[0]
        inner = bound_value(self, call.args[0])
        if not (isinstance(inner, relax.Call) and op_name(inner) == "relax.permute_dims") or inner.attrs.axes is None:
            return call
        inner_axes = [int(a) for a in inner.attrs.axes]
        return inner.args[0] if [inner_axes[a] for a in axes] == list(range(len(axes))) else call


def _cancel_transpose_pairs() -> tvm.transform.Pass:
    """permute_dims(permute_dims(t, p), q) with q undoing p -> t, and an identity
    permute_dims -> its input; then the aliases that leaves removed and the unused first
    halves of the pairs. ConvertLayout ends a layout at every permute_dims (its output takes
    the initial layout) and at every alias (y = x): a rewrite's NCHW conv permuted to the
    channels-last the importer had put around a construct, then permuted back by the
    importer, kept the ops after it NCHW. After ConvertLayout the same step removes the
    pairs and identities it leaves around the convs it turned (a rewrite's NHWC tensor
    permuted to an NCHW conv's input, then back)."""

    @tvm.transform.module_pass(opt_level=0, name="CancelTransposePairs")
    def cancel(mod, _ctx):
        return mutate_functions(_TransposePairs(mod))

    return tvm.transform.Sequential([cancel, relax.transform.CanonicalizeBindings(),
                                     relax.transform.DeadCodeElimination()], name="CancelTransposePairs")


@tvm.transform.module_pass(opt_level=0, name="FoldConstantTransposes")
def _fold_constant_transposes(mod, _ctx):
    """The re-layout of a constant weight (an importer's sum-pool or band weight) done here in
    numpy: FoldConstant would build and run a TVM kernel for each shape (8 of a
    structured mobilenetv2's 14 s compile)."""
    return mutate_functions(_ConstantTransposes(mod))


def channels_last(target: tvm.target.Target) -> tvm.transform.Pass:
    if target.kind.name != "llvm":
        return tvm.transform.Sequential([], name="ChannelsLast")  # GPUs keep their own layouts
    return tvm.transform.Sequential([
        _cancel_transpose_pairs(), relax.transform.ConvertLayout(DESIRED_LAYOUTS), _cancel_transpose_pairs(),
        _fold_constant_transposes], name="ChannelsLast")
