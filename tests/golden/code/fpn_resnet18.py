"""ResNet18FPN: compiled by cnndsl 0.1.0 from fpn_resnet18.cnn.

Edit the spec, not this file: `cnndsl compile fpn_resnet18.cnn` writes it again.

Input 3x224x224 -> output 256x28x28, 256x14x14, 256x7x7; 13,176,896 parameters; 2.47G multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 64 k7 s2 p3 nobias      64x112x112              9,408
    bn1                      bn                           64x112x112                128
    relu1                    relu                         64x112x112                  0
    pool1                    maxpool 3 s2 p1              64x56x56                    0
    basic1                   Basic(64)                    64x56x56               73,984
    basic2                   Basic(64)                    64x56x56               73,984
    down1                    Down(128)                    128x28x28             230,144
    c3                       Basic(128)                   128x28x28             295,424
    down2                    Down(256)                    256x14x14             919,040
    c4                       Basic(256)                   256x14x14           1,180,672
    down3                    Down(512)                    512x7x7             3,673,088
    basic5                   Basic(512)                   512x7x7             4,720,640
    m5                       conv 256 k1                  256x7x7               131,328
    up1                      upsample 2                   256x14x14                   0
    add1                     add                          256x14x14                   0
    up2                      upsample 2                   256x28x28                   0
    add2                     add                          256x28x28                   0
    output1_conv1            conv 256 k3 p1               256x28x28             590,080
    output2_conv1            conv 256 k3 p1               256x14x14             590,080
    output3_conv1            conv 256 k3 p1               256x7x7               590,080
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                    13,176,896
"""

import torch
from torch import nn


class Basic(nn.Module):
    """The `Basic` block of the spec; its first use, `Basic(64)` on 64x56x56 input, has 73,984
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
        identity = x
        x = self.conv1(x)  # (B, c, H, W)
        x = self.bn1(x)    # (B, c, H, W)
        x = self.relu1(x)  # (B, c, H, W)
        x = self.conv2(x)  # (B, c, H, W)
        x = self.bn2(x)    # (B, c, H, W)
        x = x + identity   # (B, c, H, W)
        x = self.relu2(x)  # (B, c, H, W)
        return x


class Down(nn.Module):
    """The `Down` block of the spec; its first use, `Down(128)` on 64x56x56 input, has 230,144
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.branch1_conv1 = nn.Conv2d(
            in_channels, c, kernel_size=3, stride=2, padding=1, bias=False,
        )
        self.branch1_bn1 = nn.BatchNorm2d(c)
        self.branch1_relu1 = nn.ReLU()
        self.branch1_conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1, bias=False)
        self.branch1_bn2 = nn.BatchNorm2d(c)
        self.branch2_conv1 = nn.Conv2d(in_channels, c, kernel_size=1, stride=2, bias=False)
        self.branch2_bn1 = nn.BatchNorm2d(c)
        self.relu1 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1_conv1(x)        # (B, c, (H + 1) // 2, (W + 1) // 2)
        branch1 = self.branch1_bn1(branch1)    # (B, c, (H + 1) // 2, (W + 1) // 2)
        branch1 = self.branch1_relu1(branch1)  # (B, c, (H + 1) // 2, (W + 1) // 2)
        branch1 = self.branch1_conv2(branch1)  # (B, c, (H + 1) // 2, (W + 1) // 2)
        branch1 = self.branch1_bn2(branch1)    # (B, c, (H + 1) // 2, (W + 1) // 2)
        branch2 = self.branch2_conv1(x)        # (B, c, (H + 1) // 2, (W + 1) // 2)
        branch2 = self.branch2_bn1(branch2)    # (B, c, (H + 1) // 2, (W + 1) // 2)
        x = branch1 + branch2                  # (B, c, (H + 1) // 2, (W + 1) // 2)
        x = self.relu1(x)                      # (B, c, (H + 1) // 2, (W + 1) // 2)
        return x


class ResNet18FPN(nn.Module):
    """ResNet18FPN: 3x224x224 -> 256x28x28, 256x14x14, 256x7x7, 13,176,896 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.basic1 = Basic(64, c=64)
        self.basic2 = Basic(64, c=64)
        self.down1 = Down(64, c=128)
        self.c3 = Basic(128, c=128)
        self.down2 = Down(128, c=256)
        self.c4 = Basic(256, c=256)
        self.down3 = Down(256, c=512)
        self.basic5 = Basic(512, c=512)
        self.m5 = nn.Conv2d(512, 256, kernel_size=1)
        self.up1 = nn.Upsample(scale_factor=2)
        self.branch1_conv1 = nn.Conv2d(256, 256, kernel_size=1)
        self.up2 = nn.Upsample(scale_factor=2)
        self.branch1_conv2 = nn.Conv2d(128, 256, kernel_size=1)
        self.output1_conv1 = nn.Conv2d(256, 256, kernel_size=3, padding=1)
        self.output2_conv1 = nn.Conv2d(256, 256, kernel_size=3, padding=1)
        self.output3_conv1 = nn.Conv2d(256, 256, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.conv1(x)                 # (B, 64, 112, 112)
        x = self.bn1(x)                   # (B, 64, 112, 112)
        x = self.relu1(x)                 # (B, 64, 112, 112)
        x = self.pool1(x)                 # (B, 64, 56, 56)  64x56x56
        x = self.basic1(x)                # (B, 64, 56, 56)
        x = self.basic2(x)                # (B, 64, 56, 56)  64x56x56
        x = self.down1(x)                 # (B, 128, 28, 28)
        c3 = self.c3(x)                   # (B, 128, 28, 28)  128x28x28
        x = self.down2(c3)                # (B, 256, 14, 14)
        c4 = self.c4(x)                   # (B, 256, 14, 14)  256x14x14
        x = self.down3(c4)                # (B, 512, 7, 7)
        x = self.basic5(x)                # (B, 512, 7, 7)  512x7x7: C5
        m5 = self.m5(x)                   # (B, 256, 7, 7)  256x7x7
        x = self.up1(m5)                  # (B, 256, 14, 14)
        branch1 = self.branch1_conv1(c4)  # (B, 256, 14, 14)
        m4 = branch1 + x                  # (B, 256, 14, 14)  256x14x14
        x = self.up2(m4)                  # (B, 256, 28, 28)
        branch1 = self.branch1_conv2(c3)  # (B, 256, 28, 28)
        m3 = branch1 + x                  # (B, 256, 28, 28)  256x28x28
        out1 = self.output1_conv1(m3)     # (B, 256, 28, 28)
        out2 = self.output2_conv1(m4)     # (B, 256, 14, 14)
        out3 = self.output3_conv1(m5)     # (B, 256, 7, 7)
        return out1, out2, out3


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "fpn_resnet18.cnn"
SPEC = (
    "# A feature pyramid network (Lin et al., 2017; torchvision's ops.FeaturePyrami"
    "dNetwork)\n"
    "# on a ResNet-18 backbone (torchvision's resnet18 without its pool and classif"
    "ier):\n"
    "# 256 channels at strides 8, 16 and 32, returned as (P3, P4, P5); 13,176,896 p"
    "arameters.\n"
    "# Twin: tests/twins/fpn.py.\n"
    "model ResNet18FPN\n"
    "input 3x224x224\n"
    "\n"
    "block Basic(c) {\n"
    "    residual(conv c k3 p1 nobias -> bn -> relu -> conv c k3 p1 nobias -> bn) -"
    "> relu\n"
    "}\n"
    "block Down(c) {\n"
    "    add(\n"
    "        conv c k3 s2 p1 nobias -> bn -> relu -> conv c k3 p1 nobias -> bn,\n"
    "        conv c k1 s2 nobias -> bn,\n"
    "    ) -> relu\n"
    "}\n"
    "\n"
    "# the backbone; C3, C4 and C5 are the outputs of its last three stages\n"
    "conv 64 k7 s2 p3 nobias -> bn -> relu -> maxpool 3 s2 p1    # 64x56x56\n"
    "-> Basic(64) * 2                                             # 64x56x56\n"
    "-> Down(128) -> Basic(128) as c3                             # 128x28x28\n"
    "-> Down(256) -> Basic(256) as c4                             # 256x14x14\n"
    "-> Down(512) -> Basic(512)                                   # 512x7x7: C5\n"
    "# the top-down path: a 1x1 lateral on each level, plus the coarser level upsam"
    "pled\n"
    "-> conv 256 k1 as m5                                         # 256x7x7\n"
    "-> upsample 2 -> add(@c4 -> conv 256 k1, identity) as m4     # 256x14x14\n"
    "-> upsample 2 -> add(@c3 -> conv 256 k1, identity) as m3     # 256x28x28\n"
    "\n"
    "# a 3x3 conv on each level: P3, P4, P5\n"
    "output @m3 -> conv 256 k3 p1, @m4 -> conv 256 k3 p1, @m5 -> conv 256 k3 p1\n"
    "\n"
    "assert params == 13176896\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(ResNet18FPN, SPEC_PATH, SPEC))
