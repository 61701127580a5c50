"""The sum-pool kernel alone against the method's PyTorch sum-pool in float64, over drawn
geometries: channel windows of any output count (the running sum's whole vectors, its
narrower and scalar last steps, its first window's masked last vector), groups, spatial
windows, padding and dilation."""
import numpy as np
import pytest
import torch
import tvm
from compiled_models import HOST
from hypothesis import given, settings
from hypothesis import strategies as st
from tvm import te

from sedge.frontend.layers.structured import sum_pool
from sedge.tvm_passes.kernels.sum_pool import pooled_size, scan_steps, sum_pool_nhwc

LANES = 16
RTOL = 1e-5


def box_sum(x, groups, c, window, pad, dilation):
    """The method's own sum-pool (frontend/layers/structured.py, PyTorch) in float64, channels-last."""
    nchw = torch.tensor(x, dtype=torch.float64).permute(0, 3, 1, 2)
    return sum_pool(nchw, c, window, [pad, pad], [dilation, dilation], groups).permute(0, 2, 3, 1).numpy()


@settings(max_examples=20, deadline=None)
@given(groups=st.sampled_from([1, 1, 2]), c=st.integers(1, 40), extra=st.integers(0, 40),
       window=st.integers(1, 3), pad=st.integers(0, 2), dilation=st.integers(1, 2),
       size=st.tuples(st.integers(2, 6), st.integers(2, 6)), batch=st.integers(1, 2))
def test_the_kernel_is_the_box_sum(groups, c, extra, window, pad, dilation, size, batch):
    if pooled_size(min(size), pad, pad, dilation, window) < 1:
        return  # no output: the layer itself would be rejected
    x = te.placeholder((batch, *size, groups * (c + extra)), name="x")
    zeros = te.placeholder((LANES,), name="zeros")
    y = sum_pool_nhwc(x, groups, c, window, (pad,) * 4, (dilation,) * 2, LANES, zeros=zeros)
    kernel = te.create_prim_func([x, zeros, y]).with_attr("global_symbol", "main")
    run = tvm.compile(tvm.IRModule({"main": kernel}), target=HOST)["main"]
    data = np.random.default_rng(0).standard_normal([int(d) for d in x.shape]).astype("float32")
    want = box_sum(data, groups, c, window, pad, dilation)
    got = tvm.runtime.tensor(np.zeros(want.shape, "float32"))
    run(tvm.runtime.tensor(data), tvm.runtime.tensor(np.zeros(LANES, "float32")), got)
    assert np.abs(got.numpy() - want).max() <= RTOL * np.abs(want).max()


@pytest.mark.parametrize("c,steps", [(72, [(0, 16), (16, 16), (32, 16), (48, 16), (64, 8)]),
                                     (12, [(0, 8), (8, 4)]), (23, [(0, 16), (16, 4), (20, 2), (22, 1)]),
                                     (1, [(0, 1)]), (480, [(i, 16) for i in range(0, 480, 16)])])
def test_the_running_sum_takes_the_widest_vectors_the_outputs_hold(c, steps):
    assert scan_steps(c, LANES) == steps
