"""AlexNet (Krizhevsky et al. 2012) in torchvision's single-tower layout, the network whose
fully connected layers Moczulski et al. 2016 (ACDC, methods.md §2) replaced with ACDC stacks
(CaffeNet there: the same layers with the LRNs; sedge drops them, as torchvision does).

One deviation, so that both hidden FC layers are square N = 4096 layers an ACDC stack
replaces one-for-one: the 6 x 6 feature map is average-pooled by a 3 x 3 window at stride 1 to 4 x 4 (where
torchvision's adaptive pool keeps 6 x 6), so FC6 reads 256 x 4 x 4 = 4096 features (not 9216).
A fixed window, not an adaptive pool: ONNX exports no adaptive pool whose output size does not
divide its input. FC6 and FC7 (4096 -> 4096) and the classifier
FC8 (4096 -> 1000) are requested through `linear(C, O)`; the convs are always dense.
"""
from torch import nn

from sedge.frontend.zoo.factories import dense_linear

FEATURES = 4096  # 256 channels x 4 x 4 after the pool
HIDDEN = 4096


class AlexNet(nn.Module):
    def __init__(self, linear=dense_linear, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        )
        self.pool = nn.AvgPool2d(3, 1)  # 6 x 6 -> 4 x 4 at 224 x 224
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), linear(FEATURES, HIDDEN), nn.ReLU(inplace=True),  # FC6
            nn.Dropout(dropout), linear(HIDDEN, HIDDEN), nn.ReLU(inplace=True),  # FC7
            linear(HIDDEN, num_classes),  # FC8
        )

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)).flatten(1))
