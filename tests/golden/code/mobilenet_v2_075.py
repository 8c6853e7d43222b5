"""MobileNetV2: compiled by cnndsl 0.1.0 from mobilenet_v2_075.cnn.

Edit the spec, not this file: `cnndsl compile mobilenet_v2_075.cnn` writes it again.

Input 3x224x224 -> output 1000; 2,636,424 parameters; 209.07M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv divisible(32 * w, 8) k… 24x112x112                648
    bn1                      bn                           24x112x112                 48
    relu6_1                  relu6                        24x112x112                  0
    stage1                   Stage(16, 1, 1, 1)           16x112x112                680
    stage2                   Stage(24, 6, 2, 2)           24x56x56               13,968
    stage3                   Stage(32, 6, 3, 2)           24x28x28               26,496
    stage4                   Stage(64, 6, 4, 2)           48x14x14              106,800
    stage5                   Stage(96, 6, 3, 1)           72x14x14              174,384
    stage6                   Stage(160, 6, 3, 2)          120x7x7               453,600
    stage7                   Stage(320, 6, 1, 1)          240x7x7               269,040
    conv2                    conv divisible(1280 * max(1… 1280x7x7              307,200
    bn2                      bn                           1280x7x7                2,560
    relu6_2                  relu6                        1280x7x7                    0
    pool1                    gap                          1280x1x1                    0
    dropout1                 dropout 0.2                  1280x1x1                    0
    fc1                      fc 1000                      1000                1,281,000
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                     2,636,424
"""

import torch
from torch import nn


class Inverted(nn.Module):
    """The `Inverted` block of the spec; its first use, `Inverted(c, t, s=s)` on 24x112x112
    input, has 680 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int, t: int, s: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, in_channels * t, kernel_size=3, stride=s, padding=1,
            groups=in_channels * t, bias=False,
        )
        self.bn1 = nn.BatchNorm2d(in_channels * t)
        self.relu6_1 = nn.ReLU6()
        self.conv2 = nn.Conv2d(in_channels * t, c, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)    # (B, in_channels * t, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.bn1(x)      # (B, in_channels * t, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.relu6_1(x)  # (B, in_channels * t, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.conv2(x)    # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.bn2(x)      # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class IR(nn.Module):
    """The `IR` block of the spec; its first use, `IR(divisible(c * w, 8), t, s=s)` on 24x112x112
    input, has 680 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int, t: int, s: int = 1) -> None:
        super().__init__()
        self.inverted1 = Inverted(in_channels, c=c, t=t, s=s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.inverted1(x)  # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class Stage(nn.Module):
    """The `Stage` block of the spec; its first use, `Stage(16, 1, 1, 1)` on 24x112x112 input,
    has 680 parameters.

    Built for c=16, n=1 (another value gets another class).
    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, t: int, s: int) -> None:
        super().__init__()
        self.ir1 = IR(in_channels, c=16, t=t, s=s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ir1(x)  # (B, 16, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class Inverted2(nn.Module):
    """The `Inverted` block of the spec; its first use, `Inverted(c, t, s=s)` on 16x112x112
    input, has 5,136 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int, t: int, s: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, in_channels * t, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels * t)
        self.relu6_1 = nn.ReLU6()
        self.conv2 = nn.Conv2d(
            in_channels * t, in_channels * t, kernel_size=3, stride=s, padding=1,
            groups=in_channels * t, bias=False,
        )
        self.bn2 = nn.BatchNorm2d(in_channels * t)
        self.relu6_2 = nn.ReLU6()
        self.conv3 = nn.Conv2d(in_channels * t, c, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)    # (B, in_channels * t, H, W)
        x = self.bn1(x)      # (B, in_channels * t, H, W)
        x = self.relu6_1(x)  # (B, in_channels * t, H, W)
        x = self.conv2(x)    # (B, in_channels * t, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.bn2(x)      # (B, in_channels * t, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.relu6_2(x)  # (B, in_channels * t, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.conv3(x)    # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.bn3(x)      # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class IR2(nn.Module):
    """The `IR` block of the spec; its first use, `IR(divisible(c * w, 8), t, s=s)` on 16x112x112
    input, has 5,136 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int, t: int, s: int = 1) -> None:
        super().__init__()
        self.inverted1 = Inverted2(in_channels, c=c, t=t, s=s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.inverted1(x)  # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class IR3(nn.Module):
    """The `IR` block of the spec; its first use, `IR(divisible(c * w, 8), t)` on 24x56x56 input,
    has 8,832 parameters.

    Built for s=1 (another value gets another class).
    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int, t: int) -> None:
        super().__init__()
        self.inverted1 = Inverted2(in_channels, c=c, t=t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        x = self.inverted1(x)  # (B, c, H, W)
        x = x + identity       # (B, c, H, W)
        return x


class Stage2(nn.Module):
    """The `Stage` block of the spec; its first use, `Stage(24, 6, 2, 2)` on 16x112x112 input,
    has 13,968 parameters.

    Built for c=24, n=2 (another value gets another class).
    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, t: int, s: int) -> None:
        super().__init__()
        self.ir1 = IR2(in_channels, c=24, t=t, s=s)
        self.ir2 = IR3(24, c=24, t=t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ir1(x)  # (B, 24, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.ir2(x)  # (B, 24, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class Stage3(nn.Module):
    """The `Stage` block of the spec; its first use, `Stage(32, 6, 3, 2)` on 24x56x56 input, has
    26,496 parameters.

    Built for c=32, n=3 (another value gets another class).
    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, t: int, s: int) -> None:
        super().__init__()
        self.ir1 = IR2(in_channels, c=24, t=t, s=s)
        self.ir2 = IR3(24, c=24, t=t)
        self.ir3 = IR3(24, c=24, t=t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ir1(x)  # (B, 24, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.ir2(x)  # (B, 24, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.ir3(x)  # (B, 24, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class Stage4(nn.Module):
    """The `Stage` block of the spec; its first use, `Stage(64, 6, 4, 2)` on 24x28x28 input, has
    106,800 parameters.

    Built for c=64, n=4 (another value gets another class).
    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, t: int, s: int) -> None:
        super().__init__()
        self.ir1 = IR2(in_channels, c=48, t=t, s=s)
        self.ir2 = IR3(48, c=48, t=t)
        self.ir3 = IR3(48, c=48, t=t)
        self.ir4 = IR3(48, c=48, t=t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ir1(x)  # (B, 48, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.ir2(x)  # (B, 48, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.ir3(x)  # (B, 48, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.ir4(x)  # (B, 48, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class Stage5(nn.Module):
    """The `Stage` block of the spec; its first use, `Stage(96, 6, 3, 1)` on 48x14x14 input, has
    174,384 parameters.

    Built for c=96, n=3 (another value gets another class).
    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, t: int, s: int) -> None:
        super().__init__()
        self.ir1 = IR2(in_channels, c=72, t=t, s=s)
        self.ir2 = IR3(72, c=72, t=t)
        self.ir3 = IR3(72, c=72, t=t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ir1(x)  # (B, 72, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.ir2(x)  # (B, 72, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.ir3(x)  # (B, 72, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class Stage6(nn.Module):
    """The `Stage` block of the spec; its first use, `Stage(160, 6, 3, 2)` on 72x14x14 input, has
    453,600 parameters.

    Built for c=160, n=3 (another value gets another class).
    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, t: int, s: int) -> None:
        super().__init__()
        self.ir1 = IR2(in_channels, c=120, t=t, s=s)
        self.ir2 = IR3(120, c=120, t=t)
        self.ir3 = IR3(120, c=120, t=t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ir1(x)  # (B, 120, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.ir2(x)  # (B, 120, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.ir3(x)  # (B, 120, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class Stage7(nn.Module):
    """The `Stage` block of the spec; its first use, `Stage(320, 6, 1, 1)` on 120x7x7 input, has
    269,040 parameters.

    Built for c=320, n=1 (another value gets another class).
    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, t: int, s: int) -> None:
        super().__init__()
        self.ir1 = IR2(in_channels, c=240, t=t, s=s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ir1(x)  # (B, 240, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class MobileNetV2(nn.Module):
    """MobileNetV2: 3x224x224 -> 1000, 2,636,424 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.relu6_1 = nn.ReLU6()
        self.stage1 = Stage(24, t=1, s=1)
        self.stage2 = Stage2(16, t=6, s=2)
        self.stage3 = Stage3(24, t=6, s=2)
        self.stage4 = Stage4(24, t=6, s=2)
        self.stage5 = Stage5(48, t=6, s=1)
        self.stage6 = Stage6(72, t=6, s=2)
        self.stage7 = Stage7(120, t=6, s=1)
        self.conv2 = nn.Conv2d(240, 1280, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(1280)
        self.relu6_2 = nn.ReLU6()
        self.pool1 = nn.AdaptiveAvgPool2d(1)
        self.dropout1 = nn.Dropout(p=0.2)
        self.fc1 = nn.Linear(1280, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)     # (B, 24, 112, 112)
        x = self.bn1(x)       # (B, 24, 112, 112)
        x = self.relu6_1(x)   # (B, 24, 112, 112)
        x = self.stage1(x)    # (B, 16, 112, 112)
        x = self.stage2(x)    # (B, 24, 56, 56)
        x = self.stage3(x)    # (B, 24, 28, 28)
        x = self.stage4(x)    # (B, 48, 14, 14)
        x = self.stage5(x)    # (B, 72, 14, 14)
        x = self.stage6(x)    # (B, 120, 7, 7)
        x = self.stage7(x)    # (B, 240, 7, 7)
        x = self.conv2(x)     # (B, 1280, 7, 7)
        x = self.bn2(x)       # (B, 1280, 7, 7)
        x = self.relu6_2(x)   # (B, 1280, 7, 7)
        x = self.pool1(x)     # (B, 1280, 1, 1)
        x = self.dropout1(x)  # (B, 1280, 1, 1)
        x = x.flatten(1)      # (B, 1280)
        x = self.fc1(x)       # (B, 1000)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "mobilenet_v2_075.cnn"
SPEC = (
    "# MobileNetV2 at width 0.75 (torchvision: 2,636,424 parameters): widths by `di"
    "visible`,\n"
    "# the residual where the shape is kept, the expansion only where t != 1.\n"
    "model MobileNetV2\n"
    "input 3x224x224\n"
    "let w = 0.75\n"
    "\n"
    "block Inverted(c, t, s=1) {\n"
    "  if t != 1 { conv in*t k1 nobias -> bn -> relu6 }\n"
    "  -> conv in*t k3 stride=s p1 groups=in*t nobias -> bn -> relu6\n"
    "  -> conv c k1 nobias -> bn\n"
    "}\n"
    "block IR(c, t, s=1) {\n"
    "  if s == 1 and in == c { residual(Inverted(c, t)) } else { Inverted(c, t, s=s"
    ") }\n"
    "}\n"
    "block Stage(c, t, n, s) {\n"
    "  IR(divisible(c * w, 8), t, s=s) -> IR(divisible(c * w, 8), t) * (n - 1)\n"
    "}\n"
    "\n"
    "conv divisible(32 * w, 8) k3 s2 p1 nobias -> bn -> relu6\n"
    "-> Stage(16, 1, 1, 1) -> Stage(24, 6, 2, 2) -> Stage(32, 6, 3, 2) -> Stage(64,"
    " 6, 4, 2)\n"
    "-> Stage(96, 6, 3, 1) -> Stage(160, 6, 3, 2) -> Stage(320, 6, 1, 1)\n"
    "-> conv divisible(1280 * max(1.0, w), 8) k1 nobias -> bn -> relu6\n"
    "-> gap -> dropout 0.2 -> fc 1000\n"
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
