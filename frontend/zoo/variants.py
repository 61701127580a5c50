"""The compressed variants' layer factories (configs.md): which convs each method replaces.

A factory is called with the arguments of `factories.dense_conv` and returns the layer; the
CSG factory also owns the network's shared generator, which the zoo registers on the model.
"""
from sedge.frontend.layers.acdc import ACDC, SECLConv2d
from sedge.frontend.layers.csg import CSGConv2d, CSGGenerator
from sedge.frontend.layers.fft import BandLimitedConv2d
from sedge.frontend.layers.structured import StructuredConv2d, StructuredLinear
from sedge.frontend.layers.substitutes import POINTWISE, ShuffleBlock, separable
from sedge.frontend.zoo.factories import dense_conv, dense_linear


def is_full_3x3(kernel, groups):
    return kernel == 3 and groups == 1


def struct_a_conv(in_channels, out_channels, kernel, stride=1, padding=0, groups=1, bias=False):
    """Struct-ResNet-A: every 3x3 conv c = C, n = 2."""
    if not is_full_3x3(kernel, groups):
        return dense_conv(in_channels, out_channels, kernel, stride, padding, groups, bias)
    return StructuredConv2d(in_channels, out_channels, 3, in_channels, 2, stride, padding, groups=groups, bias=bias)


class TableStructured:
    """Struct-MV2-A/B: (c, n) per conv in execution order (layer 1, the stem, is built dense)."""

    def __init__(self, table: dict, classifier_c: int):
        self.table, self.classifier_c, self.index = table, classifier_c, 1

    def conv(self, in_channels, out_channels, kernel, stride=1, padding=0, groups=1, bias=False):
        self.index += 1
        c, n = self.table.get(self.index, (in_channels // groups, kernel))
        if (c, n) == (in_channels // groups, kernel):
            return dense_conv(in_channels, out_channels, kernel, stride, padding, groups, bias)
        return StructuredConv2d(in_channels, out_channels, kernel, c, n, stride, padding, groups=groups, bias=bias)

    def linear(self, in_features, out_features):
        return StructuredLinear(in_features, out_features, self.classifier_c)


class CSG:
    """Every full 3x3 conv generated from one shared [s0, s1, 3, 3]-K generator."""

    def __init__(self, s0, s1, code_length):
        self.generator = CSGGenerator(s0, s1, code_length)

    def conv(self, in_channels, out_channels, kernel, stride=1, padding=0, groups=1, bias=False):
        if not is_full_3x3(kernel, groups):
            return dense_conv(in_channels, out_channels, kernel, stride, padding, groups, bias)
        return CSGConv2d(in_channels, out_channels, self.generator, stride, padding, bias=bias)


def substitute(method: str, setting):
    """Depthwise 3x3 + substitute pointwise (rf/tt/tucker/hashed), SECL (acdc) or a ShuffleNet unit."""

    def conv(in_channels, out_channels, kernel, stride=1, padding=0, groups=1, bias=False):
        if not is_full_3x3(kernel, groups):
            return dense_conv(in_channels, out_channels, kernel, stride, padding, groups, bias)
        if method == "acdc":
            return SECLConv2d(in_channels, out_channels, 3, stride, padding)
        if method == "shuffle":
            return ShuffleBlock(in_channels, out_channels, setting, 3, stride, padding)
        return separable(POINTWISE[method](in_channels, out_channels, setting), 3, stride, padding)

    return conv


def acdc_linear(in_features, out_features):
    """ACDC on fully connected layers (Moczulski et al. 2016): a square layer becomes a
    12-factor ACDC stack with biases; the classifier (in != out) stays dense."""
    if in_features != out_features:
        return dense_linear(in_features, out_features)
    return ACDC(in_features, bias=True)


def band_limited(compress_rate: float):
    def conv(in_channels, out_channels, kernel, stride=1, padding=0, groups=1, bias=False):
        if not is_full_3x3(kernel, groups):
            return dense_conv(in_channels, out_channels, kernel, stride, padding, groups, bias)
        return BandLimitedConv2d(in_channels, out_channels, 3, stride, padding, compress_rate=compress_rate,
                                 bias=bias)

    return conv


# configs.md, Struct-MV2-A and -B: layer index -> (c, n); unlisted layers keep c = C, n = N
MV2_STRUCT = {
    "a": ({51: (840, 1), 52: (160, 1)}, 640),
    "b": ({6: (48, 1), 7: (12, 1), 9: (72, 1), 10: (12, 1), 12: (72, 1), 13: (16, 1), 15: (96, 1), 16: (16, 1),
           17: (1, 2), 18: (96, 1), 19: (16, 1), 20: (1, 2), 21: (96, 1), 22: (32, 1), 23: (1, 2), 24: (192, 1),
           25: (32, 1), 26: (1, 2), 27: (192, 1), 28: (32, 1), 29: (1, 2), 30: (192, 1), 31: (32, 1), 32: (1, 2),
           33: (192, 1), 34: (48, 1), 35: (1, 2), 36: (288, 1), 37: (48, 1), 38: (1, 2), 39: (288, 1),
           40: (48, 1), 41: (1, 2), 42: (288, 1), 43: (80, 1), 44: (1, 2), 45: (480, 1), 46: (80, 1),
           47: (1, 2), 48: (480, 1), 49: (80, 1), 51: (480, 1), 52: (160, 1)}, 560),
}


def mv2_structured(letter: str) -> TableStructured:
    table, classifier_c = MV2_STRUCT[letter]
    return TableStructured(table, classifier_c)

