import numpy as np
import pytest
import scipy.fft
import torch

from sedge.errors import SedgeError
from sedge.frontend.layers.acdc import ACDC, SECLConv2d, dct_matrix, riffle, secl_reference


def test_riffle_of_0_to_7():
    assert riffle(torch.arange(8)).tolist() == [0, 4, 1, 5, 2, 6, 3, 7]


def test_dct_matrix_is_scipy_orthonormal_dct():
    x = np.random.default_rng(0).standard_normal(12)
    assert np.allclose(dct_matrix(12).numpy() @ x, scipy.fft.dct(x, norm="ortho"))
    assert np.allclose(dct_matrix(12).numpy().T @ x, scipy.fft.idct(x, norm="ortho"))


def test_one_factor_matches_the_formula():
    layer = ACDC(6, factors=1, bias=True).double().eval()
    with torch.no_grad():
        layer.bias.normal_()
    x = np.random.default_rng(1).standard_normal((3, 6))
    a, d, b = (t.detach().numpy()[0] for t in (layer.a, layer.d, layer.bias))
    h = scipy.fft.idct(d * scipy.fft.dct(a * x, norm="ortho", axis=-1), norm="ortho", axis=-1) + b
    expected = np.stack([h[:, :3], h[:, 3:]], -1).reshape(3, 6)
    assert np.allclose(layer(torch.from_numpy(x)).detach().numpy(), expected)


def test_stack_equals_its_dense_matrix():
    layer = ACDC(10, factors=12, bias=True).eval()
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(4, 10)
    W, b = layer.dense()
    assert float((layer(x) - (x @ W + b)).detach().norm() / (x @ W + b).detach().norm()) < 1e-5


@pytest.mark.parametrize("C,O,stride,padding,dilation", [(6, 6, 1, 1, 1), (6, 10, 2, 1, 1), (8, 4, 1, 2, 2),
                                                         (6, 14, 2, 0, 1)])
def test_secl_equals_depthwise_plus_dense_pointwise(C, O, stride, padding, dilation):
    layer = SECLConv2d(C, O, 3, stride, padding, dilation, factors=4, bias=True).eval()
    x = torch.randn(2, C, 9, 7)
    dense = secl_reference(layer, x)
    assert dense.shape[1] == O
    assert float((layer(x) - dense).detach().norm() / dense.detach().norm()) < 1e-5


def test_channel_repeat_appends_first_channels_then_tiles():
    layer = SECLConv2d(6, 16, factors=1)
    assert layer.expand(torch.arange(6.0)).tolist() == [0, 1, 2, 3, 4, 5, 0, 1] * 2


def test_odd_n_is_refused():
    with pytest.raises(SedgeError, match="even N"):
        ACDC(7)


def test_o_not_dividing_c_is_refused():
    with pytest.raises(SedgeError, match="O dividing C"):
        SECLConv2d(6, 4)
