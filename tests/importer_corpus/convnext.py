"""ConvNeXt-Tiny in torchvision's layout.

Source: pytorch/vision `torchvision/models/convnext.py` (`LayerNorm2d`, `CNBlock`,
`CNBlockConfig`, `ConvNeXt`), `torchvision/ops/misc.py` (`Conv2dNormActivation`, `Permute`)
and `torchvision/ops/stochastic_depth.py` (`StochasticDepth`, written here as a plain module:
the identity in eval, row-wise drop in training). Written afresh with the same names and
nesting, so `state_dict()` keys equal torchvision's (`features.1.0.layer_scale`,
`features.1.0.block.3.weight`, ...): unlike `tests/twins/convnext.py`, the layer scale is a
parameter of `CNBlock` itself, read in its forward after the block's layers.
Published figure: 28,589,128 parameters.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor, nn
from torch.nn import functional as F


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Permute(nn.Module):
    def __init__(self, dims: list[int]):
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return torch.permute(x, self.dims)


class StochasticDepth(nn.Module):
    """Drops a whole sample's residual branch with probability p in training."""

    def __init__(self, p: float, mode: str = "row"):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        noise = torch.empty([x.shape[0], 1, 1, 1], dtype=x.dtype, device=x.device)
        return x * noise.bernoulli_(keep).div_(keep)


class Conv2dNormActivation(nn.Sequential):
    """The stem: a 4x4 stride-4 conv with its bias, then a channels-first layer norm."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int, norm_layer):
        super().__init__(nn.Conv2d(cin, cout, kernel_size, stride, 0, bias=True),
                         norm_layer(cout))


class CNBlock(nn.Module):
    def __init__(self, dim: int, layer_scale: float, stochastic_depth_prob: float,
                 norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-6)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            norm_layer(dim),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input: Tensor) -> Tensor:
        result = self.layer_scale * self.block(input)
        result = self.stochastic_depth(result)
        result += input
        return result


#: (input channels, output channels or None, blocks) per stage
TINY = ((96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3))


class ConvNeXt(nn.Module):
    def __init__(self, block_setting=TINY, stochastic_depth_prob: float = 0.1,
                 layer_scale: float = 1e-6, num_classes: int = 1000):
        super().__init__()
        norm_layer = partial(LayerNorm2d, eps=1e-6)
        first = block_setting[0][0]
        layers: list[nn.Module] = [Conv2dNormActivation(3, first, 4, 4, norm_layer)]
        total = sum(n for _, _, n in block_setting)
        stage_block_id = 0
        for cin, cout, num_layers in block_setting:
            stage: list[nn.Module] = []
            for _ in range(num_layers):
                sd_prob = stochastic_depth_prob * stage_block_id / (total - 1.0)
                stage.append(CNBlock(cin, layer_scale, sd_prob))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
            if cout is not None:
                layers.append(nn.Sequential(norm_layer(cin),
                                            nn.Conv2d(cin, cout, kernel_size=2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = block_setting[-1][1] or block_setting[-1][0]
        self.classifier = nn.Sequential(norm_layer(last), nn.Flatten(1),
                                        nn.Linear(last, num_classes))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)))


def convnext_tiny() -> ConvNeXt:
    return ConvNeXt(TINY, stochastic_depth_prob=0.1)


def convnext_small_test() -> ConvNeXt:
    """Two stages, three blocks: the same constructs at a test's size."""
    return ConvNeXt(((8, 16, 1), (16, None, 2)), num_classes=10)
