"""Associative convolutions (Omidvar et al. 2021): per-layer codes + one shared slice generator.

The network owns one generator G (P x K, P = s0*s1*3*3); a 3x3 conv layer owns codes C_l
(ceil(I/s1)*ceil(O/s0) x K) and its kernel is reshape_row_major(C_l G^T)[:O, :I]
(methods.md §3). The eval forward generates the kernel and runs a plain conv; sedge may instead
keep codes + G in the deployed artifact and generate on chip.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from sedge.frontend.layers.settings import pair, require_int_range

KERNEL = 3


def csg_kernel(codes: torch.Tensor, generator: torch.Tensor, out_channels: int, in_channels: int,
               slice_shape: list[int]) -> torch.Tensor:
    s0, s1 = slice_shape
    full = (codes @ generator.T).reshape(math.ceil(out_channels / s0) * s0, math.ceil(in_channels / s1) * s1,
                                         KERNEL, KERNEL)
    return full[:out_channels, :in_channels]


def csg_conv_math(x: torch.Tensor, codes: torch.Tensor, generator: torch.Tensor, bias: Optional[torch.Tensor],
                  out_channels: int, slice_shape: list[int], stride: list[int], padding: list[int],
                  dilation: list[int]) -> torch.Tensor:
    weight = csg_kernel(codes, generator, out_channels, x.shape[1], slice_shape)
    return F.conv2d(x, weight, bias, stride=stride, padding=padding, dilation=dilation)


csg_conv = torch.library.custom_op("sedge::csg_conv", csg_conv_math, mutates_args=())
csg_conv.register_fake(csg_conv_math)


class CSGGenerator(nn.Module):
    """The network-wide slice generator G (s0*s1*3*3 x K), shared by every CSGConv2d."""

    def __init__(self, s0, s1, code_length):
        super().__init__()
        self.s0, self.s1 = require_int_range("s0", s0, 1), require_int_range("s1", s1, 1)
        self.code_length = require_int_range("K", code_length, 1)
        self.weight = nn.Parameter(torch.randn(s0 * s1 * KERNEL * KERNEL, code_length) / math.sqrt(code_length))

    def extra_repr(self):
        return f"slice=[{self.s0},{self.s1},3,3], K={self.code_length}"


class CSGConv2d(nn.Module):
    """A 3x3 conv whose kernel is generated from its codes by the shared generator."""

    def __init__(self, in_channels, out_channels, generator: CSGGenerator, stride=1, padding=1, dilation=1,
                 bias=False):
        super().__init__()
        self.in_channels = require_int_range("in_channels", in_channels, 1)
        self.out_channels = require_int_range("out_channels", out_channels, 1)
        self.stride, self.padding, self.dilation = pair(stride), pair(padding), pair(dilation)
        # a plain attribute list keeps the shared generator out of this module's own parameters
        self._generator = [generator]
        rows = math.ceil(in_channels / generator.s1) * math.ceil(out_channels / generator.s0)
        fan_in = in_channels * KERNEL * KERNEL
        # codes scaled so the generated kernel has roughly He-uniform magnitude
        self.codes = nn.Parameter(torch.randn(rows, generator.code_length) * math.sqrt(2.0 / fan_in))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    @property
    def generator(self) -> CSGGenerator:
        return self._generator[0]

    @property
    def slice_shape(self) -> list[int]:
        return [self.generator.s0, self.generator.s1]

    def forward(self, x):
        op = csg_conv_math if self.training else csg_conv
        return op(x, self.codes, self.generator.weight, self.bias, self.out_channels, self.slice_shape,
                  self.stride, self.padding, self.dilation)

    def dense_weight(self) -> torch.Tensor:
        return csg_kernel(self.codes, self.generator.weight, self.out_channels, self.in_channels, self.slice_shape)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, slice={self.slice_shape}, stride={self.stride}"
