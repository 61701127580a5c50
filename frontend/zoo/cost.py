"""Parameters, multiplies and additions of a PyTorch model, per layer (configs.md's convention).

MACs are the multiplies of conv / linear-like layers at the given input (batch 1); `adds`
are additions that are not part of a MAC: a structured layer's sum-pool (direct count: each
output sums its window, volume - 1 adds) and nothing else, so sum-pooling shows up as adds
only. Compressed layers are costed by their deployed form: an ACDC factor as 4N + 5N log2 N
mult-adds (fast DCT, methods.md §2), a band-limited conv by its complex spectral product over
the kept coefficients (4 real MACs each; the FFTs themselves are not counted), a CSG conv as
the conv it generates, TT / Tucker / hashed pointwise convs as the rebuilt dense matrix.
The model runs on the `meta` device: shapes only, no arithmetic.
"""
import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from sedge.frontend.layers.acdc import ACDC
from sedge.frontend.layers.csg import CSGConv2d
from sedge.frontend.layers.fft import BandLimitedConv2d, band_mask, fft_geometry
from sedge.frontend.layers.structured import StructuredConv2d
from sedge.frontend.layers.substitutes import Hashed, TensorTrain, Tucker


@dataclass
class LayerCost:
    name: str
    kind: str
    output_shape: list
    params: int
    macs: int
    adds: int


def _spatial(output) -> int:
    return output.shape[-1] * output.shape[-2]


def _conv(m, x, y):
    return m.out_channels * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1] * _spatial(y), 0


def _structured(m, x, y):
    window = m.kernel_size - m.n + 1
    pooled_h = x.shape[-2] + 2 * m.padding[0] - m.dilation[0] * (window - 1)
    pooled_w = x.shape[-1] + 2 * m.padding[1] - m.dilation[1] * (window - 1)
    volume = (m.in_channels // m.groups - m.c + 1) * window * window
    adds = m.groups * m.c * pooled_h * pooled_w * (volume - 1)
    return m.out_channels * m.c * m.n * m.n * _spatial(y), adds


def _acdc(m, x, y):
    vectors = x.numel() // x.shape[-1]
    return vectors * m.factors * (4 * m.N + 5 * m.N * round(math.log2(m.N))), 0


def _csg(m, x, y):
    return m.out_channels * m.in_channels * 9 * _spatial(y), 0


def _band_limited(m, x, y):
    hf, wf = fft_geometry(x.shape[-2], x.shape[-1], m.kernel_size, m.padding)
    kept = int(band_mask(hf, wf, m.band_index(x.shape[-2], x.shape[-1])).sum())
    return 4 * m.out_channels * m.in_channels * kept, 0


def _rebuilt_pointwise(m, x, y):
    return m.out_channels * m.in_channels * _spatial(y), 0


COSTS = {nn.Conv2d: _conv, nn.Linear: lambda m, x, y: (m.in_features * m.out_features, 0),
         StructuredConv2d: _structured, ACDC: _acdc, CSGConv2d: _csg, BandLimitedConv2d: _band_limited,
         TensorTrain: _rebuilt_pointwise, Tucker: _rebuilt_pointwise, Hashed: _rebuilt_pointwise}


def layer_costs(model: nn.Module, input_shape) -> list[LayerCost]:
    """One LayerCost per costed layer, in execution order."""
    model = copy.deepcopy(model).to("meta")
    records, hooks = [], []
    for name, module in model.named_modules():
        cost = COSTS.get(type(module))
        if cost is None:
            continue

        def hook(module, inputs, output, name=name, cost=cost):
            macs, adds = cost(module, inputs[0], output)
            params = sum(p.numel() for p in module.parameters(recurse=False))
            records.append(LayerCost(name, type(module).__name__, list(output.shape), params, macs, adds))

        hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        model(torch.zeros(input_shape, device="meta"))
    for handle in hooks:
        handle.remove()
    return records


def parameter_count(model: nn.Module) -> int:
    """Conv / linear weights and biases + BatchNorm affine; shared tensors once; buffers never."""
    return sum(p.numel() for p in model.parameters())
