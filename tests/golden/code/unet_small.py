"""UNet: compiled by cnndsl 0.1.0 from unet_small.cnn.

Edit the spec, not this file: `cnndsl compile unet_small.cnn` writes it again.

Input 1x64x64 -> output 2x64x64; 466,626 parameters; 395.91M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    e1                       Double(32)                   32x64x64                9,632
    pool1                    maxpool 2                    32x32x32                    0
    e2                       Double(64)                   64x32x32               55,552
    pool2                    maxpool 2                    64x16x16                    0
    double3                  Double(128)                  128x16x16             221,696
    convt1                   convt 64 k2 s2               64x32x32               32,832
    concat1                  concat                       128x32x32                   0
    double4                  Double(64)                   64x32x32              110,848
    convt2                   convt 32 k2 s2               32x64x64                8,224
    concat2                  concat                       64x64x64                    0
    double5                  Double(32)                   32x64x64               27,776
    conv1                    conv 2 k1                    2x64x64                    66
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                       466,626
"""

import torch
from torch import nn


class Double(nn.Module):
    """The `Double` block of the spec; its first use, `Double(32)` on 1x64x64 input, has 9,632
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, c, H, W)
        x = self.bn1(x)    # (B, c, H, W)
        x = self.relu1(x)  # (B, c, H, W)
        x = self.conv2(x)  # (B, c, H, W)
        x = self.bn2(x)    # (B, c, H, W)
        x = self.relu2(x)  # (B, c, H, W)
        return x


class UNet(nn.Module):
    """UNet: 1x64x64 -> 2x64x64, 466,626 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.e1 = Double(1, c=32)
        self.pool1 = nn.MaxPool2d(2)
        self.e2 = Double(32, c=64)
        self.pool2 = nn.MaxPool2d(2)
        self.double3 = Double(64, c=128)
        self.convt1 = nn.ConvTranspose2d(128, 64, kernel_size=2, stride=2)
        self.double4 = Double(128, c=64)
        self.convt2 = nn.ConvTranspose2d(64, 32, kernel_size=2, stride=2)
        self.double5 = Double(64, c=32)
        self.conv1 = nn.Conv2d(32, 2, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.e1(x)                # (B, 32, 64, 64)
        x = self.pool1(e1)             # (B, 32, 32, 32)  32x32x32
        e2 = self.e2(x)                # (B, 64, 32, 32)
        x = self.pool2(e2)             # (B, 64, 16, 16)  64x16x16
        x = self.double3(x)            # (B, 128, 16, 16)  128x16x16
        x = self.convt1(x)             # (B, 64, 32, 32)
        x = torch.cat([e2, x], dim=1)  # (B, 128, 32, 32)
        x = self.double4(x)            # (B, 64, 32, 32)  64x32x32
        x = self.convt2(x)             # (B, 32, 64, 64)
        x = torch.cat([e1, x], dim=1)  # (B, 64, 64, 64)
        x = self.double5(x)            # (B, 32, 64, 64)  32x64x64
        x = self.conv1(x)              # (B, 2, 64, 64)  2x64x64
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "unet_small.cnn"
SPEC = (
    "# A small U-Net (Ronneberger et al., 2015): LANGUAGE.md's example, two levels "
    "down and\n"
    "# two up, skips concatenated by label; 466,626 parameters. Twin: tests/twins/u"
    "net.py.\n"
    "model UNet\n"
    "input 1x64x64\n"
    "\n"
    "block Double(c) { conv c k3 p1 nobias -> bn -> relu -> conv c k3 p1 nobias -> "
    "bn -> relu }\n"
    "\n"
    "Double(32) as e1 -> maxpool 2                               # 32x32x32\n"
    "-> Double(64) as e2 -> maxpool 2                            # 64x16x16\n"
    "-> Double(128)                                              # 128x16x16\n"
    "-> convt 64 k2 s2 -> concat(@e2, identity) -> Double(64)    # 64x32x32\n"
    "-> convt 32 k2 s2 -> concat(@e1, identity) -> Double(32)    # 32x64x64\n"
    "-> conv 2 k1                                                # 2x64x64\n"
    "\n"
    "assert params == 466626\n"
    "assert output == 2x64x64\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(UNet, SPEC_PATH, SPEC))
