"""MobileNetV3-Small as torchvision builds it (`torchvision/models/mobilenetv3.py`):
2,542,856 parameters, batch norm with eps 0.001 and momentum 0.01.
Spec: specs/mobilenet_v3_small.cnn."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from torch import Tensor, nn

from .ops import ConvNormActivation, SqueezeExcitation, make_divisible

Norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)


@dataclass(frozen=True)
class BneckConfig:
    """One row of torchvision's table: input, kernel, expanded and output channels,
    squeeze-and-excitation or not, ReLU ("RE") or hard-swish ("HS"), stride."""

    input_channels: int
    kernel: int
    expanded_channels: int
    out_channels: int
    use_se: bool
    activation: str
    stride: int


SMALL = (
    BneckConfig(16, 3, 16, 16, True, "RE", 2),
    BneckConfig(16, 3, 72, 24, False, "RE", 2),
    BneckConfig(24, 3, 88, 24, False, "RE", 1),
    BneckConfig(24, 5, 96, 40, True, "HS", 2),
    BneckConfig(40, 5, 240, 40, True, "HS", 1),
    BneckConfig(40, 5, 240, 40, True, "HS", 1),
    BneckConfig(40, 5, 120, 48, True, "HS", 1),
    BneckConfig(48, 5, 144, 48, True, "HS", 1),
    BneckConfig(48, 5, 288, 96, True, "HS", 2),
    BneckConfig(96, 5, 576, 96, True, "HS", 1),
    BneckConfig(96, 5, 576, 96, True, "HS", 1),
)


class InvertedResidual(nn.Module):
    """Expand 1x1 (skipped when the width stays) -> depthwise kxk -> [SE, squeezing to
    `make_divisible(expanded // 4)`, gated by a hard sigmoid] -> project 1x1; a residual
    when the stride is 1 and the width is kept."""

    def __init__(self, cnf: BneckConfig):
        super().__init__()
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        act = nn.Hardswish if cnf.activation == "HS" else nn.ReLU
        cin, exp = cnf.input_channels, cnf.expanded_channels
        layers: list[nn.Module] = []
        if exp != cin:
            layers.append(ConvNormActivation(cin, exp, 1, norm_layer=Norm, activation_layer=act))
        layers.append(ConvNormActivation(exp, exp, cnf.kernel, cnf.stride, groups=exp,
                                         norm_layer=Norm, activation_layer=act))
        if cnf.use_se:
            layers.append(SqueezeExcitation(exp, make_divisible(exp // 4),
                                            scale_activation=nn.Hardsigmoid))
        layers.append(ConvNormActivation(exp, cnf.out_channels, 1, norm_layer=Norm,
                                         activation_layer=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        result = self.block(x)
        return result + x if self.use_res_connect else result


class MobileNetV3(nn.Module):
    """Stem 3x3/2 with hard-swish -> the bottlenecks -> 1x1 conv to 6x the last width ->
    pool -> linear 1024 -> hard-swish -> dropout -> linear."""

    def __init__(self, setting=SMALL, last_channel: int = 1024, num_classes: int = 1000):
        super().__init__()
        last_in = setting[-1].out_channels
        self.features = nn.Sequential(
            ConvNormActivation(3, setting[0].input_channels, 3, 2, norm_layer=Norm,
                               activation_layer=nn.Hardswish),
            *(InvertedResidual(cnf) for cnf in setting),
            ConvNormActivation(last_in, 6 * last_in, 1, norm_layer=Norm,
                               activation_layer=nn.Hardswish),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(6 * last_in, last_channel), nn.Hardswish(), nn.Dropout(0.2),
            nn.Linear(last_channel, num_classes))
        _init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


def _init_weights(model: nn.Module) -> None:
    """torchvision's initialisation for MobileNetV3."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


def mobilenet_v3_small() -> MobileNetV3:
    return MobileNetV3(SMALL, last_channel=1024)
