"""DenseNet-BC for CIFAR (Huang et al. 2017): 3 dense blocks of bottleneck layers (BN-ReLU-1x1
conv to 4k, BN-ReLU-3x3 conv to k), transitions compressing by 0.5, stem of 2k channels."""
import torch
import torch.nn.functional as F
from torch import nn

from sedge.frontend.zoo.factories import dense_conv, dense_linear


class DenseLayer(nn.Module):
    def __init__(self, conv, in_channels, growth):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv(in_channels, 4 * growth, 1)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = conv(4 * growth, growth, 3, 1, 1)

    def forward(self, x):
        out = self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(x))))))
        return torch.cat([x, out], 1)


class Transition(nn.Module):
    def __init__(self, conv, in_channels, out_channels):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels)
        self.conv = conv(in_channels, out_channels, 1)

    def forward(self, x):
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class DenseNetBC(nn.Module):
    def __init__(self, depth, growth, conv=dense_conv, linear=dense_linear, num_classes=10, reduction=0.5):
        super().__init__()
        per_block = (depth - 4) // 6
        channels = 2 * growth
        self.conv1 = nn.Conv2d(3, channels, 3, 1, 1, bias=False)
        stages = []
        for index in range(3):
            for _ in range(per_block):
                stages.append(DenseLayer(conv, channels, growth))
                channels += growth
            if index < 2:
                stages.append(Transition(conv, channels, int(channels * reduction)))
                channels = int(channels * reduction)
        self.features = nn.Sequential(*stages)
        self.bn = nn.BatchNorm2d(channels)
        self.fc = linear(channels, num_classes)

    def forward(self, x):
        x = F.relu(self.bn(self.features(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))
