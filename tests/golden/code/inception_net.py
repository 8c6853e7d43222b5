"""InceptionNet: compiled by cnndsl 0.1.0 from inception_net.cnn.

Edit the spec, not this file: `cnndsl compile inception_net.cnn` writes it again.

Input 1x28x28 -> output 10; 97,298 parameters; 6.05M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 10 k5                   10x24x24                  260
    pool1                    maxpool 2                    10x12x12                    0
    relu1                    relu                         10x12x12                    0
    inception1               Inception                    88x12x12               19,104
    conv2                    conv 20 k5                   20x8x8                 44,020
    pool2                    maxpool 2                    20x4x4                      0
    relu2                    relu                         20x4x4                      0
    inception2               Inception                    88x4x4                 19,824
    fc1                      fc 10                        10                     14,090
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                        97,298
"""

import torch
from torch import nn


class Inception(nn.Module):
    """The `Inception` block of the spec; its first use, `Inception` on 10x12x12 input, has
    19,104 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch1_conv1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch2_conv1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch2_conv2 = nn.Conv2d(16, 24, kernel_size=5, padding=2)
        self.branch3_conv1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch3_conv2 = nn.Conv2d(16, 24, kernel_size=3, padding=1)
        self.branch3_conv3 = nn.Conv2d(24, 24, kernel_size=3, padding=1)
        self.branch4_pool1 = nn.AvgPool2d(3, stride=1, padding=1)
        self.branch4_conv1 = nn.Conv2d(in_channels, 24, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1_conv1(x)                           # (B, 16, H, W)
        branch2 = self.branch2_conv1(x)                           # (B, 16, H, W)
        branch2 = self.branch2_conv2(branch2)                     # (B, 24, H, W)
        branch3 = self.branch3_conv1(x)                           # (B, 16, H, W)
        branch3 = self.branch3_conv2(branch3)                     # (B, 24, H, W)
        branch3 = self.branch3_conv3(branch3)                     # (B, 24, H, W)
        branch4 = self.branch4_pool1(x)                           # (B, in_channels, H, W)
        branch4 = self.branch4_conv1(branch4)                     # (B, 24, H, W)
        x = torch.cat([branch1, branch2, branch3, branch4], dim=1)  # (B, 88, H, W)
        return x


class InceptionNet(nn.Module):
    """InceptionNet: 1x28x28 -> 10, 97,298 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.pool1 = nn.MaxPool2d(2)
        self.relu1 = nn.ReLU()
        self.inception1 = Inception(10)
        self.conv2 = nn.Conv2d(88, 20, kernel_size=5)
        self.pool2 = nn.MaxPool2d(2)
        self.relu2 = nn.ReLU()
        self.inception2 = Inception(20)
        self.fc1 = nn.Linear(1408, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)       # (B, 10, 24, 24)
        x = self.pool1(x)       # (B, 10, 12, 12)
        x = self.relu1(x)       # (B, 10, 12, 12)
        x = self.inception1(x)  # (B, 88, 12, 12)
        x = self.conv2(x)       # (B, 20, 8, 8)
        x = self.pool2(x)       # (B, 20, 4, 4)
        x = self.relu2(x)       # (B, 20, 4, 4)
        x = self.inception2(x)  # (B, 88, 4, 4)
        x = x.flatten(1)        # (B, 1408)
        x = self.fc1(x)         # (B, 10)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "inception_net.cnn"
SPEC = (
    "# The Inception network of the notes (seed 002): four branches concatenated,\n"
    "# 16 + 24 + 24 + 24 = 88 channels.\n"
    "model InceptionNet\n"
    "input 1x28x28\n"
    "\n"
    "block Inception {\n"
    "    concat(\n"
    "        conv 16 k1,\n"
    "        conv 16 k1 -> conv 24 k5 p2,\n"
    "        conv 16 k1 -> conv 24 k3 p1 -> conv 24 k3 p1,\n"
    "        avgpool 3 s1 p1 -> conv 24 k1,\n"
    "    )\n"
    "}\n"
    "\n"
    "conv 10 k5 -> maxpool 2 -> relu -> Inception\n"
    "-> conv 20 k5 -> maxpool 2 -> relu -> Inception\n"
    "-> fc 10\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(InceptionNet, SPEC_PATH, SPEC))
