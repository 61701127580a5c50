"""The sum-pool kernel alone against a float64 numpy box sum, over drawn geometries: channel
windows of any output count (the running sum's whole vectors, its narrower and scalar last
steps, its first window's masked last vector), groups, spatial windows, padding and dilation."""
import numpy as np
import pytest
import tvm
from compiled_models import HOST
from hypothesis import given, settings
from hypothesis import strategies as st
from tvm import te

from sedge.tvm_passes.kernels.sum_pool import pooled_size, scan_steps, sum_pool_nhwc

LANES = 16
RTOL = 1e-5


def box_sum(x, groups, c, window, pads, dilation):
    """y[..., g*c + ci] = the sum over the window's rows, columns and channels ci .. ci + kc - 1."""
    B, H, W, C = x.shape
    Cg = C // groups
    kc, (pt, pl, pb, pr), (dh, dw) = Cg - c + 1, pads, dilation
    padded = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    Ho, Wo = pooled_size(H, pt, pb, dh, window), pooled_size(W, pl, pr, dw, window)
    y = np.zeros((B, Ho, Wo, groups * c))
    for i in range(window):
        for j in range(window):
            rows = padded[:, dh * i:dh * i + Ho, dw * j:dw * j + Wo]
            for g in range(groups):
                for ci in range(c):
                    y[..., g * c + ci] += rows[..., g * Cg + ci:g * Cg + ci + kc].sum(-1)
    return y


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
    want = box_sum(data, groups, c, window, (pad,) * 4, (dilation,) * 2)
    got = tvm.runtime.tensor(np.zeros(want.shape, "float32"))
    run(tvm.runtime.tensor(data), tvm.runtime.tensor(np.zeros(LANES, "float32")), got)
    assert np.abs(got.numpy() - want).max() <= RTOL * np.abs(want).max()


@pytest.mark.parametrize("c,steps", [(72, [(0, 16), (16, 16), (32, 16), (48, 16), (64, 8)]),
                                     (12, [(0, 8), (8, 4)]), (23, [(0, 16), (16, 4), (20, 2), (22, 1)]),
                                     (1, [(0, 1)]), (480, [(i, 16) for i in range(0, 480, 16)])])
def test_the_running_sum_takes_the_widest_vectors_the_outputs_hold(c, steps):
    assert scan_steps(c, LANES) == steps
