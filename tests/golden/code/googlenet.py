"""GoogLeNet: compiled by cnndsl 0.1.0 from googlenet.cnn.

Edit the spec, not this file: `cnndsl compile googlenet.cnn` writes it again.

Input 3x224x224 -> output 1000; 6,624,904 parameters; 1.50G multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    basic_conv1              BasicConv(64, k=7, s=2, p=3) 64x112x112              9,536
    pool1                    maxpool 3 s2 ceil            64x56x56                    0
    basic_conv2              BasicConv(64)                64x56x56                4,224
    basic_conv3              BasicConv(192, k=3, p=1)     192x56x56             110,976
    pool2                    maxpool 3 s2 ceil            192x28x28                   0
    inception1               Inception(64, 96, 128, 16, … 256x28x28             155,872
    inception2               Inception(128, 128, 192, 32… 480x28x28             340,224
    pool3                    maxpool 3 s2 ceil            480x14x14                   0
    inception3               Inception(192, 96, 208, 16,… 512x14x14             364,512
    inception4               Inception(160, 112, 224, 24… 512x14x14             425,232
    inception5               Inception(128, 128, 256, 24… 512x14x14             486,192
    inception6               Inception(112, 144, 288, 32… 528x14x14             573,312
    inception7               Inception(256, 160, 320, 32… 832x14x14             803,840
    pool4                    maxpool 2 s2 ceil            832x7x7                     0
    inception8               Inception(256, 160, 320, 32… 832x7x7               978,944
    inception9               Inception(384, 192, 384, 48… 1024x7x7            1,347,040
    pool5                    gap                          1024x1x1                    0
    dropout1                 dropout 0.2                  1024x1x1                    0
    fc1                      fc 1000                      1000                1,025,000
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                     6,624,904
"""

import torch
from torch import nn


class BasicConv(nn.Module):
    """The `BasicConv` block of the spec; its first use, `BasicConv(64, k=7, s=2, p=3)` on
    3x224x224 input, has 9,536 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int, k: int = 1, s: int = 1, p: int = 0) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=k, stride=s, padding=p, bias=False)
        self.bn1 = nn.BatchNorm2d(c, eps=0.001)
        self.relu1 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, c, (H + p * 2 - k) // s + 1, (W + p * 2 - k) // s + 1)
        x = self.bn1(x)    # (B, c, (H + p * 2 - k) // s + 1, (W + p * 2 - k) // s + 1)
        x = self.relu1(x)  # (B, c, (H + p * 2 - k) // s + 1, (W + p * 2 - k) // s + 1)
        return x


class Inception(nn.Module):
    """The `Inception` block of the spec; its first use, `Inception(64, 96, 128, 16, 32, 32)` on
    192x28x28 input, has 155,872 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
    ) -> None:
        super().__init__()
        self.branch1_basic_conv1 = BasicConv(in_channels, c=ch1x1)
        self.branch2_basic_conv1 = BasicConv(in_channels, c=ch3x3red)
        self.branch2_basic_conv2 = BasicConv(ch3x3red, c=ch3x3, k=3, p=1)
        self.branch3_basic_conv1 = BasicConv(in_channels, c=ch5x5red)
        self.branch3_basic_conv2 = BasicConv(ch5x5red, c=ch5x5, k=3, p=1)
        self.branch4_pool1 = nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True)
        self.branch4_basic_conv1 = BasicConv(in_channels, c=pool_proj)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1_basic_conv1(x)                     # (B, ch1x1, H, W)
        branch2 = self.branch2_basic_conv1(x)                     # (B, ch3x3red, H, W)
        branch2 = self.branch2_basic_conv2(branch2)               # (B, ch3x3, H, W)
        branch3 = self.branch3_basic_conv1(x)                     # (B, ch5x5red, H, W)
        branch3 = self.branch3_basic_conv2(branch3)               # (B, ch5x5, H, W)
        branch4 = self.branch4_pool1(x)                           # (B, in_channels, H, W)
        branch4 = self.branch4_basic_conv1(branch4)               # (B, pool_proj, H, W)
        # (B, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)
        x = torch.cat([branch1, branch2, branch3, branch4], dim=1)
        return x


class GoogLeNet(nn.Module):
    """GoogLeNet: 3x224x224 -> 1000, 6,624,904 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.basic_conv1 = BasicConv(3, c=64, k=7, s=2, p=3)
        self.pool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.basic_conv2 = BasicConv(64, c=64)
        self.basic_conv3 = BasicConv(64, c=192, k=3, p=1)
        self.pool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception1 = Inception(
            192, ch1x1=64, ch3x3red=96, ch3x3=128, ch5x5red=16, ch5x5=32, pool_proj=32,
        )
        self.inception2 = Inception(
            256, ch1x1=128, ch3x3red=128, ch3x3=192, ch5x5red=32, ch5x5=96, pool_proj=64,
        )
        self.pool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3 = Inception(
            480, ch1x1=192, ch3x3red=96, ch3x3=208, ch5x5red=16, ch5x5=48, pool_proj=64,
        )
        self.inception4 = Inception(
            512, ch1x1=160, ch3x3red=112, ch3x3=224, ch5x5red=24, ch5x5=64, pool_proj=64,
        )
        self.inception5 = Inception(
            512, ch1x1=128, ch3x3red=128, ch3x3=256, ch5x5red=24, ch5x5=64, pool_proj=64,
        )
        self.inception6 = Inception(
            512, ch1x1=112, ch3x3red=144, ch3x3=288, ch5x5red=32, ch5x5=64, pool_proj=64,
        )
        self.inception7 = Inception(
            528, ch1x1=256, ch3x3red=160, ch3x3=320, ch5x5red=32, ch5x5=128, pool_proj=128,
        )
        self.pool4 = nn.MaxPool2d(2, ceil_mode=True)
        self.inception8 = Inception(
            832, ch1x1=256, ch3x3red=160, ch3x3=320, ch5x5red=32, ch5x5=128, pool_proj=128,
        )
        self.inception9 = Inception(
            832, ch1x1=384, ch3x3red=192, ch3x3=384, ch5x5red=48, ch5x5=128, pool_proj=128,
        )
        self.pool5 = nn.AdaptiveAvgPool2d(1)
        self.dropout1 = nn.Dropout(p=0.2)
        self.fc1 = nn.Linear(1024, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.basic_conv1(x)  # (B, 64, 112, 112)
        x = self.pool1(x)        # (B, 64, 56, 56)  64x56x56
        x = self.basic_conv2(x)  # (B, 64, 56, 56)
        x = self.basic_conv3(x)  # (B, 192, 56, 56)
        x = self.pool2(x)        # (B, 192, 28, 28)  192x28x28
        x = self.inception1(x)   # (B, 256, 28, 28)  3a: 256x28x28
        x = self.inception2(x)   # (B, 480, 28, 28)  3b: 480x28x28
        x = self.pool3(x)        # (B, 480, 14, 14)  480x14x14
        x = self.inception3(x)   # (B, 512, 14, 14)  4a: 512x14x14
        x = self.inception4(x)   # (B, 512, 14, 14)  4b: 512x14x14
        x = self.inception5(x)   # (B, 512, 14, 14)  4c: 512x14x14
        x = self.inception6(x)   # (B, 528, 14, 14)  4d: 528x14x14
        x = self.inception7(x)   # (B, 832, 14, 14)  4e: 832x14x14
        x = self.pool4(x)        # (B, 832, 7, 7)  832x7x7
        x = self.inception8(x)   # (B, 832, 7, 7)  5a: 832x7x7
        x = self.inception9(x)   # (B, 1024, 7, 7)  5b: 1024x7x7
        x = self.pool5(x)        # (B, 1024, 1, 1)
        x = self.dropout1(x)     # (B, 1024, 1, 1)
        x = x.flatten(1)         # (B, 1024)
        x = self.fc1(x)          # (B, 1000)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "googlenet.cnn"
SPEC = (
    "# GoogLeNet (Inception v1; Szegedy et al., 2014), as torchvision builds it\n"
    "# (torchvision/models/googlenet.py) without the auxiliary classifiers and with"
    "out\n"
    "# transform_input: 6,624,904 parameters. Twin: tests/twins/googlenet.py.\n"
    "model GoogLeNet\n"
    "input 3x224x224\n"
    "\n"
    "# torchvision's BasicConv2d: conv without bias, batch norm with eps 0.001, ReL"
    "U\n"
    "block BasicConv(c, k=1, s=1, p=0) {\n"
    "    conv c kernel=k stride=s padding=p nobias -> bn eps=0.001 -> relu\n"
    "}\n"
    "\n"
    "# four branches concatenated (parameters named as torchvision names them); the"
    " third is\n"
    "# 3x3 where the paper has 5x5 (torchvision's known discrepancy, its issue 906)"
    ", kept so\n"
    "# that torchvision's weights fit\n"
    "block Inception(ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj) {\n"
    "    concat(\n"
    "        BasicConv(ch1x1),\n"
    "        BasicConv(ch3x3red) -> BasicConv(ch3x3, k=3, p=1),\n"
    "        BasicConv(ch5x5red) -> BasicConv(ch5x5, k=3, p=1),\n"
    "        maxpool 3 s1 p1 ceil -> BasicConv(pool_proj),\n"
    "    )\n"
    "}\n"
    "\n"
    "BasicConv(64, k=7, s=2, p=3) -> maxpool 3 s2 ceil                   # 64x56x56"
    "\n"
    "-> BasicConv(64) -> BasicConv(192, k=3, p=1) -> maxpool 3 s2 ceil    # 192x28x"
    "28\n"
    "-> Inception(64, 96, 128, 16, 32, 32)                                # 3a: 256"
    "x28x28\n"
    "-> Inception(128, 128, 192, 32, 96, 64)                              # 3b: 480"
    "x28x28\n"
    "-> maxpool 3 s2 ceil                                                 # 480x14x"
    "14\n"
    "-> Inception(192, 96, 208, 16, 48, 64)                               # 4a: 512"
    "x14x14\n"
    "-> Inception(160, 112, 224, 24, 64, 64)                              # 4b: 512"
    "x14x14\n"
    "-> Inception(128, 128, 256, 24, 64, 64)                              # 4c: 512"
    "x14x14\n"
    "-> Inception(112, 144, 288, 32, 64, 64)                              # 4d: 528"
    "x14x14\n"
    "-> Inception(256, 160, 320, 32, 128, 128)                            # 4e: 832"
    "x14x14\n"
    "-> maxpool 2 s2 ceil                                                 # 832x7x7"
    "\n"
    "-> Inception(256, 160, 320, 32, 128, 128)                            # 5a: 832"
    "x7x7\n"
    "-> Inception(384, 192, 384, 48, 128, 128)                            # 5b: 102"
    "4x7x7\n"
    "-> gap -> dropout 0.2 -> fc 1000\n"
    "\n"
    "assert params == 6624904\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(GoogLeNet, SPEC_PATH, SPEC))
