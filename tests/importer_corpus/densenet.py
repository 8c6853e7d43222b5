"""DenseNet-121 in torchvision's layout.

Source: pytorch/vision `torchvision/models/densenet.py` (classes `_DenseLayer`, `_DenseBlock`,
`_Transition`, `DenseNet`). Written afresh with the same names and nesting, so `state_dict()`
keys equal torchvision's: `features` is an `nn.Sequential` built from an `OrderedDict`
(`conv0`, `norm0`, `relu0`, `pool0`, `denseblock1`, `transition1`, ..., `norm5`), each
`_DenseBlock` is an `nn.ModuleDict` of `denselayerN` whose forward keeps a list of features
and concatenates it, each `_DenseLayer` takes that list. Dropout 0, not memory-efficient.
Published figure: 7,978,856 parameters.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class _DenseLayer(nn.Module):
    def __init__(self, cin: int, growth_rate: int, bn_size: int, drop_rate: float = 0.0):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, bn_size * growth_rate, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, padding=1,
                               bias=False)
        self.drop_rate = float(drop_rate)

    def bn_function(self, inputs: list[Tensor]) -> Tensor:
        joined = torch.cat(inputs, 1)
        return self.conv1(self.relu1(self.norm1(joined)))

    def forward(self, features: Tensor | list[Tensor]) -> Tensor:
        if isinstance(features, Tensor):   # torchvision's: a tensor or the list of earlier ones
            features = [features]
        bottleneck = self.bn_function(features)
        new = self.conv2(self.relu2(self.norm2(bottleneck)))
        if self.drop_rate > 0:
            new = F.dropout(new, p=self.drop_rate, training=self.training)
        return new


class _DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers: int, cin: int, bn_size: int, growth_rate: int):
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}",
                            _DenseLayer(cin + i * growth_rate, growth_rate, bn_size))

    def forward(self, init_features: Tensor) -> Tensor:
        features = [init_features]
        for _name, layer in self.items():
            features.append(layer(features))
        return torch.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(cin, cout, kernel_size=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    def __init__(self, growth_rate: int = 32, block_config=(6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, num_classes: int = 1000):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3,
                                bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        width = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(f"denseblock{i + 1}",
                                     _DenseBlock(num_layers, width, bn_size, growth_rate))
            width += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", _Transition(width, width // 2))
                width //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(width))
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.features(x), inplace=True)
        out = F.adaptive_avg_pool2d(out, (1, 1))
        return self.classifier(torch.flatten(out, 1))


def densenet121(num_classes: int = 1000) -> DenseNet:
    return DenseNet(32, (6, 12, 24, 16), 64, num_classes=num_classes)
