"""A two-input network (an image and a depth map, fused by concatenation).

Source: written for this corpus after LANGUAGE.md's named inputs (`input image 3x64x64`,
`input depth 1x64x64`, the others reached with `@depth`): `cnndsl import` takes
`{"image": (3, 32, 32), "depth": (1, 32, 32)}` for it.
"""

from __future__ import annotations

import torch
from torch import nn


class RGBD(nn.Module):
    def __init__(self, num_classes: int = 5):
        super().__init__()
        self.rgb = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.depth = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
        self.fuse = nn.Conv2d(12, 16, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, image, depth):
        x = torch.cat([self.rgb(image), self.depth(depth)], dim=1)
        x = torch.relu(self.fuse(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def rgbd() -> RGBD:
    return RGBD()
