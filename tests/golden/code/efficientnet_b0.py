"""EfficientNetB0: compiled by cnndsl 0.1.0 from efficientnet_b0.cnn.

Edit the spec, not this file: `cnndsl compile efficientnet_b0.cnn` writes it again.

Input 3x224x224 -> output 1000; 5,288,548 parameters; 385.83M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 32 k3 s2 p1 nobias      32x112x112                864
    bn1                      bn                           32x112x112                 64
    silu1                    silu                         32x112x112                  0
    mbconv1_1                MBConv1(16)                  16x112x112              1,448
    mbconv1                  MBConv(24, s=2)              24x56x56                6,004
    skip1                    Skip(3, sd*2)                24x56x56               10,710
    mbconv2                  MBConv(40, k=5, s=2)         40x28x28               15,350
    skip2                    Skip(5, sd*4)                40x28x28               31,290
    mbconv3                  MBConv(80, s=2)              80x14x14               37,130
    skip3                    Skip(3, sd*6)                80x14x14              102,900
    skip4                    Skip(3, sd*7)                80x14x14              102,900
    mbconv4                  MBConv(112, k=5)             112x14x14             126,004
    skip5                    Skip(5, sd*9)                112x14x14             208,572
    skip6                    Skip(5, sd*10)               112x14x14             208,572
    mbconv5                  MBConv(192, k=5, s=2)        192x7x7               262,492
    skip7                    Skip(5, sd*12)               192x7x7               587,952
    skip8                    Skip(5, sd*13)               192x7x7               587,952
    skip9                    Skip(5, sd*14)               192x7x7               587,952
    mbconv6                  MBConv(320)                  320x7x7               717,232
    conv2                    conv 1280 k1 nobias          1280x7x7              409,600
    bn2                      bn                           1280x7x7                2,560
    silu2                    silu                         1280x7x7                    0
    pool1                    gap                          1280x1x1                    0
    dropout1                 dropout 0.2                  1280x1x1                    0
    fc1                      fc 1000                      1000                1,281,000
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                     5,288,548
"""

import torch
from torch import nn


class DropPath(nn.Module):
    """Stochastic depth: while training, zero each sample's input with
    probability `p` and scale the rest by 1 / (1 - p); the identity in eval."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


class SE(nn.Module):
    """The `SE` block of the spec; its first use, `SE(in//4)` on 32x112x112 input, has 552
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, squeeze: int) -> None:
        super().__init__()
        self.pool1 = nn.AdaptiveAvgPool2d(1)
        self.conv1 = nn.Conv2d(in_channels, squeeze, kernel_size=1)
        self.silu1 = nn.SiLU()
        self.conv2 = nn.Conv2d(squeeze, in_channels, kernel_size=1)
        self.sigmoid1 = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.pool1(x)        # (B, in_channels, 1, 1)
        gate = self.conv1(gate)     # (B, squeeze, 1, 1)
        gate = self.silu1(gate)     # (B, squeeze, 1, 1)
        gate = self.conv2(gate)     # (B, in_channels, 1, 1)
        gate = self.sigmoid1(gate)  # (B, in_channels, 1, 1)
        x = x * gate                # (B, in_channels, H, W)
        return x


class MBConv1(nn.Module):
    """The `MBConv1` block of the spec; its first use, `MBConv1(16)` on 32x112x112 input, has
    1,448 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, in_channels, kernel_size=3, padding=1, groups=in_channels, bias=False,
        )
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.silu1 = nn.SiLU()
        self.se1 = SE(in_channels, squeeze=in_channels // 4)
        self.conv2 = nn.Conv2d(in_channels, c, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, in_channels, H, W)
        x = self.bn1(x)    # (B, in_channels, H, W)
        x = self.silu1(x)  # (B, in_channels, H, W)
        x = self.se1(x)    # (B, in_channels, H, W)
        x = self.conv2(x)  # (B, c, H, W)
        x = self.bn2(x)    # (B, c, H, W)
        return x


class MBConv(nn.Module):
    """The `MBConv` block of the spec; its first use, `MBConv(24, s=2)` on 16x112x112 input, has
    6,004 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int, k: int = 3, s: int = 1, t: int = 6) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, in_channels * t, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels * t)
        self.silu1 = nn.SiLU()
        self.conv2 = nn.Conv2d(
            in_channels * t, in_channels * t, kernel_size=k, stride=s, padding=k // 2,
            groups=in_channels * t, bias=False,
        )
        self.bn2 = nn.BatchNorm2d(in_channels * t)
        self.silu2 = nn.SiLU()
        self.se1 = SE(in_channels * t, squeeze=in_channels // 4)
        self.conv3 = nn.Conv2d(in_channels * t, c, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, in_channels * t, H, W)
        x = self.bn1(x)    # (B, in_channels * t, H, W)
        x = self.silu1(x)  # (B, in_channels * t, H, W)
        # (B, in_channels * t, (H + k // 2 * 2 - k) // s + 1, (W + k // 2 * 2 - k) // s + 1)
        x = self.conv2(x)
        # (B, in_channels * t, (H + k // 2 * 2 - k) // s + 1, (W + k // 2 * 2 - k) // s + 1)
        x = self.bn2(x)
        # (B, in_channels * t, (H + k // 2 * 2 - k) // s + 1, (W + k // 2 * 2 - k) // s + 1)
        x = self.silu2(x)
        # (B, in_channels * t, (H + k // 2 * 2 - k) // s + 1, (W + k // 2 * 2 - k) // s + 1)
        x = self.se1(x)
        x = self.conv3(x)  # (B, c, (H + k // 2 * 2 - k) // s + 1, (W + k // 2 * 2 - k) // s + 1)
        x = self.bn3(x)    # (B, c, (H + k // 2 * 2 - k) // s + 1, (W + k // 2 * 2 - k) // s + 1)
        return x


class Skip(nn.Module):
    """The `Skip` block of the spec; its first use, `Skip(3, sd*2)` on 24x56x56 input, has 10,710
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, k: int, p: float) -> None:
        super().__init__()
        self.mbconv1 = MBConv(in_channels, c=in_channels, k=k)
        self.droppath1 = DropPath(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        x = self.mbconv1(x)    # (B, in_channels, H + k // 2 * 2 - k + 1, W + k // 2 * 2 - k + 1)
        x = self.droppath1(x)  # (B, in_channels, H + k // 2 * 2 - k + 1, W + k // 2 * 2 - k + 1)
        x = x + identity       # (B, in_channels, H + k // 2 * 2 - k + 1, W + k // 2 * 2 - k + 1)
        return x


class EfficientNetB0(nn.Module):
    """EfficientNetB0: 3x224x224 -> 1000, 5,288,548 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.silu1 = nn.SiLU()
        self.mbconv1_1 = MBConv1(32, c=16)
        self.mbconv1 = MBConv(16, c=24, s=2)
        self.skip1 = Skip(24, k=3, p=0.025)
        self.mbconv2 = MBConv(24, c=40, k=5, s=2)
        self.skip2 = Skip(40, k=5, p=0.05)
        self.mbconv3 = MBConv(40, c=80, s=2)
        self.skip3 = Skip(80, k=3, p=0.075)
        self.skip4 = Skip(80, k=3, p=0.0875)
        self.mbconv4 = MBConv(80, c=112, k=5)
        self.skip5 = Skip(112, k=5, p=0.1125)
        self.skip6 = Skip(112, k=5, p=0.125)
        self.mbconv5 = MBConv(112, c=192, k=5, s=2)
        self.skip7 = Skip(192, k=5, p=0.15)
        self.skip8 = Skip(192, k=5, p=0.1625)
        self.skip9 = Skip(192, k=5, p=0.175)
        self.mbconv6 = MBConv(192, c=320)
        self.conv2 = nn.Conv2d(320, 1280, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(1280)
        self.silu2 = nn.SiLU()
        self.pool1 = nn.AdaptiveAvgPool2d(1)
        self.dropout1 = nn.Dropout(p=0.2)
        self.fc1 = nn.Linear(1280, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)      # (B, 32, 112, 112)
        x = self.bn1(x)        # (B, 32, 112, 112)
        x = self.silu1(x)      # (B, 32, 112, 112)  32x112x112
        x = self.mbconv1_1(x)  # (B, 16, 112, 112)  16x112x112
        x = self.mbconv1(x)    # (B, 24, 56, 56)
        x = self.skip1(x)      # (B, 24, 56, 56)  24x56x56
        x = self.mbconv2(x)    # (B, 40, 28, 28)
        x = self.skip2(x)      # (B, 40, 28, 28)  40x28x28
        x = self.mbconv3(x)    # (B, 80, 14, 14)
        x = self.skip3(x)      # (B, 80, 14, 14)
        x = self.skip4(x)      # (B, 80, 14, 14)  80x14x14
        x = self.mbconv4(x)    # (B, 112, 14, 14)
        x = self.skip5(x)      # (B, 112, 14, 14)
        x = self.skip6(x)      # (B, 112, 14, 14)  112x14x14
        x = self.mbconv5(x)    # (B, 192, 7, 7)
        x = self.skip7(x)      # (B, 192, 7, 7)
        x = self.skip8(x)      # (B, 192, 7, 7)
        x = self.skip9(x)      # (B, 192, 7, 7)  192x7x7
        x = self.mbconv6(x)    # (B, 320, 7, 7)  320x7x7
        x = self.conv2(x)      # (B, 1280, 7, 7)
        x = self.bn2(x)        # (B, 1280, 7, 7)
        x = self.silu2(x)      # (B, 1280, 7, 7)
        x = self.pool1(x)      # (B, 1280, 1, 1)
        x = self.dropout1(x)   # (B, 1280, 1, 1)
        x = x.flatten(1)       # (B, 1280)
        x = self.fc1(x)        # (B, 1000)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "efficientnet_b0.cnn"
SPEC = (
    "# EfficientNet-B0 (Tan & Le, 2019), as torchvision builds it\n"
    "# (torchvision/models/efficientnet.py): 5,288,548 parameters.\n"
    "# Twin: tests/twins/efficientnet.py.\n"
    "model EfficientNetB0\n"
    "input 3x224x224\n"
    "\n"
    "# Stochastic depth: block i of 16 drops its branch with probability 0.2 * i / "
    "16.\n"
    "let sd = 0.0125\n"
    "\n"
    "# squeeze-and-excitation: pool, squeeze to `squeeze` channels, excite back to "
    "the input's\n"
    "block SE(squeeze) { gate(gap -> conv squeeze k1 -> silu -> conv in k1 -> sigmo"
    "id) }\n"
    "\n"
    "# expand 1x1 -> depthwise kxk -> SE (to a quarter of the block's input) -> pro"
    "ject 1x1\n"
    "block MBConv(c, k=3, s=1, t=6) {\n"
    "    conv in*t k1 nobias -> bn -> silu\n"
    "    -> conv in*t kernel=k stride=s padding=k//2 groups=in*t nobias -> bn -> si"
    "lu\n"
    "    -> SE(in//4) -> conv c k1 nobias -> bn\n"
    "}\n"
    "# stage 1 expands by 1, so it has no expansion conv\n"
    "block MBConv1(c) {\n"
    "    conv in k3 p1 groups=in nobias -> bn -> silu\n"
    "    -> SE(in//4) -> conv c k1 nobias -> bn\n"
    "}\n"
    "# a block that keeps the width at stride 1 adds its input, after stochastic de"
    "pth\n"
    "block Skip(k, p) { residual(MBConv(in, k=k) -> droppath p) }\n"
    "\n"
    "conv 32 k3 s2 p1 nobias -> bn -> silu                                   # 32x1"
    "12x112\n"
    "-> MBConv1(16)                                                          # 16x1"
    "12x112\n"
    "-> MBConv(24, s=2) -> Skip(3, sd*2)                                     # 24x5"
    "6x56\n"
    "-> MBConv(40, k=5, s=2) -> Skip(5, sd*4)                                # 40x2"
    "8x28\n"
    "-> MBConv(80, s=2) -> Skip(3, sd*6) -> Skip(3, sd*7)                    # 80x1"
    "4x14\n"
    "-> MBConv(112, k=5) -> Skip(5, sd*9) -> Skip(5, sd*10)                  # 112x"
    "14x14\n"
    "-> MBConv(192, k=5, s=2) -> Skip(5, sd*12) -> Skip(5, sd*13) -> Skip(5, sd*14)"
    "  # 192x7x7\n"
    "-> MBConv(320)                                                          # 320x"
    "7x7\n"
    "-> conv 1280 k1 nobias -> bn -> silu\n"
    "-> gap -> dropout 0.2 -> fc 1000\n"
    "\n"
    "assert params == 5288548\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(EfficientNetB0, SPEC_PATH, SPEC))
