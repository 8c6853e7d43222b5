"""ResNet18: compiled by cnndsl 0.1.0 from resnet18_keyed.cnn.

Edit the spec, not this file: `cnndsl compile resnet18_keyed.cnn` writes it again.

Input 3x224x224 -> output 1000; 11,689,512 parameters; 1.81G multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 64 k7 s2 p3 nobias      64x112x112              9,408
    bn1                      bn                           64x112x112                128
    relu1                    relu                         64x112x112                  0
    pool1                    maxpool 3 s2 p1              64x56x56                    0
    layer1.0                 Basic(64)                    64x56x56               73,984
    layer1.1                 Basic(64)                    64x56x56               73,984
    layer2.0                 Basic(128, 2)                128x28x28             230,144
    layer2.1                 Basic(128)                   128x28x28             295,424
    layer3.0                 Basic(256, 2)                256x14x14             919,040
    layer3.1                 Basic(256)                   256x14x14           1,180,672
    layer4.0                 Basic(512, 2)                512x7x7             3,673,088
    layer4.1                 Basic(512)                   512x7x7             4,720,640
    pool2                    gap                          512x1x1                     0
    fc                       fc 1000                      1000                  513,000
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                    11,689,512
"""

import torch
from torch import nn


class Basic(nn.Module):
    """The `Basic` block of the spec; its first use, `Basic(64)` on 64x56x56 input, has 73,984
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int, s: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=3, stride=s, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.branch1_relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu1 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv1 = self.conv1(x)              # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        bn1 = self.bn1(conv1)              # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        branch1 = self.branch1_relu1(bn1)  # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        conv2 = self.conv2(branch1)        # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        bn2 = self.bn2(conv2)              # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        x = bn2 + x                        # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.relu1(x)                  # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class Basic2(nn.Module):
    """The `Basic` block of the spec; its first use, `Basic(128, 2)` on 64x56x56 input, has
    230,144 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int, s: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=3, stride=s, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.branch1_relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.downsample = nn.Sequential()
        self.downsample.append(nn.Conv2d(in_channels, c, kernel_size=1, stride=s, bias=False))
        self.downsample.append(nn.BatchNorm2d(c))
        self.relu1 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv1 = self.conv1(x)                     # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        bn1 = self.bn1(conv1)                     # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        branch1 = self.branch1_relu1(bn1)         # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        conv2 = self.conv2(branch1)               # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        bn2 = self.bn2(conv2)                     # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        branch2 = self.downsample[0](x)           # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        downsample = self.downsample[1](branch2)  # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        x = bn2 + downsample                      # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        x = self.relu1(x)                         # (B, c, (H - 1) // s + 1, (W - 1) // s + 1)
        return x


class ResNet18(nn.Module):
    """ResNet18: 3x224x224 -> 1000, 11,689,512 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = nn.Sequential()
        self.layer1.append(Basic(64, c=64))
        self.layer1.append(Basic(64, c=64))
        self.layer2 = nn.Sequential()
        self.layer2.append(Basic2(64, c=128, s=2))
        self.layer2.append(Basic(128, c=128))
        self.layer3 = nn.Sequential()
        self.layer3.append(Basic2(128, c=256, s=2))
        self.layer3.append(Basic(256, c=256))
        self.layer4 = nn.Sequential()
        self.layer4.append(Basic2(256, c=512, s=2))
        self.layer4.append(Basic(512, c=512))
        self.pool2 = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv1 = self.conv1(x)       # (B, 64, 112, 112)
        bn1 = self.bn1(conv1)       # (B, 64, 112, 112)
        x = self.relu1(bn1)         # (B, 64, 112, 112)
        x = self.pool1(x)           # (B, 64, 56, 56)
        x = self.layer1[0](x)       # (B, 64, 56, 56)
        layer1 = self.layer1[1](x)  # (B, 64, 56, 56)
        x = self.layer2[0](layer1)  # (B, 128, 28, 28)
        layer2 = self.layer2[1](x)  # (B, 128, 28, 28)
        x = self.layer3[0](layer2)  # (B, 256, 14, 14)
        layer3 = self.layer3[1](x)  # (B, 256, 14, 14)
        x = self.layer4[0](layer3)  # (B, 512, 7, 7)
        layer4 = self.layer4[1](x)  # (B, 512, 7, 7)
        x = self.pool2(layer4)      # (B, 512, 1, 1)
        fc = x.flatten(1)           # (B, 512)
        fc = self.fc(fc)            # (B, 1000)
        return fc


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "resnet18_keyed.cnn"
SPEC = (
    "# ResNet-18 written key for key as torchvision names it: its `state_dict()` lo"
    "ads strictly.\n"
    "model ResNet18\n"
    "input 3x224x224\n"
    "\n"
    "block Basic(c, s=1) {\n"
    "    add(conv c k3 stride=s p1 nobias as conv1 -> bn as bn1 -> relu -> conv c k"
    "3 p1 nobias as conv2 -> bn as bn2,\n"
    "        if s > 1 or in != c { (conv c k1 stride=s nobias -> bn) as downsample "
    "})\n"
    "    -> relu\n"
    "}\n"
    "\n"
    "conv 64 k7 s2 p3 nobias as conv1 -> bn as bn1 -> relu -> maxpool 3 s2 p1\n"
    "-> (Basic(64) * 2) as layer1\n"
    "-> (Basic(128, 2) -> Basic(128)) as layer2\n"
    "-> (Basic(256, 2) -> Basic(256)) as layer3\n"
    "-> (Basic(512, 2) -> Basic(512)) as layer4\n"
    "-> gap -> fc 1000 as fc\n"
    "\n"
    "assert params == 11689512\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(ResNet18, SPEC_PATH, SPEC))
