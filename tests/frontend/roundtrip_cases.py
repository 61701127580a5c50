"""Small compressed models on odd shapes, shared by the export / import round-trip tests."""
import torch

from sedge.frontend.layers.acdc import SECLConv2d
from sedge.frontend.layers.csg import CSGConv2d, CSGGenerator
from sedge.frontend.layers.fft import BandLimitedConv2d
from sedge.frontend.layers.structured import StructuredConv2d, StructuredLinear
from sedge.frontend.layers.substitutes import Hashed, RankFactorised, ShuffleBlock, TensorTrain, Tucker, separable


class TwoCSGLayers(torch.nn.Module):
    """Two CSG convs reading one generator, as in a CSG network."""

    def __init__(self):
        super().__init__()
        self.generator = CSGGenerator(4, 3, 5)
        self.first = CSGConv2d(7, 10, self.generator, stride=2, bias=True)
        self.second = CSGConv2d(10, 6, self.generator, padding=2, dilation=2)

    def forward(self, x):
        return self.second(torch.relu(self.first(x)))


# name -> (module factory, input shape, number of compressed layers, the construct's sedge.op); the
# pointwise substitutes are standard ops (no construct)
CASES = {
    "structured": (lambda: StructuredConv2d(6, 5, 3, 4, 2, stride=2, padding=1, dilation=2), (1, 6, 11, 9), 1,
                   "StructuredConv"),
    "structured_depthwise": (lambda: StructuredConv2d(6, 6, 3, 1, 2, padding=1, groups=6, bias=False),
                             (1, 6, 7, 7), 1, "StructuredConv"),
    "structured_grouped_5x5": (lambda: StructuredConv2d(8, 4, 5, 2, 3, stride=3, padding=2, groups=2),
                               (2, 8, 10, 9), 1, "StructuredConv"),
    "structured_linear": (lambda: StructuredLinear(10, 7, 4), (2, 10), 1, "StructuredConv"),
    "secl_widening": (lambda: SECLConv2d(6, 10, 3, 2, 1, factors=3, bias=True), (2, 6, 7, 9), 1, "ACDC"),
    "secl_narrowing": (lambda: SECLConv2d(8, 4, 3, 1, 2, 2, factors=2), (1, 8, 6, 5), 1, "ACDC"),
    "csg": (TwoCSGLayers, (1, 7, 9, 8), 2, "CSGConv"),
    "fft_band_limited": (lambda: BandLimitedConv2d(3, 4, 3, 2, 1, compress_rate=50), (1, 3, 9, 8), 1, "FFTConv"),
    "fft_full_band": (lambda: BandLimitedConv2d(3, 4, 5, 1, 0, compress_rate=0, bias=False), (2, 3, 8, 7), 1,
                      "FFTConv"),
    "rf": (lambda: separable(RankFactorised(6, 10, 0.5), stride=2), (1, 6, 9, 7), 0, None),
    "tt": (lambda: separable(TensorTrain(6, 10, 0.5)), (1, 6, 5, 7), 0, None),
    "tucker": (lambda: separable(Tucker(6, 10, 0.5), padding=2), (1, 6, 5, 7), 0, None),
    "hashed": (lambda: separable(Hashed(6, 10, 0.3)), (1, 6, 5, 7), 0, None),
    "shuffle": (lambda: ShuffleBlock(12, 24, 3, stride=2), (1, 12, 9, 7), 0, None),
}


def build_case(name):
    factory, shape, layers, op = CASES[name]
    torch.manual_seed(0)
    return factory().eval(), torch.randn(shape), layers, op
