"""MobileNetV3Small: compiled by cnndsl 0.1.0 from mobilenet_v3_small.cnn.

Edit the spec, not this file: `cnndsl compile mobilenet_v3_small.cnn` writes it again.

Input 3x224x224 -> output 1000; 2,542,856 parameters; 56.52M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 16 k3 s2 p1 nobias      16x112x112                432
    bn1                      bn eps=eps momentum=momentum 16x112x112                 32
    hardswish1               hardswish                    16x112x112                  0
    conv2                    conv 16 k3 s2 p1 g16 nobias  16x56x56                  144
    bn2                      bn eps=eps momentum=momentum 16x56x56                   32
    relu1                    relu                         16x56x56                    0
    se1                      SE(8)                        16x56x56                  280
    conv3                    conv 16 k1 nobias            16x56x56                  256
    bn3                      bn eps=eps momentum=momentum 16x56x56                   32
    bneck_re1                BneckRE(72, 24, s=2)         24x28x28                3,864
    residual1                residual                     24x28x28                    0
    bneck_hs1                BneckHS(96, 40, 24, s=2)     40x14x14               13,736
    residual2                residual                     40x14x14                    0
    residual3                residual                     40x14x14                    0
    bneck_hs4                BneckHS(120, 48, 32)         48x14x14               21,968
    residual4                residual                     48x14x14                    0
    bneck_hs6                BneckHS(288, 96, 72, s=2)    96x7x7                 91,848
    residual5                residual                     96x7x7                      0
    residual6                residual                     96x7x7                      0
    conv4                    conv 576 k1 nobias           576x7x7                55,296
    bn4                      bn eps=eps momentum=momentum 576x7x7                 1,152
    hardswish2               hardswish                    576x7x7                     0
    pool1                    gap                          576x1x1                     0
    fc1                      fc 1024                      1024                  590,848
    hardswish3               hardswish                    1024                        0
    dropout1                 dropout 0.2                  1024                        0
    fc2                      fc 1000                      1000                1,025,000
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                     2,542,856
"""

import torch
from torch import nn


class SE(nn.Module):
    """The `SE` block of the spec; its first use, `SE(8)` on 16x56x56 input, has 280 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, squeeze: int) -> None:
        super().__init__()
        self.pool1 = nn.AdaptiveAvgPool2d(1)
        self.conv1 = nn.Conv2d(in_channels, squeeze, kernel_size=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(squeeze, in_channels, kernel_size=1)
        self.hardsigmoid1 = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.pool1(x)            # (B, in_channels, 1, 1)
        gate = self.conv1(gate)         # (B, squeeze, 1, 1)
        gate = self.relu1(gate)         # (B, squeeze, 1, 1)
        gate = self.conv2(gate)         # (B, in_channels, 1, 1)
        gate = self.hardsigmoid1(gate)  # (B, in_channels, 1, 1)
        x = x * gate                    # (B, in_channels, H, W)
        return x


class BneckRE(nn.Module):
    """The `BneckRE` block of the spec; its first use, `BneckRE(72, 24, s=2)` on 16x56x56 input,
    has 3,864 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, e: int, c: int, s: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, e, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(e, eps=0.001, momentum=0.01)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(e, e, kernel_size=3, stride=s, padding=1, groups=e, bias=False)
        self.bn2 = nn.BatchNorm2d(e, eps=0.001, momentum=0.01)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(e, c, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c, eps=0.001, momentum=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, e, H, W)
        x = self.bn1(x)    # (B, e, H, W)
        x = self.relu1(x)  # (B, e, H, W)
        x = self.conv2(x)  # (B, e, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.bn2(x)    # (B, e, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.relu2(x)  # (B, e, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.conv3(x)  # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.bn3(x)    # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class BneckHS(nn.Module):
    """The `BneckHS` block of the spec; its first use, `BneckHS(96, 40, 24, s=2)` on 24x28x28
    input, has 13,736 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, e: int, c: int, squeeze: int, s: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, e, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(e, eps=0.001, momentum=0.01)
        self.hardswish1 = nn.Hardswish()
        self.conv2 = nn.Conv2d(e, e, kernel_size=5, stride=s, padding=2, groups=e, bias=False)
        self.bn2 = nn.BatchNorm2d(e, eps=0.001, momentum=0.01)
        self.hardswish2 = nn.Hardswish()
        self.se1 = SE(e, squeeze=squeeze)
        self.conv3 = nn.Conv2d(e, c, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c, eps=0.001, momentum=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)       # (B, e, H, W)
        x = self.bn1(x)         # (B, e, H, W)
        x = self.hardswish1(x)  # (B, e, H, W)
        x = self.conv2(x)       # (B, e, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.bn2(x)         # (B, e, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.hardswish2(x)  # (B, e, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.se1(x)         # (B, e, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.conv3(x)       # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.bn3(x)         # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class MobileNetV3Small(nn.Module):
    """MobileNetV3Small: 3x224x224 -> 1000, 2,542,856 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16, eps=0.001, momentum=0.01)
        self.hardswish1 = nn.Hardswish()
        self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1, groups=16, bias=False)
        self.bn2 = nn.BatchNorm2d(16, eps=0.001, momentum=0.01)
        self.relu1 = nn.ReLU()
        self.se1 = SE(16, squeeze=8)
        self.conv3 = nn.Conv2d(16, 16, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(16, eps=0.001, momentum=0.01)
        self.bneck_re1 = BneckRE(16, e=72, c=24, s=2)
        self.bneck_re2 = BneckRE(24, e=88, c=24)
        self.bneck_hs1 = BneckHS(24, e=96, c=40, squeeze=24, s=2)
        self.bneck_hs2 = BneckHS(40, e=240, c=40, squeeze=64)
        self.bneck_hs3 = BneckHS(40, e=240, c=40, squeeze=64)
        self.bneck_hs4 = BneckHS(40, e=120, c=48, squeeze=32)
        self.bneck_hs5 = BneckHS(48, e=144, c=48, squeeze=40)
        self.bneck_hs6 = BneckHS(48, e=288, c=96, squeeze=72, s=2)
        self.bneck_hs7 = BneckHS(96, e=576, c=96, squeeze=144)
        self.bneck_hs8 = BneckHS(96, e=576, c=96, squeeze=144)
        self.conv4 = nn.Conv2d(96, 576, kernel_size=1, bias=False)
        self.bn4 = nn.BatchNorm2d(576, eps=0.001, momentum=0.01)
        self.hardswish2 = nn.Hardswish()
        self.pool1 = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(576, 1024)
        self.hardswish3 = nn.Hardswish()
        self.dropout1 = nn.Dropout(p=0.2)
        self.fc2 = nn.Linear(1024, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)       # (B, 16, 112, 112)
        x = self.bn1(x)         # (B, 16, 112, 112)
        x = self.hardswish1(x)  # (B, 16, 112, 112)  16x112x112
        x = self.conv2(x)       # (B, 16, 56, 56)
        x = self.bn2(x)         # (B, 16, 56, 56)
        x = self.relu1(x)       # (B, 16, 56, 56)
        x = self.se1(x)         # (B, 16, 56, 56)
        x = self.conv3(x)       # (B, 16, 56, 56)
        x = self.bn3(x)         # (B, 16, 56, 56)  16x56x56
        x = self.bneck_re1(x)   # (B, 24, 28, 28)
        identity = x
        x = self.bneck_re2(x)   # (B, 24, 28, 28)
        x = x + identity        # (B, 24, 28, 28)  24x28x28
        x = self.bneck_hs1(x)   # (B, 40, 14, 14)
        identity = x
        x = self.bneck_hs2(x)   # (B, 40, 14, 14)
        x = x + identity        # (B, 40, 14, 14)
        identity = x
        x = self.bneck_hs3(x)   # (B, 40, 14, 14)
        x = x + identity        # (B, 40, 14, 14)  40x14x14
        x = self.bneck_hs4(x)   # (B, 48, 14, 14)
        identity = x
        x = self.bneck_hs5(x)   # (B, 48, 14, 14)
        x = x + identity        # (B, 48, 14, 14)  48x14x14
        x = self.bneck_hs6(x)   # (B, 96, 7, 7)
        identity = x
        x = self.bneck_hs7(x)   # (B, 96, 7, 7)
        x = x + identity        # (B, 96, 7, 7)
        identity = x
        x = self.bneck_hs8(x)   # (B, 96, 7, 7)
        x = x + identity        # (B, 96, 7, 7)  96x7x7
        x = self.conv4(x)       # (B, 576, 7, 7)
        x = self.bn4(x)         # (B, 576, 7, 7)
        x = self.hardswish2(x)  # (B, 576, 7, 7)
        x = self.pool1(x)       # (B, 576, 1, 1)
        x = x.flatten(1)        # (B, 576)
        x = self.fc1(x)         # (B, 1024)
        x = self.hardswish3(x)  # (B, 1024)
        x = self.dropout1(x)    # (B, 1024)
        x = self.fc2(x)         # (B, 1000)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "mobilenet_v3_small.cnn"
SPEC = (
    "# MobileNetV3-Small (Howard et al., 2019), as torchvision builds it\n"
    "# (torchvision/models/mobilenetv3.py): 2,542,856 parameters.\n"
    "# Twin: tests/twins/mobilenetv3.py.\n"
    "model MobileNetV3Small\n"
    "input 3x224x224\n"
    "\n"
    "# torchvision's norm layer for this net: BatchNorm2d(eps=0.001, momentum=0.01)"
    "\n"
    "let eps = 0.001\n"
    "let momentum = 0.01\n"
    "\n"
    "# squeeze-and-excitation gated by a hard sigmoid; `squeeze` is torchvision's\n"
    "# _make_divisible(expanded // 4, 8), a rounding the language has no word for\n"
    "block SE(squeeze) { gate(gap -> conv squeeze k1 -> relu -> conv in k1 -> hards"
    "igmoid) }\n"
    "\n"
    "# expand 1x1 to e -> depthwise 3x3 -> project 1x1 to c; ReLU, no SE (the early"
    " blocks)\n"
    "block BneckRE(e, c, s=1) {\n"
    "    conv e k1 nobias -> bn eps=eps momentum=momentum -> relu\n"
    "    -> conv e k3 stride=s p1 groups=e nobias -> bn eps=eps momentum=momentum -"
    "> relu\n"
    "    -> conv c k1 nobias -> bn eps=eps momentum=momentum\n"
    "}\n"
    "# expand 1x1 to e -> depthwise 5x5 -> SE -> project 1x1 to c; hard-swish (the "
    "later blocks)\n"
    "block BneckHS(e, c, squeeze, s=1) {\n"
    "    conv e k1 nobias -> bn eps=eps momentum=momentum -> hardswish\n"
    "    -> conv e k5 stride=s p2 groups=e nobias -> bn eps=eps momentum=momentum -"
    "> hardswish\n"
    "    -> SE(squeeze) -> conv c k1 nobias -> bn eps=eps momentum=momentum\n"
    "}\n"
    "\n"
    "conv 16 k3 s2 p1 nobias -> bn eps=eps momentum=momentum -> hardswish   # 16x11"
    "2x112\n"
    "# the first bottleneck keeps 16 channels, so it has no expansion conv\n"
    "-> conv 16 k3 s2 p1 g16 nobias -> bn eps=eps momentum=momentum -> relu\n"
    "-> SE(8) -> conv 16 k1 nobias -> bn eps=eps momentum=momentum          # 16x56"
    "x56\n"
    "-> BneckRE(72, 24, s=2) -> residual(BneckRE(88, 24))                   # 24x28"
    "x28\n"
    "-> BneckHS(96, 40, 24, s=2) -> residual(BneckHS(240, 40, 64)) * 2      # 40x14"
    "x14\n"
    "-> BneckHS(120, 48, 32) -> residual(BneckHS(144, 48, 40))              # 48x14"
    "x14\n"
    "-> BneckHS(288, 96, 72, s=2) -> residual(BneckHS(576, 96, 144)) * 2    # 96x7x"
    "7\n"
    "-> conv 576 k1 nobias -> bn eps=eps momentum=momentum -> hardswish\n"
    "-> gap -> fc 1024 -> hardswish -> dropout 0.2 -> fc 1000\n"
    "\n"
    "assert params == 2542856\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(MobileNetV3Small, SPEC_PATH, SPEC))
