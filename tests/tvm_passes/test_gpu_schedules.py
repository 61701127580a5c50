"""GPU schedule rules (tvm_passes/schedules/gpu.py): which kernels they take, what they make.

These check the scheduled TIR, so they need no GPU; test_build.py runs zoo models through
the same rules on a GPU where one is present and compares them with the reference.
"""
import tvm
from compiled_models import scheduled_kernels
from test_schedules import _conv_block

CUDA = tvm.target.Target({"kind": "cuda", "arch": "sm_90", "host": {"kind": "llvm"}})


def _conv_relu(channels: int, groups: int, kernel: int):
    """relu(conv2d(x) + bias): 64 outputs from `channels` inputs on a 16x16 map."""
    return _conv_block((1, channels, 16, 16), (64, channels // groups, kernel, kernel), 1, kernel // 2, groups,
                       residual=False)


def _conv_kernel(mod) -> str:
    (script,) = [f.script() for f in scheduled_kernels(mod, CUDA).values() if "conv2d" in f.script()]
    return script


def test_a_grouped_1x1_conv_sums_its_group_in_one_thread_per_output():
    # 4 input channels per group: dlight spread each 4-term sum over 16 threads and read the
    # partial sums back through another thread mapping, which came out wrong on an H200
    script = _conv_kernel(_conv_relu(channels=16, groups=4, kernel=1))
    assert 'thread="threadIdx.x"' in script and "threadIdx.y" not in script
    assert "_rf" not in script and 'scope="shared"' not in script
    assert 'scope="local"' in script  # the sum stays in the thread's register
    # the bias and ReLU are applied inside the same thread loop, not by a second mapping
    assert script.count('thread="threadIdx.x"') == 1 and "T.max(" in script


def test_a_long_reduction_is_left_to_dlight():
    # 64 channels x 3x3 = 576 products per output: too long for one thread's serial sum
    script = _conv_kernel(_conv_relu(channels=64, groups=1, kernel=3))
    assert 'scope="shared"' in script or "_rf" in script or "threadIdx.y" in script
