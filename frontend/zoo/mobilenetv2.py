"""MobileNetV2 (Sandler et al. 2018), width 1.0, in torchvision's layout. Convs are requested in
execution order, so a variant can number them (configs.md: layer 1 is the stem, 52 the last 1x1)."""
from torch import nn

from sedge.frontend.zoo.factories import dense_conv, dense_linear

# expansion t, output channels c, repeats n, first stride s
SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
            (6, 320, 1, 1))


def conv_bn(conv, in_channels, out_channels, kernel, stride=1, groups=1, activation=True):
    layers = [conv(in_channels, out_channels, kernel, stride, (kernel - 1) // 2, groups),
              nn.BatchNorm2d(out_channels)]
    return nn.Sequential(*layers, nn.ReLU6(inplace=True)) if activation else nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, conv, in_channels, out_channels, stride, expansion):
        super().__init__()
        hidden = in_channels * expansion
        layers = [conv_bn(conv, in_channels, hidden, 1)] if expansion != 1 else []
        layers += [conv_bn(conv, hidden, hidden, 3, stride, groups=hidden),
                   conv_bn(conv, hidden, out_channels, 1, activation=False)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, conv=dense_conv, linear=dense_linear, num_classes=1000):
        super().__init__()
        features, in_channels = [conv_bn(dense_conv, 3, 32, 3, 2)], 32
        for t, c, n, s in SETTINGS:
            for i in range(n):
                features.append(InvertedResidual(conv, in_channels, c, s if i == 0 else 1, t))
                in_channels = c
        features.append(conv_bn(conv, in_channels, 1280, 1))
        self.features = nn.Sequential(*features)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), linear(1280, num_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)).flatten(1))
