"""DenseNet-121 as torchvision builds it (`torchvision/models/densenet.py`, dropout 0,
not memory-efficient): 7,978,856 parameters. Spec: specs/densenet121.cnn."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


class DenseLayer(nn.Module):
    """BN -> ReLU -> 1x1 conv to bn_size*growth -> BN -> ReLU -> 3x3 conv to growth. The
    block concatenates each layer's input with its output: written here as the layer
    returning `cat(x, new)`, the same maths as torchvision's list of features."""

    def __init__(self, cin: int, growth: int, bn_size: int):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        new = self.conv1(F.relu(self.norm1(x)))
        new = self.conv2(F.relu(self.norm2(new)))
        return torch.cat((x, new), dim=1)


def dense_block(layers: int, cin: int, growth: int, bn_size: int) -> nn.Sequential:
    return nn.Sequential(*(DenseLayer(cin + i * growth, growth, bn_size) for i in range(layers)))


def transition(cin: int, cout: int) -> nn.Sequential:
    """BN -> ReLU -> 1x1 conv (halving the channels) -> 2x2 average pool."""
    return nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, cout, 1, bias=False),
                         nn.AvgPool2d(2, 2))


class DenseNet(nn.Module):
    """Stem 7x7/2 -> maxpool -> four dense blocks with transitions between -> BN -> ReLU
    -> pool -> linear."""

    def __init__(self, growth: int = 32, block_config=(6, 12, 24, 16), init_features: int = 64,
                 bn_size: int = 4, num_classes: int = 1000):
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(3, init_features, 7, 2, 3, bias=False), nn.BatchNorm2d(init_features),
            nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        width = init_features
        for i, n in enumerate(block_config):
            layers.append(dense_block(n, width, growth, bn_size))
            width += n * growth
            if i != len(block_config) - 1:
                layers.append(transition(width, width // 2))
                width //= 2
        layers.append(nn.BatchNorm2d(width))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width, num_classes)
        _init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = F.adaptive_avg_pool2d(F.relu(self.features(x)), 1)
        return self.classifier(x.flatten(1))


def _init_weights(model: nn.Module) -> None:
    """torchvision's initialisation for DenseNet."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.constant_(m.bias, 0)


def densenet121() -> DenseNet:
    return DenseNet(32, (6, 12, 24, 16), 64)
