"""The building blocks torchvision keeps in `torchvision.ops` (and a few of its model files
share), written again in plain `torch.nn`: torchvision does not import beside the CPU torch
here. Each keeps torchvision's maths and its order of parameterised calls."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's `_make_divisible`: round to a multiple of `divisor`, never below it,
    never more than 10% down (`make_divisible(36) == 40`, `make_divisible(60) == 64`)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class ConvNormActivation(nn.Sequential):
    """torchvision's `Conv2dNormActivation`: conv (no bias when a norm follows), norm,
    activation; padding `(k - 1) // 2`, so odd kernels keep the size at stride 1."""

    def __init__(self, cin: int, cout: int, kernel_size: int = 3, stride: int = 1,
                 groups: int = 1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU):
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel_size, stride, (kernel_size - 1) // 2,
                      groups=groups, bias=norm_layer is None)]
        if norm_layer is not None:
            layers.append(norm_layer(cout))
        if activation_layer is not None:
            layers.append(activation_layer())
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """torchvision's `SqueezeExcitation`: pool to 1x1, 1x1 conv down, activation,
    1x1 conv up, a gate; returns `gate * input`."""

    def __init__(self, channels: int, squeeze: int, activation=nn.ReLU,
                 scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, x: Tensor) -> Tensor:
        scale = self.activation(self.fc1(self.avgpool(x)))
        return self.scale_activation(self.fc2(scale)) * x


class StochasticDepth(nn.Module):
    """torchvision's `StochasticDepth` in "row" mode: while training, zero each sample's
    branch with probability `p` and scale the survivors by `1 / (1 - p)`; identity in eval."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        noise = torch.empty((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype, device=x.device)
        noise = noise.bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise


class LayerNorm2d(nn.LayerNorm):
    """torchvision's ConvNeXt `LayerNorm2d`: layer norm over the channels at each
    position of an `N x C x H x W` tensor (channels-first)."""

    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Permute(nn.Module):
    """torchvision's `ops.misc.Permute`."""

    def __init__(self, dims: list[int]):
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return torch.permute(x, self.dims)


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """ShuffleNet's channel shuffle (torchvision's `channel_shuffle`, as `nn.ChannelShuffle`):
    `(N, g*c, H, W)` -> view `(N, g, c, H, W)` -> swap g and c -> flatten back."""
    batch, channels, height, width = x.shape
    x = x.view(batch, groups, channels // groups, height, width)
    return x.transpose(1, 2).contiguous().view(batch, channels, height, width)
