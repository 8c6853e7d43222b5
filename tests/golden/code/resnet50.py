"""ResNet50: compiled by cnndsl 0.1.0 from resnet50.cnn.

Edit the spec, not this file: `cnndsl compile resnet50.cnn` writes it again.

Input 3x224x224 -> output 1000; 25,557,032 parameters; 4.09G multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 64 k7 s2 p3 nobias      64x112x112              9,408
    bn1                      bn                           64x112x112                128
    relu1                    relu                         64x112x112                  0
    pool1                    maxpool 3 s2 p1              64x56x56                    0
    down1                    Down(64, s=1)                256x56x56              75,008
    bottleneck1              Bottleneck(64)               256x56x56              70,400
    bottleneck2              Bottleneck(64)               256x56x56              70,400
    down2                    Down(128)                    512x28x28             379,392
    bottleneck3              Bottleneck(128)              512x28x28             280,064
    bottleneck4              Bottleneck(128)              512x28x28             280,064
    bottleneck5              Bottleneck(128)              512x28x28             280,064
    down3                    Down(256)                    1024x14x14          1,512,448
    bottleneck6              Bottleneck(256)              1024x14x14          1,117,184
    bottleneck7              Bottleneck(256)              1024x14x14          1,117,184
    bottleneck8              Bottleneck(256)              1024x14x14          1,117,184
    bottleneck9              Bottleneck(256)              1024x14x14          1,117,184
    bottleneck10             Bottleneck(256)              1024x14x14          1,117,184
    down4                    Down(512)                    2048x7x7            6,039,552
    bottleneck11             Bottleneck(512)              2048x7x7            4,462,592
    bottleneck12             Bottleneck(512)              2048x7x7            4,462,592
    pool2                    gap                          2048x1x1                    0
    fc1                      fc 1000                      1000                2,049,000
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                    25,557,032
"""

import torch
from torch import nn


class Down(nn.Module):
    """The `Down` block of the spec; its first use, `Down(64, s=1)` on 64x56x56 input, has 75,008
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int, s: int = 2) -> None:
        super().__init__()
        self.branch1_conv1 = nn.Conv2d(in_channels, c, kernel_size=1, bias=False)
        self.branch1_bn1 = nn.BatchNorm2d(c)
        self.branch1_relu1 = nn.ReLU()
        self.branch1_conv2 = nn.Conv2d(c, c, kernel_size=3, stride=s, padding=1, bias=False)
        self.branch1_bn2 = nn.BatchNorm2d(c)
        self.branch1_relu2 = nn.ReLU()
        self.branch1_conv3 = nn.Conv2d(c, c * 4, kernel_size=1, bias=False)
        self.branch1_bn3 = nn.BatchNorm2d(c * 4)
        self.branch2_conv1 = nn.Conv2d(in_channels, c * 4, kernel_size=1, stride=s, bias=False)
        self.branch2_bn1 = nn.BatchNorm2d(c * 4)
        self.relu1 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1_conv1(x)        # (B, c, H, W)
        branch1 = self.branch1_bn1(branch1)    # (B, c, H, W)
        branch1 = self.branch1_relu1(branch1)  # (B, c, H, W)
        branch1 = self.branch1_conv2(branch1)  # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        branch1 = self.branch1_bn2(branch1)    # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        branch1 = self.branch1_relu2(branch1)  # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        branch1 = self.branch1_conv3(branch1)  # (B, c * 4, (H - 1) // s + 1, (W - 1) // s + 1)
        branch1 = self.branch1_bn3(branch1)    # (B, c * 4, (H - 1) // s + 1, (W - 1) // s + 1)
        branch2 = self.branch2_conv1(x)        # (B, c * 4, (H - 1) // s + 1, (W - 1) // s + 1)
        branch2 = self.branch2_bn1(branch2)    # (B, c * 4, (H - 1) // s + 1, (W - 1) // s + 1)
        x = branch1 + branch2                  # (B, c * 4, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.relu1(x)                      # (B, c * 4, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class Bottleneck(nn.Module):
    """The `Bottleneck` block of the spec; its first use, `Bottleneck(64)` on 256x56x56 input,
    has 70,400 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(c, c * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c * 4)
        self.relu3 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        x = self.conv1(x)  # (B, c, H, W)
        x = self.bn1(x)    # (B, c, H, W)
        x = self.relu1(x)  # (B, c, H, W)
        x = self.conv2(x)  # (B, c, H, W)
        x = self.bn2(x)    # (B, c, H, W)
        x = self.relu2(x)  # (B, c, H, W)
        x = self.conv3(x)  # (B, c * 4, H, W)
        x = self.bn3(x)    # (B, c * 4, H, W)
        x = x + identity   # (B, c * 4, H, W)
        x = self.relu3(x)  # (B, c * 4, H, W)
        return x


class ResNet50(nn.Module):
    """ResNet50: 3x224x224 -> 1000, 25,557,032 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.down1 = Down(64, c=64, s=1)
        self.bottleneck1 = Bottleneck(256, c=64)
        self.bottleneck2 = Bottleneck(256, c=64)
        self.down2 = Down(256, c=128)
        self.bottleneck3 = Bottleneck(512, c=128)
        self.bottleneck4 = Bottleneck(512, c=128)
        self.bottleneck5 = Bottleneck(512, c=128)
        self.down3 = Down(512, c=256)
        self.bottleneck6 = Bottleneck(1024, c=256)
        self.bottleneck7 = Bottleneck(1024, c=256)
        self.bottleneck8 = Bottleneck(1024, c=256)
        self.bottleneck9 = Bottleneck(1024, c=256)
        self.bottleneck10 = Bottleneck(1024, c=256)
        self.down4 = Down(1024, c=512)
        self.bottleneck11 = Bottleneck(2048, c=512)
        self.bottleneck12 = Bottleneck(2048, c=512)
        self.pool2 = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(2048, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)         # (B, 64, 112, 112)
        x = self.bn1(x)           # (B, 64, 112, 112)
        x = self.relu1(x)         # (B, 64, 112, 112)
        x = self.pool1(x)         # (B, 64, 56, 56)
        x = self.down1(x)         # (B, 256, 56, 56)
        x = self.bottleneck1(x)   # (B, 256, 56, 56)
        x = self.bottleneck2(x)   # (B, 256, 56, 56)
        x = self.down2(x)         # (B, 512, 28, 28)
        x = self.bottleneck3(x)   # (B, 512, 28, 28)
        x = self.bottleneck4(x)   # (B, 512, 28, 28)
        x = self.bottleneck5(x)   # (B, 512, 28, 28)
        x = self.down3(x)         # (B, 1024, 14, 14)
        x = self.bottleneck6(x)   # (B, 1024, 14, 14)
        x = self.bottleneck7(x)   # (B, 1024, 14, 14)
        x = self.bottleneck8(x)   # (B, 1024, 14, 14)
        x = self.bottleneck9(x)   # (B, 1024, 14, 14)
        x = self.bottleneck10(x)  # (B, 1024, 14, 14)
        x = self.down4(x)         # (B, 2048, 7, 7)
        x = self.bottleneck11(x)  # (B, 2048, 7, 7)
        x = self.bottleneck12(x)  # (B, 2048, 7, 7)
        x = self.pool2(x)         # (B, 2048, 1, 1)
        x = x.flatten(1)          # (B, 2048)
        x = self.fc1(x)           # (B, 1000)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "resnet50.cnn"
SPEC = (
    "# ResNet-50 (v1.5: stride on the 3x3 convolution), as torchvision builds it:\n"
    "# 25,557,032 parameters, 4.09 G multiply-adds.\n"
    "model ResNet50\n"
    "input 3x224x224\n"
    "\n"
    "block Bottleneck(c) {\n"
    "    residual(\n"
    "        conv c k1 nobias -> bn -> relu\n"
    "        -> conv c k3 p1 nobias -> bn -> relu\n"
    "        -> conv c*4 k1 nobias -> bn\n"
    "    ) -> relu\n"
    "}\n"
    "block Down(c, s=2) {\n"
    "    add(\n"
    "        conv c k1 nobias -> bn -> relu\n"
    "        -> conv c k3 stride=s p1 nobias -> bn -> relu\n"
    "        -> conv c*4 k1 nobias -> bn,\n"
    "        conv c*4 k1 stride=s nobias -> bn,\n"
    "    ) -> relu\n"
    "}\n"
    "\n"
    "conv 64 k7 s2 p3 nobias -> bn -> relu -> maxpool 3 s2 p1\n"
    "-> Down(64, s=1) -> Bottleneck(64) * 2\n"
    "-> Down(128) -> Bottleneck(128) * 3\n"
    "-> Down(256) -> Bottleneck(256) * 5\n"
    "-> Down(512) -> Bottleneck(512) * 2\n"
    "-> gap -> fc 1000\n"
    "\n"
    "assert params == 25557032\n"
    "assert macs < 4.1G\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(ResNet50, SPEC_PATH, SPEC))
