"""ShuffleNetV2 x1.0 as torchvision builds it (`torchvision/models/shufflenetv2.py`):
2,278,604 parameters. Spec: specs/shufflenet_v2_x1_0.cnn."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .ops import channel_shuffle


def _depthwise(channels: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(channels, channels, 3, stride, 1, groups=channels, bias=False)


def _pointwise(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 1, bias=False)


class InvertedResidual(nn.Module):
    """Stride 2: both branches see the whole input (branch1 depthwise then 1x1, branch2
    1x1, depthwise, 1x1), concatenated. Stride 1: the channels split in two halves, the
    first passes, branch2 runs on the second. Then a channel shuffle in 2 groups."""

    def __init__(self, inp: int, oup: int, stride: int):
        super().__init__()
        self.stride = stride
        half = oup // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                _depthwise(inp, stride), nn.BatchNorm2d(inp),
                _pointwise(inp, half), nn.BatchNorm2d(half), nn.ReLU())
        self.branch2 = nn.Sequential(
            _pointwise(inp if stride > 1 else half, half), nn.BatchNorm2d(half), nn.ReLU(),
            _depthwise(half, stride), nn.BatchNorm2d(half),
            _pointwise(half, half), nn.BatchNorm2d(half), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """Stem 3x3/2 -> maxpool -> three stages (one stride-2 unit, then stride-1 units) ->
    1x1 conv -> global mean -> linear."""

    def __init__(self, repeats=(4, 8, 4), widths=(24, 116, 232, 464, 1024),
                 num_classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, widths[0], 3, 2, 1, bias=False),
                                   nn.BatchNorm2d(widths[0]), nn.ReLU())
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = widths[0]
        stages = []
        for n, cout in zip(repeats, widths[1:4]):
            units = [InvertedResidual(cin, cout, 2)]
            units += [InvertedResidual(cout, cout, 1) for _ in range(n - 1)]
            stages.append(nn.Sequential(*units))
            cin = cout
        self.stage2, self.stage3, self.stage4 = stages
        self.conv5 = nn.Sequential(nn.Conv2d(cin, widths[-1], 1, bias=False),
                                   nn.BatchNorm2d(widths[-1]), nn.ReLU())
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        x = self.conv5(x).mean([2, 3])  # global pool
        return self.fc(x)


def shufflenet_v2_x1_0() -> ShuffleNetV2:
    return ShuffleNetV2((4, 8, 4), (24, 116, 232, 464, 1024))
