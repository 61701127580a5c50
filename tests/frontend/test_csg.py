import pytest
import torch
import torch.nn.functional as F

from sedge.errors import SedgeError
from sedge.frontend.layers.csg import CSGConv2d, CSGGenerator, csg_kernel


def test_kernel_is_row_major_reshape_of_codes_times_generator():
    generator = CSGGenerator(2, 2, 3)
    codes = torch.randn(4, 3)
    kernel = csg_kernel(codes, generator.weight, 3, 3, [2, 2])
    full = (codes @ generator.weight.T).reshape(4, 4, 3, 3)
    assert kernel.shape == (3, 3, 3, 3) and torch.equal(kernel, full[:3, :3])
    # each code fills P = 36 consecutive elements: code 0 is output channels 0-1, input channels 0-1
    assert torch.allclose(full.reshape(-1)[:36], codes[0] @ generator.weight.T)


@pytest.mark.parametrize("C,O,stride,padding,dilation", [(7, 10, 2, 1, 1), (16, 16, 1, 1, 1), (5, 3, 1, 2, 2)])
def test_generated_conv_equals_dense(C, O, stride, padding, dilation):
    generator = CSGGenerator(4, 3, 6)
    layer = CSGConv2d(C, O, generator, stride, padding, dilation).eval()
    assert layer.codes.shape == (-(-C // 3) * -(-O // 4), 6)
    x = torch.randn(2, C, 9, 8)
    dense = F.conv2d(x, layer.dense_weight(), None, stride, padding, dilation)
    assert float((layer(x) - dense).detach().norm() / dense.detach().norm()) < 1e-5


def test_generator_is_not_a_parameter_of_each_layer():
    generator = CSGGenerator(4, 4, 8)
    layer = CSGConv2d(8, 8, generator)
    assert [name for name, _ in layer.named_parameters()] == ["codes"]


def test_bad_slice_is_refused():
    with pytest.raises(SedgeError, match="s0 >= 1"):
        CSGGenerator(0, 4, 8)
