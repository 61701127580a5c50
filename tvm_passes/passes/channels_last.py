"""Convert convolutions (and what follows them) to channels-last (NHWC data, HWIO weights) on CPUs.

Channels-last puts the output channels innermost, so the CPU schedules vectorise over
them with contiguous loads and stores. The weight re-layout depends on weights only, so
`lift-params` moves it to load time; the activations change layout once at the model's
input and back where a layout-bound op (flatten, reshape) needs NCHW.
"""
import tvm
from tvm import relax

from sedge.tvm_passes.passes import register_pass

# pooling and elementwise ops follow their input's layout (TVM refuses a desired one for them)
DESIRED_LAYOUTS = {"relax.nn.conv2d": ["NHWC", "HWIO"]}


@register_pass("ChannelsLast")
def channels_last(target: tvm.target.Target) -> tvm.transform.Pass:
    if target.kind.name != "llvm":
        return tvm.transform.Sequential([], name="ChannelsLast")  # GPUs keep their own layouts
    return relax.transform.ConvertLayout(DESIRED_LAYOUTS)
