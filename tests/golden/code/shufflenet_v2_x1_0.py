"""ShuffleNetV2: compiled by cnndsl 0.1.0 from shufflenet_v2_x1_0.cnn.

Edit the spec, not this file: `cnndsl compile shufflenet_v2_x1_0.cnn` writes it again.

Input 3x224x224 -> output 1000; 2,278,604 parameters; 144.91M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 24 k3 s2 p1 nobias      24x112x112                648
    bn1                      bn                           24x112x112                 48
    relu1                    relu                         24x112x112                  0
    pool1                    maxpool 3 s2 p1              24x56x56                    0
    down1                    Down(116)                    116x28x28               7,398
    unit1                    Unit                         116x28x28               7,598
    unit2                    Unit                         116x28x28               7,598
    unit3                    Unit                         116x28x28               7,598
    down2                    Down(232)                    232x14x14              43,616
    unit4                    Unit                         232x14x14              28,652
    unit5                    Unit                         232x14x14              28,652
    unit6                    Unit                         232x14x14              28,652
    unit7                    Unit                         232x14x14              28,652
    unit8                    Unit                         232x14x14              28,652
    unit9                    Unit                         232x14x14              28,652
    unit10                   Unit                         232x14x14              28,652
    down3                    Down(464)                    464x7x7               167,968
    unit11                   Unit                         464x7x7               111,128
    unit12                   Unit                         464x7x7               111,128
    unit13                   Unit                         464x7x7               111,128
    conv2                    conv 1024 k1 nobias          1024x7x7              475,136
    bn2                      bn                           1024x7x7                2,048
    relu2                    relu                         1024x7x7                    0
    pool2                    gap                          1024x1x1                    0
    fc1                      fc 1000                      1000                1,025,000
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                     2,278,604
"""

import torch
from torch import nn


class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle: (B, g * n, *) -> (B, n * g, *), channel i * n + j
    moving to j * g + i. A view, a transpose and a flatten, which every exporter takes
    (`nn.ChannelShuffle` fails the TorchScript-based ONNX exporter)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(1, (self.groups, -1)).transpose(1, 2).flatten(1, 2)


class Down(nn.Module):
    """The `Down` block of the spec; its first use, `Down(116)` on 24x56x56 input, has 7,398
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.branch1_conv1 = nn.Conv2d(
            in_channels, in_channels, kernel_size=3, stride=2, padding=1, groups=in_channels,
            bias=False,
        )
        self.branch1_bn1 = nn.BatchNorm2d(in_channels)
        self.branch1_conv2 = nn.Conv2d(in_channels, c // 2, kernel_size=1, bias=False)
        self.branch1_bn2 = nn.BatchNorm2d(c // 2)
        self.branch1_relu1 = nn.ReLU()
        self.branch2_conv1 = nn.Conv2d(in_channels, c // 2, kernel_size=1, bias=False)
        self.branch2_bn1 = nn.BatchNorm2d(c // 2)
        self.branch2_relu1 = nn.ReLU()
        self.branch2_conv2 = nn.Conv2d(
            c // 2, c // 2, kernel_size=3, stride=2, padding=1, groups=c // 2, bias=False,
        )
        self.branch2_bn2 = nn.BatchNorm2d(c // 2)
        self.branch2_conv3 = nn.Conv2d(c // 2, c // 2, kernel_size=1, bias=False)
        self.branch2_bn3 = nn.BatchNorm2d(c // 2)
        self.branch2_relu2 = nn.ReLU()
        self.shuffle1 = ChannelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1_conv1(x)           # (B, in_channels, (H + 1) // 2, (W + 1) // 2)
        branch1 = self.branch1_bn1(branch1)       # (B, in_channels, (H + 1) // 2, (W + 1) // 2)
        branch1 = self.branch1_conv2(branch1)     # (B, c // 2, (H + 1) // 2, (W + 1) // 2)
        branch1 = self.branch1_bn2(branch1)       # (B, c // 2, (H + 1) // 2, (W + 1) // 2)
        branch1 = self.branch1_relu1(branch1)     # (B, c // 2, (H + 1) // 2, (W + 1) // 2)
        branch2 = self.branch2_conv1(x)           # (B, c // 2, H, W)
        branch2 = self.branch2_bn1(branch2)       # (B, c // 2, H, W)
        branch2 = self.branch2_relu1(branch2)     # (B, c // 2, H, W)
        branch2 = self.branch2_conv2(branch2)     # (B, c // 2, (H + 1) // 2, (W + 1) // 2)
        branch2 = self.branch2_bn2(branch2)       # (B, c // 2, (H + 1) // 2, (W + 1) // 2)
        branch2 = self.branch2_conv3(branch2)     # (B, c // 2, (H + 1) // 2, (W + 1) // 2)
        branch2 = self.branch2_bn3(branch2)       # (B, c // 2, (H + 1) // 2, (W + 1) // 2)
        branch2 = self.branch2_relu2(branch2)     # (B, c // 2, (H + 1) // 2, (W + 1) // 2)
        x = torch.cat([branch1, branch2], dim=1)  # (B, c // 2 * 2, (H + 1) // 2, (W + 1) // 2)
        x = self.shuffle1(x)                      # (B, c // 2 * 2, (H + 1) // 2, (W + 1) // 2)
        return x


class Unit(nn.Module):
    """The `Unit` block of the spec; its first use, `Unit` on 116x28x28 input, has 7,598
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch2_conv1 = nn.Conv2d(
            in_channels // 2, in_channels // 2, kernel_size=1, bias=False,
        )
        self.branch2_bn1 = nn.BatchNorm2d(in_channels // 2)
        self.branch2_relu1 = nn.ReLU()
        self.branch2_conv2 = nn.Conv2d(
            in_channels // 2, in_channels // 2, kernel_size=3, padding=1, groups=in_channels // 2,
            bias=False,
        )
        self.branch2_bn2 = nn.BatchNorm2d(in_channels // 2)
        self.branch2_conv3 = nn.Conv2d(
            in_channels // 2, in_channels // 2, kernel_size=1, bias=False,
        )
        self.branch2_bn3 = nn.BatchNorm2d(in_channels // 2)
        self.branch2_relu2 = nn.ReLU()
        self.shuffle1 = ChannelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1, branch2 = torch.chunk(x, 2, dim=1)
        branch2 = self.branch2_conv1(branch2)     # (B, in_channels // 2, H, W)
        branch2 = self.branch2_bn1(branch2)       # (B, in_channels // 2, H, W)
        branch2 = self.branch2_relu1(branch2)     # (B, in_channels // 2, H, W)
        branch2 = self.branch2_conv2(branch2)     # (B, in_channels // 2, H, W)
        branch2 = self.branch2_bn2(branch2)       # (B, in_channels // 2, H, W)
        branch2 = self.branch2_conv3(branch2)     # (B, in_channels // 2, H, W)
        branch2 = self.branch2_bn3(branch2)       # (B, in_channels // 2, H, W)
        branch2 = self.branch2_relu2(branch2)     # (B, in_channels // 2, H, W)
        x = torch.cat([branch1, branch2], dim=1)  # (B, in_channels, H, W)
        x = self.shuffle1(x)                      # (B, in_channels, H, W)
        return x


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2: 3x224x224 -> 1000, 2,278,604 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.down1 = Down(24, c=116)
        self.unit1 = Unit(116)
        self.unit2 = Unit(116)
        self.unit3 = Unit(116)
        self.down2 = Down(116, c=232)
        self.unit4 = Unit(232)
        self.unit5 = Unit(232)
        self.unit6 = Unit(232)
        self.unit7 = Unit(232)
        self.unit8 = Unit(232)
        self.unit9 = Unit(232)
        self.unit10 = Unit(232)
        self.down3 = Down(232, c=464)
        self.unit11 = Unit(464)
        self.unit12 = Unit(464)
        self.unit13 = Unit(464)
        self.conv2 = nn.Conv2d(464, 1024, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(1024)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(1024, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)   # (B, 24, 112, 112)
        x = self.bn1(x)     # (B, 24, 112, 112)
        x = self.relu1(x)   # (B, 24, 112, 112)
        x = self.pool1(x)   # (B, 24, 56, 56)  24x56x56
        x = self.down1(x)   # (B, 116, 28, 28)
        x = self.unit1(x)   # (B, 116, 28, 28)
        x = self.unit2(x)   # (B, 116, 28, 28)
        x = self.unit3(x)   # (B, 116, 28, 28)  116x28x28
        x = self.down2(x)   # (B, 232, 14, 14)
        x = self.unit4(x)   # (B, 232, 14, 14)
        x = self.unit5(x)   # (B, 232, 14, 14)
        x = self.unit6(x)   # (B, 232, 14, 14)
        x = self.unit7(x)   # (B, 232, 14, 14)
        x = self.unit8(x)   # (B, 232, 14, 14)
        x = self.unit9(x)   # (B, 232, 14, 14)
        x = self.unit10(x)  # (B, 232, 14, 14)  232x14x14
        x = self.down3(x)   # (B, 464, 7, 7)
        x = self.unit11(x)  # (B, 464, 7, 7)
        x = self.unit12(x)  # (B, 464, 7, 7)
        x = self.unit13(x)  # (B, 464, 7, 7)  464x7x7
        x = self.conv2(x)   # (B, 1024, 7, 7)
        x = self.bn2(x)     # (B, 1024, 7, 7)
        x = self.relu2(x)   # (B, 1024, 7, 7)
        x = self.pool2(x)   # (B, 1024, 1, 1)
        x = x.flatten(1)    # (B, 1024)
        x = self.fc1(x)     # (B, 1000)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "shufflenet_v2_x1_0.cnn"
SPEC = (
    "# ShuffleNetV2 x1.0 (Ma et al., 2018), as torchvision builds it\n"
    "# (torchvision/models/shufflenetv2.py): 2,278,604 parameters.\n"
    "# Twin: tests/twins/shufflenetv2.py.\n"
    "model ShuffleNetV2\n"
    "input 3x224x224\n"
    "\n"
    "# stride 1: the first half of the channels passes, the second runs the branch;"
    " shuffle\n"
    "block Unit {\n"
    "    split(\n"
    "        identity,\n"
    "        conv in//2 k1 nobias -> bn -> relu\n"
    "        -> conv in//2 k3 p1 groups=in//2 nobias -> bn\n"
    "        -> conv in//2 k1 nobias -> bn -> relu,\n"
    "    ) -> shuffle 2\n"
    "}\n"
    "# stride 2: both branches see the whole input, each gives half of the c channe"
    "ls; shuffle\n"
    "block Down(c) {\n"
    "    concat(\n"
    "        conv in k3 s2 p1 groups=in nobias -> bn\n"
    "        -> conv c//2 k1 nobias -> bn -> relu,\n"
    "        conv c//2 k1 nobias -> bn -> relu\n"
    "        -> conv c//2 k3 s2 p1 groups=c//2 nobias -> bn\n"
    "        -> conv c//2 k1 nobias -> bn -> relu,\n"
    "    ) -> shuffle 2\n"
    "}\n"
    "\n"
    "conv 24 k3 s2 p1 nobias -> bn -> relu -> maxpool 3 s2 p1    # 24x56x56\n"
    "-> Down(116) -> Unit * 3                                     # 116x28x28\n"
    "-> Down(232) -> Unit * 7                                     # 232x14x14\n"
    "-> Down(464) -> Unit * 3                                     # 464x7x7\n"
    "-> conv 1024 k1 nobias -> bn -> relu\n"
    "-> gap -> fc 1000\n"
    "\n"
    "assert params == 2278604\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(ShuffleNetV2, SPEC_PATH, SPEC))
