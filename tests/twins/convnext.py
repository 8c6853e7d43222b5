"""ConvNeXt-Tiny as torchvision builds it (`torchvision/models/convnext.py`):
28,589,128 parameters. Spec: specs/convnext_tiny.cnn.

Two departures in structure, not in maths, so that the modules holding parameters are
called in the spec's order:
- torchvision keeps the layer scale as a parameter of `CNBlock` itself, so its pre-hook
  fires *before* the block's convolutions; the spec writes `scale 1e-6` after the last
  1x1 conv. Here it is a `LayerScale` module called after the block's body.
- The spec writes torchvision's channels-last `nn.Linear` layers as 1x1 `conv`s (equal
  parameters; the weights copy across with a reshape). The twin keeps the `Linear`s.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor, nn

from .ops import LayerNorm2d, Permute, StochasticDepth

Norm2d = partial(LayerNorm2d, eps=1e-6)


class LayerScale(nn.Module):
    """A learnable per-channel multiplier, `C x 1 x 1`, initialised to `init`."""

    def __init__(self, channels: int, init: float):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels, 1, 1), init))

    def forward(self, x: Tensor) -> Tensor:
        return self.gamma * x


class CNBlock(nn.Module):
    """Depthwise 7x7 -> layer norm (channels-last) -> linear to 4x -> GELU -> linear back
    -> layer scale -> stochastic depth, added to the input."""

    def __init__(self, dim: int, layer_scale: float, sd_prob: float):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, 7, padding=3, groups=dim),
            Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim),
            nn.GELU(),
            nn.Linear(4 * dim, dim),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = LayerScale(dim, layer_scale)
        self.stochastic_depth = StochasticDepth(sd_prob)

    def forward(self, x: Tensor) -> Tensor:
        return self.stochastic_depth(self.layer_scale(self.block(x))) + x


def _features(setting, layer_scale: float, stochastic_depth_prob: float) -> list[nn.Module]:
    """Stages of blocks, a downsampling (layer norm, 2x2/2 conv) between them; the drop
    rate grows linearly over the whole net, 0.1 * i / 17 for Tiny."""
    total = sum(n for _, _, n in setting)
    block_id = 0
    layers: list[nn.Module] = []
    for cin, cout, n in setting:
        blocks = []
        for _ in range(n):
            blocks.append(CNBlock(cin, layer_scale, stochastic_depth_prob * block_id / (total - 1)))
            block_id += 1
        layers.append(nn.Sequential(*blocks))
        if cout is not None:
            layers.append(nn.Sequential(Norm2d(cin), nn.Conv2d(cin, cout, 2, stride=2)))
    return layers


TINY = ((96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3))


class ConvNeXt(nn.Module):
    """Patchify stem (4x4/4 conv, layer norm) -> four stages -> pool -> layer norm ->
    linear."""

    def __init__(self, setting=TINY, stochastic_depth_prob: float = 0.1,
                 layer_scale: float = 1e-6, num_classes: int = 1000):
        super().__init__()
        first, last = setting[0][0], setting[-1][0]
        self.features = nn.Sequential(
            nn.Sequential(nn.Conv2d(3, first, 4, stride=4), Norm2d(first)),
            *_features(setting, layer_scale, stochastic_depth_prob),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(Norm2d(last), nn.Flatten(1), nn.Linear(last, num_classes))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)))


def convnext_tiny() -> ConvNeXt:
    return ConvNeXt(TINY, stochastic_depth_prob=0.1)
