"""CIFAR Wide ResNets (Zagoruyko & Komodakis 2016): pre-activation blocks, widths 16k/32k/64k,
a 1x1 conv shortcut where the shape changes."""
import torch.nn.functional as F
from torch import nn

from sedge.frontend.zoo.factories import dense_conv, dense_linear


class PreActBlock(nn.Module):
    def __init__(self, conv, in_planes, planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = conv(in_planes, planes, 3, stride, 1)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = conv(planes, planes, 3, 1, 1)
        self.equal = in_planes == planes and stride == 1
        self.shortcut = None if self.equal else nn.Conv2d(in_planes, planes, 1, stride, bias=False)

    def forward(self, x):
        activated = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(activated))))
        return out + (x if self.equal else self.shortcut(activated))


class WideResNet(nn.Module):
    def __init__(self, depth, widen, conv=dense_conv, linear=dense_linear, num_classes=10):
        super().__init__()
        per_stage = (depth - 4) // 6
        widths = (16 * widen, 32 * widen, 64 * widen)
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        blocks, in_planes = [], 16
        for index, planes in enumerate(widths):
            for b in range(per_stage):
                blocks.append(PreActBlock(conv, in_planes, planes, 2 if index and not b else 1))
                in_planes = planes
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(in_planes)
        self.fc = linear(in_planes, num_classes)

    def forward(self, x):
        x = F.relu(self.bn(self.blocks(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))
