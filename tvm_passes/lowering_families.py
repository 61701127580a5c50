"""Each compressed construct's lowering options on a target, from its call (lowering.py asks).

One function per family: it reads the layer's geometry off the call (CallInfo: the
construct's attributes, activation and weight shapes) and asks the family's cost model,
which is a pure function of numbers. A family not listed here has one lowering, its
generic body, and nothing to choose.
"""
import math

from sedge import fast_dct
from sedge.contract import dtype_bytes
from sedge.tvm_passes.acdc_cost import acdc_costs, has_fast_dct
from sedge.tvm_passes.call_info import CallInfo
from sedge.tvm_passes.fft_cost import fft_conv_costs
from sedge.tvm_passes.lowering import Option
from sedge.tvm_passes.schedules.cpu import cache_bytes, cpu_spec
from sedge.tvm_passes.structured_cost import StructuredLayer, structured_options


def _static_float32(info: CallInfo) -> bool:
    return info.dtype == "float32" and all(isinstance(d, int) for s in info.input_shapes for d in s)


def structured(info: CallInfo, target) -> list[Option]:
    a = info.attrs
    batch, channels, height, width = info.input_shapes[0]
    _, out_channels, out_height, out_width = info.output_shape
    layer = StructuredLayer(
        batch, channels, height, width, out_channels, out_height, out_width, int(a["group"]), int(a["c"]),
        int(a["n"]), int(a["kernel_size"]), tuple(a["pads"]), tuple(a["dilations"]), tuple(a["strides"]),
        dtype_bytes(info.dtype))
    # the sum-pool kernel is a CPU kernel for float32 (a GPU schedule is still to come)
    cpu = target.kind.name == "llvm"
    return structured_options(layer, cpu and _static_float32(info), cache_bytes(target) if cpu else 0,
                              cpu_spec(target).lanes if cpu else 1)


def acdc(info: CallInfo, target) -> list[Option]:
    a = info.attrs
    N, factors = int(a["n"]), int(a["factors"])
    vectors = math.prod(info.input_shapes[0]) // N
    kernel = "fast_dct" if has_fast_dct(N, target) and _static_float32(info) else "generic"
    costs = acdc_costs(N, factors, vectors, factored_kernel=kernel, dtype_bytes=dtype_bytes(info.dtype),
                       target=target)
    options = [Option(name, macs, 0, weight_bytes, ns / 1e3) for name, (macs, weight_bytes, ns) in costs.items()]
    if kernel == "fast_dct" and fast_dct.is_kernel_size(N):
        # what the batched kernel runs (passes/acdc.py from N = MIN_N): its multiplies, each with
        # an add, and the adds beyond them, as its TIR holds them; the time stays the cost
        # model's, whose measured rates are per methods.md's 4N + 5N log2 N mult-adds
        muls, adds = fast_dct.stack_ops(N, factors, bool(a.get("bias", True)))
        options = [Option(o.name, vectors * muls, vectors * (adds - muls), o.weight_bytes, o.est_us, "dct_batched")
                   if o.name == "factored" else o for o in options]
    return options


def fft_conv(info: CallInfo, target) -> list[Option]:
    a = info.attrs
    batch, channels, height, width = info.input_shapes[0]
    costs = fft_conv_costs(batch, channels, int(a["out_channels"]), height, width, int(a["kernel_size"]),
                           int(a["strides"][0]), int(a["pads"][0]), int(a["index"]), target, dtype_bytes(info.dtype))
    return [Option(name, macs, adds, weight_bytes, ns / 1e3) for name, (macs, adds, weight_bytes, ns) in costs.items()]


# sedge.op -> its options on a target; one line per family with more than one lowering
FAMILIES = {
    "StructuredConv": structured,
    "ACDC": acdc,
    "FFTConv": fft_conv,
}
