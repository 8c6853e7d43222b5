"""ResidualNet: compiled by cnndsl 0.1.0 from residual_net.cnn.

Edit the spec, not this file: `cnndsl compile residual_net.cnn` writes it again.

Input 1x28x28 -> output 10; 41,514 parameters; 2.03M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 16 k5                   16x24x24                  416
    pool1                    maxpool 2                    16x12x12                    0
    relu1                    relu                         16x12x12                    0
    residual_block1          Residual(16)                 16x12x12                4,640
    conv2                    conv 32 k5                   32x8x8                 12,832
    pool2                    maxpool 2                    32x4x4                      0
    relu2                    relu                         32x4x4                      0
    residual_block2          Residual(32)                 32x4x4                 18,496
    fc1                      fc 10                        10                      5,130
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                        41,514
"""

import torch
from torch import nn


class Residual(nn.Module):
    """The `Residual` block of the spec; its first use, `Residual(16)` on 16x12x12 input, has
    4,640 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        x = self.conv1(x)  # (B, c, H, W)
        x = self.relu1(x)  # (B, c, H, W)
        x = self.conv2(x)  # (B, c, H, W)
        x = x + identity   # (B, c, H, W)
        x = self.relu2(x)  # (B, c, H, W)
        return x


class ResidualNet(nn.Module):
    """ResidualNet: 1x28x28 -> 10, 41,514 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=5)
        self.pool1 = nn.MaxPool2d(2)
        self.relu1 = nn.ReLU()
        self.residual_block1 = Residual(16, c=16)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5)
        self.pool2 = nn.MaxPool2d(2)
        self.relu2 = nn.ReLU()
        self.residual_block2 = Residual(32, c=32)
        self.fc1 = nn.Linear(512, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)            # (B, 16, 24, 24)
        x = self.pool1(x)            # (B, 16, 12, 12)
        x = self.relu1(x)            # (B, 16, 12, 12)
        x = self.residual_block1(x)  # (B, 16, 12, 12)
        x = self.conv2(x)            # (B, 32, 8, 8)
        x = self.pool2(x)            # (B, 32, 4, 4)
        x = self.relu2(x)            # (B, 32, 4, 4)
        x = self.residual_block2(x)  # (B, 32, 4, 4)
        x = x.flatten(1)             # (B, 512)
        x = self.fc1(x)              # (B, 10)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "residual_net.cnn"
SPEC = (
    "# The residual network of the notes (seed 002): y = relu(x + conv(relu(conv(x)"
    "))).\n"
    "model ResidualNet\n"
    "input 1x28x28\n"
    "\n"
    "block Residual(c) {\n"
    "    residual(conv c k3 p1 -> relu -> conv c k3 p1) -> relu\n"
    "}\n"
    "\n"
    "conv 16 k5 -> maxpool 2 -> relu -> Residual(16)\n"
    "-> conv 32 k5 -> maxpool 2 -> relu -> Residual(32)\n"
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
    raise SystemExit(main(ResidualNet, SPEC_PATH, SPEC))
