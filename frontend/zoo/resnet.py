"""ImageNet ResNets in torchvision's layout (He et al. 2016): ResNet-18/34/50/101/152, WRN-50-2."""
from torch import nn

from sedge.frontend.zoo.factories import dense_conv, dense_linear


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, conv, in_planes, planes, stride, width):
        super().__init__()
        self.conv1 = conv(in_planes, planes, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv(planes, planes, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = projection(conv, in_planes, planes, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (self.downsample(x) if self.downsample is not None else x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, conv, in_planes, planes, stride, width):
        super().__init__()
        inner = planes * width // 64
        self.conv1 = conv(in_planes, inner, 1)
        self.bn1 = nn.BatchNorm2d(inner)
        self.conv2 = conv(inner, inner, 3, stride, 1)  # the stride sits on the 3x3 (torchvision's v1.5)
        self.bn2 = nn.BatchNorm2d(inner)
        self.conv3 = conv(inner, planes * 4, 1)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = projection(conv, in_planes, planes * 4, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (self.downsample(x) if self.downsample is not None else x))


def projection(conv, in_planes, out_planes, stride):
    """1x1 conv + BN shortcut where the shape changes, else identity (None)."""
    if stride == 1 and in_planes == out_planes:
        return None
    return nn.Sequential(conv(in_planes, out_planes, 1, stride), nn.BatchNorm2d(out_planes))


class ResNet(nn.Module):
    def __init__(self, block, layers, conv=dense_conv, linear=dense_linear, num_classes=1000, width=64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages, in_planes = [], 64
        for index, (planes, count) in enumerate(zip((64, 128, 256, 512), layers)):
            blocks = []
            for b in range(count):
                blocks.append(block(conv, in_planes, planes, 2 if index and not b else 1, width))
                in_planes = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = linear(in_planes, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


DEPTHS = {18: (BasicBlock, (2, 2, 2, 2)), 34: (BasicBlock, (3, 4, 6, 3)), 50: (Bottleneck, (3, 4, 6, 3)),
          101: (Bottleneck, (3, 4, 23, 3)), 152: (Bottleneck, (3, 8, 36, 3))}


def resnet(depth, conv=dense_conv, linear=dense_linear, width_factor=1):
    block, layers = DEPTHS[depth]
    return ResNet(block, layers, conv, linear, width=64 * width_factor)
