"""Structured convolutions (Bhalgat et al. 2020): a sum-pool followed by a small conv.

A structured kernel W (C x N x N per output, per group) is A alpha with A the binary basis
matrix of methods.md §1; the layer stores only alpha (O x c x n x n) and computes
conv(SumPool3D(X), alpha). The 3-D sum-pool (channel window C-c+1, spatial window N-n+1,
stride 1, the conv's padding and dilation) is written as a grouped conv with a 0/1 weight so
that one op covers grouped and depthwise layers; it is additions only, which sedge's kernels
exploit (the "add-only schedule").
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from sedge.frontend.layers.settings import pair, require_int_range


def sum_pool_weight(in_channels: int, out_channels: int, window: int, groups: int, dtype=torch.float32,
                    device=None) -> torch.Tensor:
    """0/1 weight (groups*c, C/groups, k, k) of the sum-pool: output (g, ci) sums channels ci..ci+C/g-c."""
    group_in, c = in_channels // groups, out_channels // groups
    ci = torch.arange(c, device=device)[:, None]
    cc = torch.arange(group_in, device=device)[None, :]
    band = ((cc >= ci) & (cc < ci + group_in - c + 1)).to(dtype)
    return band.repeat(groups, 1)[:, :, None, None].expand(-1, -1, window, window)


def sum_pool(x, c: int, window: int, padding: list[int], dilation: list[int], groups: int):
    """SumPool3D of methods.md §1 (stride 1): (B, C, H, W) -> (B, groups*c, H', W')."""
    weight = sum_pool_weight(x.shape[1], groups * c, window, groups, x.dtype, x.device)
    return F.conv2d(x, weight, padding=padding, dilation=dilation, groups=groups)


def structured_conv_math(x: torch.Tensor, alpha: torch.Tensor, bias: Optional[torch.Tensor], kernel_size: int,
                         stride: list[int], padding: list[int], dilation: list[int], groups: int) -> torch.Tensor:
    """conv(X, A alpha) computed as conv(SumPool3D(X), alpha); alpha is (O, c, n, n)."""
    c, n = alpha.shape[1], alpha.shape[2]
    pooled = sum_pool(x, c, kernel_size - n + 1, padding, dilation, groups)
    return F.conv2d(pooled, alpha, bias, stride=stride, dilation=dilation, groups=groups)


# One opaque op per layer in eval mode, so torch.export / ONNX export keep the layer whole; the
# math is shape-generic, so it is also the op's shape function. Training calls the math directly.
structured_conv = torch.library.custom_op("sedge::structured_conv", structured_conv_math, mutates_args=())
structured_conv.register_fake(structured_conv_math)


def basis_matrix(C: int, N: int, c: int, n: int) -> torch.Tensor:
    """A in {0,1}^{(C N^2) x (c n^2)}: column (ci, i, j) is the ones block of methods.md §1."""
    kc, k = C - c + 1, N - n + 1
    rows = torch.zeros(C, N, N, c, n, n)
    for ci in range(c):
        for i in range(n):
            for j in range(n):
                rows[ci:ci + kc, i:i + k, j:j + k, ci, i, j] = 1.0
    return rows.reshape(C * N * N, c * n * n)


def structural_residual(weight: torch.Tensor, c: int, n: int) -> torch.Tensor:
    """||(I - A A^+) W||_F / ||W||_F for a conv weight (O, C, N, N): the regularizer's term."""
    O, C, N, _ = weight.shape
    A = basis_matrix(C, N, c, n).to(weight)
    flat = weight.reshape(O, -1).T
    residual = flat - A @ (torch.linalg.pinv(A) @ flat)
    return residual.norm() / flat.norm().clamp_min(torch.finfo(weight.dtype).tiny)


class StructuredConv2d(nn.Module):
    """A conv whose kernels are structured with underlying (c, n); stores alpha (O, c, n, n)."""

    def __init__(self, in_channels, out_channels, kernel_size, c, n, stride=1, padding=0, dilation=1, groups=1,
                 bias=True):
        super().__init__()
        require_int_range("groups", groups, 1, in_channels)
        if in_channels % groups or out_channels % groups:
            require_int_range("groups", groups, 1, 1, why=f"must divide C = {in_channels} and O = {out_channels}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size)[0]
        self.c = require_int_range("c", c, 1, in_channels // groups, why="C per group")
        self.n = require_int_range("n", n, 1, self.kernel_size, why="kernel size N")
        self.stride, self.padding, self.dilation = pair(stride), pair(padding), pair(dilation)
        self.alpha = nn.Parameter(torch.empty(out_channels, self.c, self.n, self.n))
        nn.init.kaiming_uniform_(self.alpha, a=5 ** 0.5)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x):
        op = structured_conv_math if self.training else structured_conv
        return op(x, self.alpha, self.bias, self.kernel_size, self.stride, self.padding, self.dilation, self.groups)

    def dense_weight(self) -> torch.Tensor:
        """The materialised kernel W = A alpha, (O, C/groups, N, N)."""
        C, N = self.in_channels // self.groups, self.kernel_size
        A = basis_matrix(C, N, self.c, self.n).to(self.alpha)
        return (A @ self.alpha.reshape(self.out_channels, -1).T).T.reshape(self.out_channels, C, N, N)

    def structural_loss(self) -> torch.Tensor:
        return structural_residual(self.dense_weight(), self.c, self.n)

    @classmethod
    def from_dense(cls, conv: nn.Conv2d, c: int, n: int):
        """(layer, relative projection error): alpha = pinv(A) W, the least-squares structured fit."""
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size, c, n, conv.stride, conv.padding,
                    conv.dilation, conv.groups, conv.bias is not None)
        weight = conv.weight.detach()
        O, C, N, _ = weight.shape
        A = basis_matrix(C, N, layer.c, layer.n).to(weight)
        with torch.no_grad():
            layer.alpha.copy_((torch.linalg.pinv(A) @ weight.reshape(O, -1).T).T.reshape(layer.alpha.shape))
            if conv.bias is not None:
                layer.bias.copy_(conv.bias)
            error = (layer.dense_weight() - weight).norm() / weight.norm().clamp_min(1e-30)
        return layer, float(error)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, c={self.c}, n={self.n}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, groups={self.groups}")


class StructuredLinear(nn.Module):
    """A linear layer with structured rows (N = n = 1): channel sliding sum, then dense c -> O."""

    def __init__(self, in_features, out_features, c, bias=True):
        super().__init__()
        self.conv = StructuredConv2d(in_features, out_features, 1, c, 1, bias=bias)

    def forward(self, x):
        return self.conv(x[:, :, None, None]).flatten(1)

    def dense_weight(self) -> torch.Tensor:
        return self.conv.dense_weight().flatten(1)

    @classmethod
    def from_dense(cls, linear: nn.Linear, c: int):
        conv = nn.Conv2d(linear.in_features, linear.out_features, 1, bias=linear.bias is not None)
        with torch.no_grad():
            conv.weight.copy_(linear.weight[:, :, None, None])
            if linear.bias is not None:
                conv.bias.copy_(linear.bias)
        layer = cls(linear.in_features, linear.out_features, c, linear.bias is not None)
        layer.conv, error = StructuredConv2d.from_dense(conv, c, 1)
        return layer, error
