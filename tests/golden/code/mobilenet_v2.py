"""MobileNetV2: compiled by cnndsl 0.1.0 from mobilenet_v2.cnn.

Edit the spec, not this file: `cnndsl compile mobilenet_v2.cnn` writes it again.

Input 3x224x224 -> output 1000; 3,504,872 parameters; 300.78M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 32 k3 s2 p1 nobias      32x112x112                864
    bn1                      bn                           32x112x112                 64
    relu6_1                  relu6                        32x112x112                  0
    conv2                    conv 32 k3 p1 g32 nobias     32x112x112                288
    bn2                      bn                           32x112x112                 64
    relu6_2                  relu6                        32x112x112                  0
    conv3                    conv 16 k1 nobias            16x112x112                512
    bn3                      bn                           16x112x112                 32
    inverted1                Inverted(16, 24, s=2)        24x56x56                5,136
    skip1                    Skip(24)                     24x56x56                8,832
    inverted2                Inverted(24, 32, s=2)        32x28x28               10,000
    skip2                    Skip(32)                     32x28x28               14,848
    skip3                    Skip(32)                     32x28x28               14,848
    inverted3                Inverted(32, 64, s=2)        64x14x14               21,056
    skip4                    Skip(64)                     64x14x14               54,272
    skip5                    Skip(64)                     64x14x14               54,272
    skip6                    Skip(64)                     64x14x14               54,272
    inverted4                Inverted(64, 96)             96x14x14               66,624
    skip7                    Skip(96)                     96x14x14              118,272
    skip8                    Skip(96)                     96x14x14              118,272
    inverted5                Inverted(96, 160, s=2)       160x7x7               155,264
    skip9                    Skip(160)                    160x7x7               320,000
    skip10                   Skip(160)                    160x7x7               320,000
    inverted6                Inverted(160, 320)           320x7x7               473,920
    conv4                    conv 1280 k1 nobias          1280x7x7              409,600
    bn4                      bn                           1280x7x7                2,560
    relu6_3                  relu6                        1280x7x7                    0
    pool1                    gap                          1280x1x1                    0
    dropout1                 dropout 0.2                  1280x1x1                    0
    fc1                      fc 1000                      1000                1,281,000
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                     3,504,872
"""

import torch
from torch import nn


class Inverted(nn.Module):
    """The `Inverted` block of the spec; its first use, `Inverted(16, 24, s=2)` on 16x112x112
    input, has 5,136 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, cin: int, c: int, s: int = 1, t: int = 6) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, cin * t, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cin * t)
        self.relu6_1 = nn.ReLU6()
        self.conv2 = nn.Conv2d(
            cin * t, cin * t, kernel_size=3, stride=s, padding=1, groups=cin * t, bias=False,
        )
        self.bn2 = nn.BatchNorm2d(cin * t)
        self.relu6_2 = nn.ReLU6()
        self.conv3 = nn.Conv2d(cin * t, c, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)    # (B, cin * t, H, W)
        x = self.bn1(x)      # (B, cin * t, H, W)
        x = self.relu6_1(x)  # (B, cin * t, H, W)
        x = self.conv2(x)    # (B, cin * t, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.bn2(x)      # (B, cin * t, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.relu6_2(x)  # (B, cin * t, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.conv3(x)    # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.bn3(x)      # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class Skip(nn.Module):
    """The `Skip` block of the spec; its first use, `Skip(24)` on 24x56x56 input, has 8,832
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.inverted1 = Inverted(in_channels, cin=c, c=c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        x = self.inverted1(x)  # (B, c, H, W)
        x = x + identity       # (B, c, H, W)
        return x


class MobileNetV2(nn.Module):
    """MobileNetV2: 3x224x224 -> 1000, 3,504,872 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu6_1 = nn.ReLU6()
        self.conv2 = nn.Conv2d(32, 32, kernel_size=3, padding=1, groups=32, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.relu6_2 = nn.ReLU6()
        self.conv3 = nn.Conv2d(32, 16, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(16)
        self.inverted1 = Inverted(16, cin=16, c=24, s=2)
        self.skip1 = Skip(24, c=24)
        self.inverted2 = Inverted(24, cin=24, c=32, s=2)
        self.skip2 = Skip(32, c=32)
        self.skip3 = Skip(32, c=32)
        self.inverted3 = Inverted(32, cin=32, c=64, s=2)
        self.skip4 = Skip(64, c=64)
        self.skip5 = Skip(64, c=64)
        self.skip6 = Skip(64, c=64)
        self.inverted4 = Inverted(64, cin=64, c=96)
        self.skip7 = Skip(96, c=96)
        self.skip8 = Skip(96, c=96)
        self.inverted5 = Inverted(96, cin=96, c=160, s=2)
        self.skip9 = Skip(160, c=160)
        self.skip10 = Skip(160, c=160)
        self.inverted6 = Inverted(160, cin=160, c=320)
        self.conv4 = nn.Conv2d(320, 1280, kernel_size=1, bias=False)
        self.bn4 = nn.BatchNorm2d(1280)
        self.relu6_3 = nn.ReLU6()
        self.pool1 = nn.AdaptiveAvgPool2d(1)
        self.dropout1 = nn.Dropout(p=0.2)
        self.fc1 = nn.Linear(1280, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)      # (B, 32, 112, 112)
        x = self.bn1(x)        # (B, 32, 112, 112)
        x = self.relu6_1(x)    # (B, 32, 112, 112)
        x = self.conv2(x)      # (B, 32, 112, 112)
        x = self.bn2(x)        # (B, 32, 112, 112)
        x = self.relu6_2(x)    # (B, 32, 112, 112)
        x = self.conv3(x)      # (B, 16, 112, 112)
        x = self.bn3(x)        # (B, 16, 112, 112)
        x = self.inverted1(x)  # (B, 24, 56, 56)
        x = self.skip1(x)      # (B, 24, 56, 56)
        x = self.inverted2(x)  # (B, 32, 28, 28)
        x = self.skip2(x)      # (B, 32, 28, 28)
        x = self.skip3(x)      # (B, 32, 28, 28)
        x = self.inverted3(x)  # (B, 64, 14, 14)
        x = self.skip4(x)      # (B, 64, 14, 14)
        x = self.skip5(x)      # (B, 64, 14, 14)
        x = self.skip6(x)      # (B, 64, 14, 14)
        x = self.inverted4(x)  # (B, 96, 14, 14)
        x = self.skip7(x)      # (B, 96, 14, 14)
        x = self.skip8(x)      # (B, 96, 14, 14)
        x = self.inverted5(x)  # (B, 160, 7, 7)
        x = self.skip9(x)      # (B, 160, 7, 7)
        x = self.skip10(x)     # (B, 160, 7, 7)
        x = self.inverted6(x)  # (B, 320, 7, 7)
        x = self.conv4(x)      # (B, 1280, 7, 7)
        x = self.bn4(x)        # (B, 1280, 7, 7)
        x = self.relu6_3(x)    # (B, 1280, 7, 7)
        x = self.pool1(x)      # (B, 1280, 1, 1)
        x = self.dropout1(x)   # (B, 1280, 1, 1)
        x = x.flatten(1)       # (B, 1280)
        x = self.fc1(x)        # (B, 1000)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "mobilenet_v2.cnn"
SPEC = (
    "# MobileNetV2, as torchvision builds it: inverted residuals with depthwise\n"
    "# convolutions; 3,504,872 parameters, 0.30 G multiply-adds.\n"
    "model MobileNetV2\n"
    "input 3x224x224\n"
    "\n"
    "# expand 1x1 -> depthwise 3x3 -> project 1x1 (linear bottleneck)\n"
    "block Inverted(cin, c, s=1, t=6) {\n"
    "    conv cin*t k1 nobias -> bn -> relu6\n"
    "    -> conv cin*t k3 stride=s p1 groups=cin*t nobias -> bn -> relu6\n"
    "    -> conv c k1 nobias -> bn\n"
    "}\n"
    "block Skip(c) {\n"
    "    residual(Inverted(c, c))\n"
    "}\n"
    "\n"
    "conv 32 k3 s2 p1 nobias -> bn -> relu6\n"
    "-> conv 32 k3 p1 g32 nobias -> bn -> relu6 -> conv 16 k1 nobias -> bn\n"
    "-> Inverted(16, 24, s=2) -> Skip(24)\n"
    "-> Inverted(24, 32, s=2) -> Skip(32) * 2\n"
    "-> Inverted(32, 64, s=2) -> Skip(64) * 3\n"
    "-> Inverted(64, 96) -> Skip(96) * 2\n"
    "-> Inverted(96, 160, s=2) -> Skip(160) * 2\n"
    "-> Inverted(160, 320)\n"
    "-> conv 1280 k1 nobias -> bn -> relu6\n"
    "-> gap -> dropout 0.2 -> fc 1000\n"
    "\n"
    "assert params == 3504872\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(MobileNetV2, SPEC_PATH, SPEC))
