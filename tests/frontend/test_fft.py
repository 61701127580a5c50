import pytest
import torch
import torch.nn.functional as F

from sedge.errors import SedgeError
from sedge.frontend.layers.fft import BandLimitedConv2d, band_mask, fft_geometry, rate_index


def test_geometry_of_the_methods_example():
    hf, wf = fft_geometry(32, 32, 5, 0)
    assert (hf, wf // 2 + 1) == (59, 30)
    assert 3 * hf * (wf // 2 + 1) == 5310


@pytest.mark.parametrize("C,O,k,stride,padding,size", [(3, 4, 3, 1, 1, (9, 8)), (5, 2, 3, 2, 0, (10, 11)),
                                                       (2, 6, 5, 3, 2, (7, 7))])
def test_full_band_equals_direct_conv(C, O, k, stride, padding, size):
    layer = BandLimitedConv2d(C, O, k, stride, padding, compress_rate=0).eval()
    x = torch.randn(2, C, *size)
    dense = F.conv2d(x, layer.weight, layer.bias, stride, padding)
    assert float((layer(x) - dense).detach().norm() / dense.detach().norm()) < 1e-5


def test_band_limited_equals_masked_spectral_product():
    layer = BandLimitedConv2d(2, 3, 3, padding=1, compress_rate=50).eval()
    x = torch.randn(1, 2, 8, 8)
    hf, wf = fft_geometry(8, 8, 3, 1)
    index = rate_index(wf, 50)
    assert index == int((wf // 2 + 1) * 0.5 ** 0.5)
    mask = band_mask(hf, wf, index)
    spec = torch.fft.rfft2(F.pad(x, [1] * 4), s=(hf, wf))[:, None] * torch.fft.rfft2(layer.weight, s=(hf, wf)).conj()
    expected = torch.fft.irfft2((spec * mask).sum(2), s=(hf, wf))[..., :8, :8] + layer.bias[:, None, None]
    assert float((layer(x) - expected).detach().norm() / expected.detach().norm()) < 1e-5


def test_mask_keeps_low_rows_mirrored_rows_and_low_columns():
    mask = band_mask(7, 7, 2)
    assert mask.sum() == 3 * 2 and mask[0, 0] == 1 and mask[6, 1] == 1 and mask[5, 0] == 0 and mask[0, 2] == 0


def test_energy_mode_keeps_at_least_the_asked_energy():
    layer = BandLimitedConv2d(2, 2, 3, padding=1, energy=90).eval()
    hf, wf = fft_geometry(8, 8, 3, 1)
    index = layer.band_index(8, 8)
    energy = torch.fft.rfft2(layer.weight.detach(), s=(hf, wf)).abs().square().sum((0, 1))
    def kept(i):
        return float((energy * band_mask(hf, wf, i)).sum())

    assert kept(index) >= 0.9 * float(energy.sum()) > kept(index - 1)


@pytest.mark.parametrize("kwargs", [dict(compress_rate=100), dict(compress_rate=-1), dict(energy=0), dict()])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(SedgeError):
        BandLimitedConv2d(2, 2, 3, **kwargs)


def test_energy_mode_exports_after_fixing_its_band():
    layer = BandLimitedConv2d(2, 2, 3, padding=1, energy=90).eval()
    x = torch.randn(1, 2, 8, 8)
    with pytest.raises(SedgeError, match="eager forward"):
        torch.export.export(layer, (x,))
    index = layer.band_index(8, 8)
    program = torch.export.export(layer, (x,))
    assert [n.args[-1] for n in program.graph.nodes if "fft_conv" in str(n.target)] == [index]
