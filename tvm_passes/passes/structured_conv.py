"""Structured convolutions lowered per layer: `sumpool+conv` or `fold` (methods.md §1).

The importer emits each structured layer as a call to a private function tagged
{"sedge.op": "StructuredConv"} whose generic body runs the sum-pool as convs with 0/1
weights: a depthwise conv with an all-ones weight (a multiply per add) and, where the channel
window is wider than one channel, a 1x1 conv with a 0/1 band weight (a dense C x c GEMM,
more multiplies than the original 1x1 layer). ChooseLowering (lowering.py) has marked each
call with the cheapest lowering on the target (structured_cost.py) or the one --lowering
forced; this pass carries it out:

- `sumpool+conv`: the add-only sum-pool kernel, then the small conv on alpha
      xt = permute_dims(x, NCHW -> NHWC)
      p  = call_tir(sedge_sum_pool, xt)                      # kernels/sum_pool.py: adds only
      y  = conv2d(p, alpha, padding 0, the layer's stride and dilation, groups,
                  data_layout NHWC, kernel_layout OIHW, out_layout NCHW) [+ bias]
  (methods.md §1: the sum-pool takes the layer's padding and dilation at stride 1, the small
  conv padding 0 and the layer's stride and dilation). The channels-last rewrite that runs
  later turns the permute into an identity where the producer is already channels-last and
  gives the small conv the NHWC / HWIO layout, packing and schedules of every other conv.
- `fold`: alpha multiplied back into the dense kernel, W = A alpha (methods.md §1: each
  dense weight is the sum of the alphas whose basis block covers it), by a TE kernel that
  reads only alpha: `lift-params` moves it to load time, and per inference the layer is the
  dense conv with the layer's own padding, stride, dilation and groups, on sedge's dense
  schedules (Winograd where it pays). It needs no multiply either: W is sums of alphas.
- `generic` (or no mark): the call stays and InlineConstructs gives it the generic body.
"""
import tvm
from tvm import relax, te, tirx

from sedge.frontend.importers.construct import add_channel_bias
from sedge.tvm_passes.kernels.sum_pool import KERNEL_NAME, OPAQUE, SUM_POOL_ATTR, scan_zeros, sum_pool_nhwc
from sedge.tvm_passes.lowering import marked_construct
from sedge.tvm_passes.passes import mutate_functions, static_shape
from sedge.tvm_passes.schedules.cpu import cpu_spec
from sedge.tvm_passes.structured_cost import FOLD, SUM_POOL  # the lowerings the cost model prices

CONSTRUCT = "StructuredConv"
FOLD_KERNEL = "sedge_structured_fold"


def _int_list(values) -> list[int]:
    return [int(v) for v in values]


def fold_alpha(alpha: te.Tensor, group_in: int, kernel: int) -> te.Tensor:
    """TE: the dense kernel W (O, Cg, N, N) of alpha (O, c, n, n), W = A alpha (methods.md §1).

    W[o, i, y, x] = sum of alpha[o, i - t, y - u, x - v] over the channel window t < Cg - c + 1
    and the spatial window u, v < N - n + 1 where the index is inside alpha: sums only."""
    O, c, n, _ = (int(d) for d in alpha.shape)
    t = te.reduce_axis((0, group_in - c + 1), "t")
    u = te.reduce_axis((0, kernel - n + 1), "u")
    v = te.reduce_axis((0, kernel - n + 1), "v")

    def inside(index, extent):
        return tirx.all(index >= 0, index < extent)

    def weight(o, i, y, x):
        covered = tirx.all(inside(i - t, c), inside(y - u, n), inside(x - v, n))
        value = alpha[o, tirx.max(i - t, 0), tirx.max(y - u, 0), tirx.max(x - v, 0)]
        return te.sum(tirx.if_then_else(covered, value, tirx.const(0, alpha.dtype)), axis=[t, u, v])

    return te.compute((O, group_in, kernel, kernel), weight, name="structured_fold")


@relax.expr_functor.mutator
class _LowerStructured(relax.PyExprMutator):
    def __init__(self, mod, lanes: int):
        super().__init__(mod)
        self.mod, self.lanes = mod, lanes

    def visit_call_(self, call):
        call = super().visit_call_(call)
        func, lowering = marked_construct(self.mod, call, CONSTRUCT)
        if func is None or lowering not in (SUM_POOL, FOLD):
            return call  # not a structured conv, or marked generic: InlineConstructs inlines its body
        lowered = self._lower(call, func.attrs, lowering)
        return call if lowered is None else lowered

    def _lower(self, call, attrs, lowering):
        """The chosen lowering of `call`, or None (a shape this pass cannot take: the body stays)."""
        x, alpha = call.args[0], call.args[1]
        bias = call.args[2] if len(call.args) > 2 else None
        x_shape, alpha_shape = static_shape(x), static_shape(alpha)
        if x_shape is None or alpha_shape is None or len(x_shape) != 4 or x.ty.dtype != "float32":
            return None
        groups, c, kernel = int(attrs["group"]), int(attrs["c"]), int(attrs["kernel_size"])
        pads, dilation, strides = _int_list(attrs["pads"]), _int_list(attrs["dilations"]), _int_list(attrs["strides"])
        channels = x_shape[1]
        if channels % groups or alpha_shape[1] != c or len(pads) != 4:
            return None
        emit = self.builder_.emit
        if lowering == FOLD:
            weight = emit(self.builder_.call_te(fold_alpha, alpha, channels // groups, kernel,
                                                primfunc_name_hint=FOLD_KERNEL))
            y = relax.op.nn.conv2d(x, weight, strides=strides, padding=pads, dilation=dilation, groups=groups)
        else:
            window = kernel - int(attrs["n"]) + 1
            xt = emit(relax.op.permute_dims(x, [0, 2, 3, 1]))
            pooled = emit(self.builder_.call_te(
                sum_pool_nhwc, xt, groups, c, window, pads, dilation, self.lanes,
                **scan_zeros(channels, groups, c, self.lanes), primfunc_name_hint=KERNEL_NAME,
                primfunc_attrs={"op_pattern": OPAQUE, "tirx.is_scheduled": True, SUM_POOL_ATTR: {
                    "window": window, "channel_window": channels // groups - c + 1, "pads": pads,
                    "dilation": dilation}}))
            y = relax.op.nn.conv2d(pooled, alpha, strides=strides, padding=0, dilation=dilation, groups=groups,
                                   data_layout="NHWC", kernel_layout="OIHW", out_layout="NCHW")
        if bias is None:
            return y
        return add_channel_bias(self.builder_, emit(y), bias)


def structured_conv(target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="LowerStructuredConv")
    def apply(mod, _ctx):
        lanes = cpu_spec(target).lanes if target.kind.name == "llvm" else 1
        mutated = mutate_functions(_LowerStructured(mod, lanes))
        # the construct functions whose every call was replaced are dead now
        return relax.transform.DeadCodeElimination()(mutated)

    return apply
