"""benchmarks/dct.py's peers compute the same orthonormal DCT-II as sedge's kernel."""
import numpy as np
import pytest
import torch

from benchmarks.dct import dct_row, flops, numpy_dct, torch_dct


@pytest.mark.parametrize("N", [2, 8, 64, 1024])
def test_the_library_dcts_agree_with_scipy(N):
    import scipy.fft

    x = np.random.default_rng(N).standard_normal((3, N)).astype(np.float32)
    want = scipy.fft.dct(x.astype(np.float64), type=2, norm="ortho", axis=-1)
    assert np.max(np.abs(torch_dct(torch.from_numpy(x)).numpy() - want)) < 1e-5
    assert np.max(np.abs(numpy_dct(x) - want)) < 1e-5


def test_flops_count_as_benchfft_does():
    assert flops(1024, 64) == 2.5 * 1024 * 10 * 64


def test_a_row_times_every_engine_and_checks_sedge():
    row = dct_row(16, 2, rounds=1, threads=1)
    assert set(row["gflops"]) == {"sedge", "torch", "torch rfft", row["library"]}
    assert row["errors"]["sedge"] < 1e-5
