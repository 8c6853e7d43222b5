"""The small U-Net of LANGUAGE.md: two levels down, a bottleneck, two levels up with
skips concatenated (skip first, then the upsampled tensor), a 1x1 head; 466,626
parameters on 1x64x64. Spec: specs/unet_small.cnn."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class DoubleConv(nn.Module):
    """(3x3 conv without bias -> BN -> ReLU) twice; keeps the spatial size."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x)


class UNet(nn.Module):
    """1x64x64 -> e1 32x64x64 -> e2 64x32x32 -> 128x16x16 -> up 64x32x32 ++ e2 ->
    64x32x32 -> up 32x64x64 ++ e1 -> 32x64x64 -> 2x64x64."""

    def __init__(self, in_channels: int = 1, classes: int = 2):
        super().__init__()
        self.enc1 = DoubleConv(in_channels, 32)
        self.enc2 = DoubleConv(32, 64)
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = DoubleConv(64, 128)
        self.up2 = nn.ConvTranspose2d(128, 64, 2, stride=2)
        self.dec2 = DoubleConv(128, 64)
        self.up1 = nn.ConvTranspose2d(64, 32, 2, stride=2)
        self.dec1 = DoubleConv(64, 32)
        self.head = nn.Conv2d(32, classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        x = self.bottleneck(self.pool(e2))
        x = self.dec2(torch.cat((e2, self.up2(x)), dim=1))
        x = self.dec1(torch.cat((e1, self.up1(x)), dim=1))
        return self.head(x)


def unet_small() -> UNet:
    return UNet(1, 2)
