"""Structured linear substitutes for pointwise convs (Gray et al.), methods.md §5.

Each `*Pointwise` replaces a 1x1 conv C -> O; `separable(...)` puts a depthwise k x k conv in
front of one, the way the zoo's `<wrn>-<method>-<s>` models replace 3x3 convs. All use standard
ops: RF and ShuffleNet are conv sequences; TT, Tucker and HashedNet rebuild their O x C matrix
(a chain of small matmuls or a gather) and run one 1x1 conv, which is the generic path.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from sedge.frontend.layers.settings import pair, require_float_range, require_int_range


class Pointwise(nn.Module):
    """Base: a C -> O 1x1 conv whose O x C matrix is `matrix()`."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.in_channels = require_int_range("in_channels", in_channels, 1)
        self.out_channels = require_int_range("out_channels", out_channels, 1)

    def forward(self, x):
        return F.conv2d(x, self.matrix()[:, :, None, None])


class RankFactorised(Pointwise):
    """1x1 conv C -> r then r -> O, r = int(s * max(C, O))."""

    def __init__(self, in_channels, out_channels, s):
        super().__init__(in_channels, out_channels)
        self.s = require_float_range("s", s, 0, 1, low_open=True)
        self.rank = max(1, int(s * max(in_channels, out_channels)))
        self.reduce = nn.Conv2d(in_channels, self.rank, 1, bias=False)
        self.expand = nn.Conv2d(self.rank, out_channels, 1, bias=False)

    def forward(self, x):
        return self.expand(self.reduce(x))

    def matrix(self):
        return self.expand.weight[:, :, 0, 0] @ self.reduce.weight[:, :, 0, 0]


def near_equal_factors(total: int, ways: int = 3) -> list[int]:
    """`ways` factors of `total`, as equal as possible (largest first), e.g. 64*64 -> [16, 16, 16]."""
    if ways == 1:
        return [total]
    target = round(total ** (1 / ways))
    divisors = [d for d in range(1, total + 1) if total % d == 0]
    best = min(divisors, key=lambda d: (abs(math.log(d) - math.log(max(target, 1))), -d))
    return sorted([best] + near_equal_factors(total // best, ways - 1), reverse=True)


class TensorTrain(Pointwise):
    """The O x C matrix as a 3-way tensor d1 x d2 x d3 in tensor-train form with ranks r1, r2."""

    def __init__(self, in_channels, out_channels, s):
        super().__init__(in_channels, out_channels)
        self.s = require_float_range("s", s, 0, 1, low_open=True)
        self.dims = near_equal_factors(in_channels * out_channels)
        d1, d2, d3 = self.dims
        self.ranks = [max(1, round(s * min(d1, d2))), max(1, round(s * min(d2, d3)))]
        r1, r2 = self.ranks
        self.core1 = nn.Parameter(torch.randn(1, d1, r1) / math.sqrt(d1))
        self.core2 = nn.Parameter(torch.randn(r1, d2, r2) / math.sqrt(r1))
        self.core3 = nn.Parameter(torch.randn(r2, d3, 1) / math.sqrt(r2 * in_channels))

    def matrix(self):
        d1, d2, d3 = self.dims
        left = self.core1.reshape(d1, -1) @ self.core2.reshape(self.ranks[0], -1)  # d1 x (d2 r2)
        full = left.reshape(d1 * d2, self.ranks[1]) @ self.core3.reshape(self.ranks[1], d3)
        return full.reshape(self.out_channels, self.in_channels)


class Tucker(Pointwise):
    """O x C = U_1 core U_2^T with U_n (d_n x S_n), S_n = round(s * d_n)."""

    def __init__(self, in_channels, out_channels, s):
        super().__init__(in_channels, out_channels)
        self.s = require_float_range("s", s, 0, 1, low_open=True)
        self.ranks = [max(1, round(s * out_channels)), max(1, round(s * in_channels))]
        self.out_factor = nn.Parameter(torch.randn(out_channels, self.ranks[0]) / math.sqrt(self.ranks[0]))
        self.core = nn.Parameter(torch.randn(*self.ranks) / math.sqrt(self.ranks[1]))
        self.in_factor = nn.Parameter(torch.randn(in_channels, self.ranks[1]) / math.sqrt(in_channels))

    def matrix(self):
        return self.out_factor @ self.core @ self.in_factor.T


class Hashed(Pointwise):
    """W[i, j] = w[h(i, j)]: a fixed random index map (a buffer, no hashing at run time)."""

    def __init__(self, in_channels, out_channels, ratio, seed=None):
        super().__init__(in_channels, out_channels)
        self.ratio = require_float_range("ratio", ratio, 0, 1, low_open=True)
        virtual = in_channels * out_channels
        real = max(1, round(ratio * virtual))
        # drawn from torch's global generator unless given, so a seeded model gets distinct maps per layer
        seed = int(torch.randint(2 ** 31, ())) if seed is None else seed
        generator = torch.Generator().manual_seed(seed)
        self.register_buffer("index", torch.randint(real, (out_channels, in_channels), generator=generator))
        self.weight = nn.Parameter(torch.randn(real) / math.sqrt(in_channels))

    def matrix(self):
        return self.weight[self.index]


def shuffle_groups(in_channels: int, out_channels: int, groups: int) -> int:
    """Decrease g until it divides C, O and O/4 (methods.md §5)."""
    g = require_int_range("g", groups, 1)
    while in_channels % g or out_channels % g or (out_channels // 4) % g:
        g -= 1
    return g


class ShuffleBlock(nn.Module):
    """Linear ShuffleNet unit replacing a k x k conv: grouped 1x1 C -> O/4, channel shuffle,
    depthwise k x k (carries the stride), grouped 1x1 O/4 -> O."""

    def __init__(self, in_channels, out_channels, groups, kernel_size=3, stride=1, padding=1):
        super().__init__()
        mid = out_channels // 4
        require_int_range("out_channels", out_channels, 4, why="the bottleneck has O/4 channels")
        self.groups = shuffle_groups(in_channels, out_channels, groups)
        self.reduce = nn.Conv2d(in_channels, mid, 1, groups=self.groups, bias=False)
        self.depthwise = nn.Conv2d(mid, mid, pair(kernel_size), pair(stride), pair(padding), groups=mid, bias=False)
        self.expand = nn.Conv2d(mid, out_channels, 1, groups=self.groups, bias=False)

    def forward(self, x):
        y = self.reduce(x)
        b, c, h, w = y.shape
        # out[i*g + j] = y[j*(C'/g) + i]
        y = y.reshape(b, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(b, c, h, w)
        return self.expand(self.depthwise(y))


POINTWISE = {"rf": RankFactorised, "tt": TensorTrain, "tucker": Tucker, "hashed": Hashed}


def separable(pointwise: nn.Module, kernel_size=3, stride=1, padding=1) -> nn.Sequential:
    """Depthwise k x k conv (C channels, carrying the stride) followed by `pointwise`."""
    C = pointwise.in_channels
    depthwise = nn.Conv2d(C, C, pair(kernel_size), pair(stride), pair(padding), groups=C, bias=False)
    return nn.Sequential(depthwise, pointwise)


def compressed_weight_decay(decay: float, params_after: int, params_before: int) -> float:
    """Weight decay scaled by the compression ratio: decay * M / N (methods.md §5)."""
    require_int_range("params_before", params_before, 1)
    return decay * params_after / params_before
