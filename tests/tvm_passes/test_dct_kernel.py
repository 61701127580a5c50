"""The fast DCT kernel with one vector (batch 1): its butterfly passes run the transform axis
across the SIMD lanes (kernels/dct.py `_vectorize_stage`), and still compute scipy's DCTs."""
import numpy as np
import pytest
import tvm
from tvm import te

from sedge.tvm_passes.kernels import dct as K
from sedge.tvm_passes.target import host_target


def _scheduled(N, V):
    x = te.placeholder((N, V), "float32", "x")
    tw, twi = (te.placeholder((2, N // 2), "float32", n) for n in ("tw", "twi"))
    ph = te.placeholder((2, N), "float32", "ph")
    func = te.create_prim_func([x, tw, twi, ph, K.dct2(x, tw, ph, N, V), K.dct3(x, twi, ph, N, V)])
    sch = tvm.s_tir.Schedule(func)
    K.schedule_dct(sch, 16)
    return sch.mod["main"].with_attr("tirx.is_scheduled", True)


@pytest.mark.parametrize("N", [2, 4, 32, 256, 4096])
def test_one_vector_matches_scipy(N):
    import scipy.fft

    lib = tvm.compile(tvm.IRModule({"main": _scheduled(N, 1)}), target=tvm.target.Target(host_target()))
    x = np.random.default_rng(N).standard_normal((N, 1)).astype(np.float32)
    outs = [tvm.runtime.tensor(np.zeros((N, 1), np.float32)) for _ in range(2)]
    tables = [K.twiddles(N, -1), K.twiddles(N, 1), K.makhoul_phases(N)]
    lib["main"](*[tvm.runtime.tensor(t) for t in (x, *tables)], *outs)
    x64 = x.astype(np.float64)
    for got, want in zip(outs, (scipy.fft.dct(x64, axis=0, norm="ortho"), scipy.fft.idct(x64, axis=0, norm="ortho"))):
        assert np.max(np.abs(got.numpy() - want)) / np.max(np.abs(want)) < 2e-6


def test_one_vector_runs_the_butterflies_across_the_lanes():
    script = _scheduled(1024, 1).script()
    # stages of stride 2, 4, 8 in vectors of their stride, the 6 strides 16 ... 512 in vectors of 16,
    # in both transforms
    assert script.count("T.vectorized(16)") == 2 * 6
    assert all(f"T.vectorized({w})" in script for w in (2, 4, 8))
    # with 16 vectors the lanes hold the vectors, as before
    assert "T.vectorized(16)" in _scheduled(64, 16).script()
