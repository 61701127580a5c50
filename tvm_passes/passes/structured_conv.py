"""Structured convolutions as an add-only sum-pool kernel followed by their small conv.

The importer emits each structured layer as a call to a private function tagged
{"sedge.op": "StructuredConv"} whose generic body runs the sum-pool as convs with 0/1
weights: a depthwise conv with an all-ones weight (a multiply per add) and, where the channel
window is wider than one channel, a 1x1 conv with a 0/1 band weight (a dense C x c GEMM,
more multiplies than the original 1x1 layer). This pass replaces each such call with

    xt = permute_dims(x, NCHW -> NHWC)
    p  = call_tir(sedge_sum_pool, xt)                      # kernels/sum_pool.py: adds only
    y  = conv2d(p, alpha, padding 0, the layer's stride and dilation, groups,
                data_layout NHWC, kernel_layout OIHW, out_layout NCHW) [+ bias]

(methods.md §1: the sum-pool takes the layer's padding and dilation at stride 1, the small
conv padding 0 and the layer's stride and dilation). The channels-last rewrite that runs
later turns the permute into an identity where the producer is already channels-last and
gives the small conv the NHWC / HWIO layout, packing and schedules of every other conv.

Where it does not apply the call is returned unchanged and InlineConstructs gives it the
generic body: non-CPU targets, a non-float32 or symbolic shape, a layer with no
sum-pool to do (window 1, no channel window, no padding), and, for now, every layer where
the standalone kernel measured slower than the generic body (`pays` below: only channel
windows over >= 64 channels per group are taken until the pool is fused into the conv).
"""
import tvm
from tvm import relax

from sedge.frontend.importers.construct import OP_ATTR, add_channel_bias
from sedge.tvm_passes.kernels.sum_pool import KERNEL_NAME, OPAQUE, sum_pool_nhwc
from sedge.tvm_passes.passes import mutate_functions, static_shape
from sedge.tvm_passes.schedules.cpu import cpu_spec

CONSTRUCT = "StructuredConv"
# The standalone kernel against the generic body, one layer each, interleaved A/B in one
# process (2 cores, heavily loaded machine; the script is in docs/structured-kernels.md):
#   1x1 96 -> 24, c = 72 (channel window 25), 56x56:   1.67 -> 1.10 ms (0.66x)
#   1x1 24 -> 144, c = 12 (channel window 13), 56x56:  0.49 -> 0.86 ms (1.77x)
#   3x3 64 -> 64, c = C, n = 2 (2x2 pool), 56x56:       2.70 -> 3.21 ms (1.19x)
#   depthwise 3x3 144, n = 2, stride 2, 56x56:          0.86 -> 0.84 ms (0.98x)
# Alone the sum-pool is one more pass over memory; it only beats the band GEMM it replaces
# where that GEMM is wide. Until the pool is fused into the small conv's tile (issue 22),
# the pass takes only channel windows over at least this many input channels per group.
MIN_WINDOW_CHANNELS = 64


def pays(group_in: int, c: int, window: int) -> bool:
    """Whether the standalone sum-pool kernel beats the generic body (measured above)."""
    return group_in - c + 1 > 1 and group_in >= MIN_WINDOW_CHANNELS


def _int_list(values) -> list[int]:
    return [int(v) for v in values]


@relax.expr_functor.mutator
class _SumPoolThenConv(relax.PyExprMutator):
    def __init__(self, mod, lanes: int):
        super().__init__(mod)
        self.mod, self.lanes = mod, lanes

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if not isinstance(call.op, relax.GlobalVar):
            return call
        func = self.mod[call.op]
        if not isinstance(func, relax.Function) or func.attrs is None or func.attrs.get(OP_ATTR) != CONSTRUCT:
            return call
        lowered = self._lower(call, func.attrs)
        return call if lowered is None else lowered

    def _lower(self, call, attrs):
        """The sum-pool + small conv for `call`, or None to keep the generic body."""
        x, alpha = call.args[0], call.args[1]
        bias = call.args[2] if len(call.args) > 2 else None
        x_shape, alpha_shape = static_shape(x), static_shape(alpha)
        if x_shape is None or alpha_shape is None or len(x_shape) != 4 or x.ty.dtype != "float32":
            return None
        groups, c, n, kernel = int(attrs["group"]), int(attrs["c"]), int(attrs["n"]), int(attrs["kernel_size"])
        pads, dilation, strides = _int_list(attrs["pads"]), _int_list(attrs["dilations"]), _int_list(attrs["strides"])
        channels = x_shape[1]
        window = kernel - n + 1
        if channels % groups or alpha_shape[1] != c or len(pads) != 4:
            return None
        if channels // groups == c and window == 1 and not any(pads):
            return None  # nothing to pool: the generic body is the small conv alone
        if not pays(channels // groups, c, window):
            return None
        emit = self.builder_.emit
        xt = emit(relax.op.permute_dims(x, [0, 2, 3, 1]))
        pooled = emit(self.builder_.call_te(
            sum_pool_nhwc, xt, groups, c, window, pads, dilation, self.lanes, primfunc_name_hint=KERNEL_NAME,
            primfunc_attrs={"op_pattern": OPAQUE, "tirx.is_scheduled": True}))
        y = relax.op.nn.conv2d(pooled, alpha, strides=strides, padding=0, dilation=dilation, groups=groups,
                               data_layout="NHWC", kernel_layout="OIHW", out_layout="NCHW")
        if bias is None:
            return y
        return add_channel_bias(self.builder_, emit(y), bias)


def structured_conv(target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="StructuredConvSumPool")
    def apply(mod, _ctx):
        if target.kind.name != "llvm":
            return mod  # GPUs keep the generic body (a GPU sum-pool schedule is still to come)
        mutated = mutate_functions(_SumPoolThenConv(mod, cpu_spec(target).lanes))
        # the construct functions whose every call was replaced are dead now
        return relax.transform.DeadCodeElimination()(mutated)

    return apply
