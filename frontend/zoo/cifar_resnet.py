"""CIFAR ResNets (He et al. 2016, §4.2): 3 stages of BasicBlocks, widths 16/32/64, option-A
shortcuts (stride-2 subsampling and zero-padded channels: no parameters)."""
import torch
import torch.nn.functional as F
from torch import nn

from sedge.frontend.zoo.factories import dense_conv, dense_linear


class ShortcutA(nn.Module):
    def __init__(self, extra_channels):
        super().__init__()
        self.extra = extra_channels

    def forward(self, x):
        x = x[:, :, ::2, ::2]
        # zeros_like + cat rather than F.pad: torch's ONNX exporter writes F.pad's pads as a
        # computation that TVM's ONNX frontend rejects as dynamic
        front, back = self.extra // 2, self.extra - self.extra // 2
        return torch.cat([torch.zeros_like(x[:, :front]), x, torch.zeros_like(x[:, :back])], 1)


class CifarBlock(nn.Module):
    def __init__(self, conv, in_planes, planes, stride):
        super().__init__()
        self.conv1 = conv(in_planes, planes, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv(planes, planes, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = ShortcutA(planes - in_planes) if stride != 1 or in_planes != planes else nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, depth, conv=dense_conv, linear=dense_linear, num_classes=10):
        super().__init__()
        per_stage = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, in_planes = [], 16
        for index, planes in enumerate((16, 32, 64)):
            for b in range(per_stage):
                blocks.append(CifarBlock(conv, in_planes, planes, 2 if index and not b else 1))
                in_planes = planes
        self.blocks = nn.Sequential(*blocks)
        self.fc = linear(64, num_classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))
