"""ACDC structured efficient linear layers and SECL convolutions (methods.md §2).

One factor on the last dimension (length N, even): y = riffle(IDCT(D * DCT(A * x)) + b), DCT the
orthonormal DCT-II; a stack applies factor 1 first. The eval forward multiplies by the DCT
matrix (exact, standard ops); sedge's compiler may instead run a fast DCT or multiply the
whole stack out into one dense matrix, per layer.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from sedge.errors import SedgeError
from sedge.frontend.layers.settings import pair, require_int_range

SECL_FACTORS = 12


def dct_matrix(N: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """Orthonormal DCT-II matrix M (N x N): DCT(v) = M v, IDCT(v) = M^T v (scipy norm='ortho')."""
    k = torch.arange(N, dtype=torch.float64, device=device)[:, None]
    i = torch.arange(N, dtype=torch.float64, device=device)[None, :]
    M = torch.cos(math.pi * (2 * i + 1) * k / (2 * N)) * math.sqrt(2.0 / N)
    M[0] /= math.sqrt(2.0)
    return M.to(dtype)


def riffle(h: torch.Tensor) -> torch.Tensor:
    """Perfect interleave of the two halves of the last dim: out[2i] = h[i], out[2i+1] = h[N/2+i]."""
    N = h.shape[-1]
    return h.reshape(*h.shape[:-1], 2, N // 2).transpose(-1, -2).reshape(h.shape)


def acdc_math(x: torch.Tensor, a: torch.Tensor, d: torch.Tensor, bias: Optional[torch.Tensor]) -> torch.Tensor:
    """Apply the L factors (a, d, bias: L x N) to the last dim of x."""
    M = dct_matrix(x.shape[-1], x.dtype, x.device)
    for layer in range(a.shape[0]):
        h = ((x * a[layer]) @ M.T * d[layer]) @ M
        x = riffle(h + bias[layer] if bias is not None else h)
    return x


acdc = torch.library.custom_op("sedge::acdc", acdc_math, mutates_args=())
acdc.register_fake(acdc_math)


class ACDC(nn.Module):
    """A stack of `factors` ACDC factors on vectors of length N (the last dim of the input)."""

    def __init__(self, N, factors=SECL_FACTORS, bias=False):
        super().__init__()
        require_int_range("N", N, 2)
        if N % 2:
            raise SedgeError(f"bad setting N = {N} for ACDC; allowed: an even N >= 2 (the riffle splits halves)")
        self.N, self.factors = N, require_int_range("factors", factors, 1)
        # the reference code's initialisation: A, D ~ N(1, 0.01^2)
        self.a = nn.Parameter(1 + 0.01 * torch.randn(factors, N))
        self.d = nn.Parameter(1 + 0.01 * torch.randn(factors, N))
        self.bias = nn.Parameter(torch.zeros(factors, N)) if bias else None

    def forward(self, x):
        op = acdc_math if self.training else acdc
        return op(x, self.a, self.d, self.bias)

    def dense(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(W, b) with ACDC(x) == x @ W + b (row-vector form), the multiplied-out stack."""
        W = acdc_math(torch.eye(self.N, dtype=self.a.dtype), self.a, self.d, None)
        b = acdc_math(torch.zeros(1, self.N, dtype=self.a.dtype), self.a, self.d, self.bias)[0]
        return W, b

    def extra_repr(self):
        return f"N={self.N}, factors={self.factors}, bias={self.bias is not None}"


def pointwise_plan(C: int, O: int) -> tuple[int, int]:
    """(channels to append from the front, ACDC length N) for a C -> O pointwise ACDC."""
    if O <= C:
        if C % O:
            raise SedgeError(f"SECL cannot map C = {C} to O = {O}; allowed: O >= C, or O dividing C "
                             f"(groups of C/O channels are summed)")
        return 0, C
    extra = next(k for k in range(O - C + 1) if O % (C + k) == 0)
    return extra, O


class SECLConv2d(nn.Module):
    """Depthwise k x k conv followed by an ACDC pointwise conv (methods.md §2, SECL)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=0, dilation=1,
                 factors=SECL_FACTORS, bias=False):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.extra, N = pointwise_plan(in_channels, out_channels)
        self.depthwise = nn.Conv2d(in_channels, in_channels, pair(kernel_size), pair(stride), pair(padding),
                                   pair(dilation), groups=in_channels, bias=False)
        self.pointwise = ACDC(N, factors, bias)

    def expand(self, x):
        """C -> N channels on the last dim: append the first channels, then tile up to O."""
        if self.out_channels <= self.in_channels:
            return x
        x = torch.cat([x, x[..., :self.extra]], -1) if self.extra else x
        return x.repeat(*([1] * (x.dim() - 1)), self.out_channels // x.shape[-1])

    def reduce(self, y):
        """N -> O channels: sum groups of N/O consecutive channels."""
        if self.out_channels >= y.shape[-1]:
            return y
        return y.reshape(*y.shape[:-1], self.out_channels, -1).sum(-1)

    def forward(self, x):
        y = self.depthwise(x).permute(0, 2, 3, 1)
        return self.reduce(self.pointwise(self.expand(y))).permute(0, 3, 1, 2)

    def dense_pointwise(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(W (O x C), b) of the pointwise part, materialised, for checking against a 1x1 conv."""
        eye = torch.eye(self.in_channels, dtype=self.pointwise.a.dtype)
        W = self.reduce(acdc_math(self.expand(eye), self.pointwise.a, self.pointwise.d, None))
        zero = torch.zeros(1, self.in_channels, dtype=self.pointwise.a.dtype)
        b = self.reduce(acdc_math(self.expand(zero), self.pointwise.a, self.pointwise.d, self.pointwise.bias))[0]
        return W.T, b


def secl_reference(layer: SECLConv2d, x: torch.Tensor) -> torch.Tensor:
    """The SECL layer as depthwise conv + materialised 1x1 conv (the dense equivalent)."""
    W, b = layer.dense_pointwise()
    return F.conv2d(layer.depthwise(x), W[:, :, None, None], b)
