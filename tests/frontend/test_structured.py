import pytest
import torch
import torch.nn.functional as F

from sedge.errors import SedgeError
from sedge.frontend.layers.structured import StructuredConv2d, StructuredLinear, basis_matrix, structural_residual

RTOL = 1e-5


def rel_err(a, b):
    return float((a - b).detach().norm() / b.detach().norm())


def test_worked_example_3x3_kernel():
    layer = StructuredConv2d(1, 1, 3, c=1, n=2, bias=False)
    with torch.no_grad():
        layer.alpha.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2))
    expected = torch.tensor([[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]])
    assert torch.equal(layer.dense_weight()[0, 0], expected)


def test_basis_has_full_column_rank():
    A = basis_matrix(5, 3, 3, 2)
    assert A.shape == (5 * 9, 3 * 4)
    assert torch.linalg.matrix_rank(A) == 3 * 4


@pytest.mark.parametrize("C,O,N,c,n,stride,padding,dilation,groups", [
    (6, 5, 3, 4, 2, 2, 1, 2, 1),     # O != C, stride, padding, dilation
    (4, 4, 3, 4, 2, 1, 1, 1, 1),     # Struct-A style c = C, n = 2
    (5, 7, 1, 3, 1, 1, 0, 1, 1),     # 1x1 channel sliding sum
    (6, 6, 3, 1, 2, 1, 1, 1, 6),     # depthwise, n < N
    (8, 4, 5, 2, 3, 3, 2, 1, 2),     # grouped, odd kernel
])
def test_decomposed_forward_equals_dense(C, O, N, c, n, stride, padding, dilation, groups):
    layer = StructuredConv2d(C, O, N, c, n, stride, padding, dilation, groups).eval()
    x = torch.randn(2, C, 11, 9)
    dense = F.conv2d(x, layer.dense_weight(), layer.bias, stride, padding, dilation, groups)
    assert rel_err(layer(x), dense) < RTOL
    layer.train()
    assert rel_err(layer(x), dense) < RTOL


def test_linear_variant_equals_dense():
    layer = StructuredLinear(10, 7, c=4).eval()
    x = torch.randn(3, 10)
    assert rel_err(layer(x), F.linear(x, layer.dense_weight(), layer.conv.bias)) < RTOL


def test_projection_is_exact_for_structured_input():
    source = StructuredConv2d(6, 4, 3, 3, 2, padding=1)
    conv = torch.nn.Conv2d(6, 4, 3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(source.dense_weight())
    layer, error = StructuredConv2d.from_dense(conv, 3, 2)
    assert error < 1e-5
    assert torch.allclose(layer.alpha, source.alpha, atol=1e-5)
    assert float(structural_residual(conv.weight.detach(), 3, 2)) < 1e-5


def test_projection_of_random_weight_has_expected_residual():
    weight = torch.randn(400, 4, 3, 3, dtype=torch.float64)
    expected = (1 - 2 * 4 / (4 * 9)) ** 0.5
    assert abs(float(structural_residual(weight, 2, 2)) - expected) < 0.05


@pytest.mark.parametrize("kwargs,allowed", [
    (dict(c=5, n=2), "1 <= c <= 4"), (dict(c=4, n=4), "1 <= n <= 3"), (dict(c=0, n=2), "1 <= c <= 4")])
def test_bad_settings_name_the_range(kwargs, allowed):
    with pytest.raises(SedgeError, match=allowed):
        StructuredConv2d(4, 4, 3, **kwargs)
