"""EfficientNet-B0 as torchvision builds it (`torchvision/models/efficientnet.py`):
5,288,548 parameters. Spec: specs/efficientnet_b0.cnn."""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor, nn

from .ops import ConvNormActivation, SqueezeExcitation, StochasticDepth


@dataclass(frozen=True)
class MBConvConfig:
    """One stage of torchvision's table for B0 (width and depth multipliers 1.0)."""

    expand_ratio: int
    kernel: int
    stride: int
    input_channels: int
    out_channels: int
    num_layers: int


B0 = (
    MBConvConfig(1, 3, 1, 32, 16, 1),
    MBConvConfig(6, 3, 2, 16, 24, 2),
    MBConvConfig(6, 5, 2, 24, 40, 2),
    MBConvConfig(6, 3, 2, 40, 80, 3),
    MBConvConfig(6, 5, 1, 80, 112, 3),
    MBConvConfig(6, 5, 2, 112, 192, 4),
    MBConvConfig(6, 3, 1, 192, 320, 1),
)


class MBConv(nn.Module):
    """Expand 1x1 (skipped at ratio 1) -> depthwise kxk -> squeeze-and-excitation
    (squeezing to a quarter of the block's *input* channels) -> project 1x1; a residual
    with stochastic depth when the stride is 1 and the width is kept."""

    def __init__(self, cin: int, cout: int, expand_ratio: int, kernel: int, stride: int,
                 sd_prob: float):
        super().__init__()
        self.use_res_connect = stride == 1 and cin == cout
        expanded = cin * expand_ratio
        layers: list[nn.Module] = []
        if expanded != cin:
            layers.append(ConvNormActivation(cin, expanded, 1, activation_layer=nn.SiLU))
        layers += [
            ConvNormActivation(expanded, expanded, kernel, stride, groups=expanded,
                               activation_layer=nn.SiLU),
            SqueezeExcitation(expanded, max(1, cin // 4), activation=nn.SiLU),
            ConvNormActivation(expanded, cout, 1, activation_layer=None),
        ]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(sd_prob)

    def forward(self, x: Tensor) -> Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result = self.stochastic_depth(result) + x
        return result


def _stages(setting, stochastic_depth_prob: float) -> list[nn.Module]:
    """One `nn.Sequential` per stage; the drop rate grows linearly with the block's index
    over the whole net (0.2 * i / 16 for B0: 0, 0.0125, ..., 0.1875)."""
    total = sum(cnf.num_layers for cnf in setting)
    block_id = 0
    stages = []
    for cnf in setting:
        blocks = []
        for i in range(cnf.num_layers):
            cin, stride = (cnf.input_channels, cnf.stride) if i == 0 else (cnf.out_channels, 1)
            sd_prob = stochastic_depth_prob * block_id / total
            blocks.append(MBConv(cin, cnf.out_channels, cnf.expand_ratio, cnf.kernel, stride,
                                 sd_prob))
            block_id += 1
        stages.append(nn.Sequential(*blocks))
    return stages


class EfficientNet(nn.Module):
    """Stem 3x3/2 -> seven MBConv stages -> 1x1 conv to 4x the last width -> pool ->
    dropout -> linear."""

    def __init__(self, setting=B0, dropout: float = 0.2, stochastic_depth_prob: float = 0.2,
                 num_classes: int = 1000):
        super().__init__()
        last_in = setting[-1].out_channels
        self.features = nn.Sequential(
            ConvNormActivation(3, setting[0].input_channels, 3, 2, activation_layer=nn.SiLU),
            *_stages(setting, stochastic_depth_prob),
            ConvNormActivation(last_in, 4 * last_in, 1, activation_layer=nn.SiLU),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(4 * last_in, num_classes))
        _init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


def _init_weights(model: nn.Module) -> None:
    """torchvision's initialisation for EfficientNet."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            bound = 1.0 / math.sqrt(m.out_features)
            nn.init.uniform_(m.weight, -bound, bound)
            nn.init.zeros_(m.bias)


def efficientnet_b0() -> EfficientNet:
    return EfficientNet(B0)
