"""A feature pyramid (Lin et al., 2017; torchvision's `ops.FeaturePyramidNetwork`) on a
ResNet-18 backbone (torchvision's `resnet18` without its pool and classifier): 256
channels at three levels, returning (P3, P4, P5) at strides 8, 16, 32; 13,176,896
parameters. Spec: specs/fpn_resnet18.cnn.

One departure in structure, not in maths: torchvision's FPN smooths each level as soon as
its top-down sum exists (inner 5, layer 5, inner 4, layer 4, ...). The spec computes the
top-down path in its body and smooths in `output`, in the order P3, P4, P5, so here every
lateral runs first, then the three 3x3 convs in that order.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F


class BasicBlock(nn.Module):
    """torchvision's ResNet basic block: 3x3 -> BN -> ReLU -> 3x3 -> BN, plus the input
    (through a 1x1/2 conv and BN where the block halves the size), then ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet18Backbone(nn.Module):
    """Stem 7x7/2 -> maxpool -> four stages of two basic blocks; returns C3, C4, C5
    (the outputs of layer2, layer3, layer4: 128, 256, 512 channels)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128))
        self.layer3 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256))
        self.layer4 = nn.Sequential(BasicBlock(256, 512, 2), BasicBlock(512, 512))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        x = self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x)))))
        c3 = self.layer2(x)
        c4 = self.layer3(c3)
        return c3, c4, self.layer4(c4)


class FeaturePyramid(nn.Module):
    """1x1 laterals to `out_channels`, nearest upsampling of the coarser level to the
    finer one's size, sums, and a 3x3 conv on every level."""

    def __init__(self, in_channels=(128, 256, 512), out_channels: int = 256):
        super().__init__()
        self.inner_blocks = nn.ModuleList(nn.Conv2d(c, out_channels, 1) for c in in_channels)
        self.layer_blocks = nn.ModuleList(
            nn.Conv2d(out_channels, out_channels, 3, padding=1) for _ in in_channels)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=1)
                nn.init.constant_(m.bias, 0)

    def forward(self, features: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        last_inner = self.inner_blocks[-1](features[-1])
        inners = [last_inner]
        for feature, inner_block in zip(features[-2::-1], self.inner_blocks[-2::-1]):
            lateral = inner_block(feature)
            top_down = F.interpolate(last_inner, size=lateral.shape[-2:], mode="nearest")
            last_inner = lateral + top_down
            inners.insert(0, last_inner)
        return tuple(layer(inner) for layer, inner in zip(self.layer_blocks, inners))


class ResNet18FPN(nn.Module):
    """Image -> (P3, P4, P5), each with 256 channels."""

    def __init__(self):
        super().__init__()
        self.body = ResNet18Backbone()
        self.fpn = FeaturePyramid((128, 256, 512), 256)

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        return self.fpn(self.body(x))


def fpn_resnet18() -> ResNet18FPN:
    return ResNet18FPN()
