"""Band-limited FFT convolutions (Dziedzic et al. 2019), methods.md §4.

Input and filter are zero-padded to Hf x Wf (Hf = H + 2p + max(H_out, kh) - 1), transformed by
a one-sided real FFT, multiplied (input times conjugate filter: a cross-correlation), summed
over input channels, inverted, cropped, biased and subsampled for the stride. Band limiting
keeps rows 0..idx-1 and Hf-idx+1..Hf-1, columns 0..idx-1 of the one-sided spectrum.
"""
import math
from typing import Optional

import torch
from torch import nn

from sedge.errors import SedgeError
from sedge.frontend.layers.settings import pair, require_float_range, require_int_range


def fft_geometry(height: int, width: int, kernel: int, padding: int) -> tuple[int, int]:
    """(Hf, Wf): the padded FFT size for an input H x W, a k x k filter and padding p."""
    def size(n):
        out = n + 2 * padding - kernel + 1
        return n + 2 * padding + max(out, kernel) - 1
    return size(height), size(width)


def rate_index(wf: int, compress_rate: float) -> int:
    """idx = int((Wf/2+1) * sqrt((100 - r)/100)) for a compression rate r in percent."""
    return int((wf // 2 + 1) * math.sqrt((100.0 - compress_rate) / 100.0))


def band_mask(hf: int, wf: int, index: int, dtype=torch.float32, device=None) -> torch.Tensor:
    """0/1 mask over the one-sided spectrum (Hf x Wf/2+1); index < 0 keeps everything."""
    cols = wf // 2 + 1
    if index < 0:
        return torch.ones(hf, cols, dtype=dtype, device=device)
    r = torch.arange(hf, device=device)[:, None]
    k = torch.arange(cols, device=device)[None, :]
    return (((r < index) | (r >= hf - index + 1)) & (k < index)).to(dtype)


def energy_index(spectrum: torch.Tensor, percent: float) -> int:
    """Smallest idx whose band keeps >= percent of the energy of `spectrum` (..., Hf, Wf/2+1)."""
    hf, cols = spectrum.shape[-2:]
    energy = spectrum.abs().square().sum(dim=tuple(range(spectrum.dim() - 2)))
    total = float(energy.sum())
    for index in range(1, max(hf, cols) + 1):
        if float((energy * band_mask(hf, 2 * (cols - 1), index, energy.dtype)).sum()) >= percent / 100 * total:
            return index
    return -1


def fft_conv_math(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor], stride: int, padding: int,
                  index: int) -> torch.Tensor:
    kernel = weight.shape[-1]
    hp, wp = x.shape[-2] + 2 * padding, x.shape[-1] + 2 * padding
    hf, wf = fft_geometry(x.shape[-2], x.shape[-1], kernel, padding)
    xp = torch.nn.functional.pad(x, [padding] * 4)
    spectrum_x = torch.fft.rfft2(xp, s=(hf, wf))
    spectrum_w = torch.fft.rfft2(weight, s=(hf, wf))
    mask = band_mask(hf, wf, index, x.dtype, x.device)
    product = torch.einsum("bchw,ochw->bohw", spectrum_x * mask, (spectrum_w * mask).conj())
    out = torch.fft.irfft2(product, s=(hf, wf))[..., :hp - kernel + 1, :wp - kernel + 1]
    out = out[..., ::stride, ::stride]
    return out + bias[:, None, None] if bias is not None else out


fft_conv = torch.library.custom_op("sedge::fft_conv", fft_conv_math, mutates_args=())
fft_conv.register_fake(lambda x, weight, bias, stride, padding, index: torch.nn.functional.conv2d(
    x, weight, bias, stride=stride, padding=padding))


class BandLimitedConv2d(nn.Module):
    """A conv run by FFT, keeping the low-frequency band: `compress_rate` % discarded, or the
    smallest band holding `energy` % of the filters' spectral energy."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, compress_rate=None,
                 energy=None, bias=True):
        super().__init__()
        if (compress_rate is None) == (energy is None):
            raise SedgeError("BandLimitedConv2d takes exactly one of compress_rate (0 <= r < 100) "
                             "or energy (0 < e <= 100)")
        self.compress_rate = None if compress_rate is None else require_float_range(
            "compress_rate", compress_rate, 0, 100, high_open=True)
        self.energy = None if energy is None else require_float_range("energy", energy, 0, 100, low_open=True)
        self.in_channels = require_int_range("in_channels", in_channels, 1)
        self.out_channels = require_int_range("out_channels", out_channels, 1)
        self.kernel_size, self.stride, self.padding = pair(kernel_size)[0], pair(stride)[0], pair(padding)[0]
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, self.kernel_size, self.kernel_size))
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self._energy_bands = {}  # (H, W) -> idx, energy mode only

    def band_index(self, height: int, width: int) -> int:
        """The kept band's idx for an input of H x W (a static, shape-only decision in rate mode)."""
        hf, wf = fft_geometry(height, width, self.kernel_size, self.padding)
        if self.compress_rate is not None:
            return rate_index(wf, self.compress_rate) if self.compress_rate > 0 else -1
        # energy mode reads the weights, so the band is fixed by the first eager call per input size
        # and reused when exporting (the exporter traces with weights that have no values)
        key = (height, width)
        if key not in self._energy_bands:
            if torch.compiler.is_exporting():
                raise SedgeError(f"BandLimitedConv2d in energy mode needs one eager forward on a {height}x{width} "
                                 f"input (or band_index({height}, {width})) before export, to fix its band")
            self._energy_bands[key] = energy_index(torch.fft.rfft2(self.weight.detach(), s=(hf, wf)), self.energy)
        return self._energy_bands[key]

    def forward(self, x):
        op = fft_conv_math if self.training else fft_conv
        return op(x, self.weight, self.bias, self.stride, self.padding, self.band_index(x.shape[-2], x.shape[-1]))

    def extra_repr(self):
        mode = f"compress_rate={self.compress_rate}" if self.compress_rate is not None else f"energy={self.energy}"
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, {mode}")
