"""How a zoo architecture asks for its layers, so that a variant can swap them.

Architectures build every conv except the stem through `conv(C, O, kernel, stride, padding,
groups, bias)` and the classifier through `linear(C, O)`; the base model uses these plain
PyTorch defaults, and each compressed variant passes its own (see variants.py).
"""
from torch import nn


def dense_conv(in_channels, out_channels, kernel, stride=1, padding=0, groups=1, bias=False):
    return nn.Conv2d(in_channels, out_channels, kernel, stride, padding, groups=groups, bias=bias)


def dense_linear(in_features, out_features):
    return nn.Linear(in_features, out_features)
