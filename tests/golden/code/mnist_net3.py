"""ImageNet: compiled by cnndsl 0.1.0 from mnist_net3.cnn.

Edit the spec, not this file: `cnndsl compile mnist_net3.cnn` writes it again.

Input 1x28x28 -> output 10; 5,720 parameters; 371.85K multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 10 k5                   10x24x24                  260
    relu1                    relu                         10x24x24                    0
    pool1                    maxpool 2                    10x12x12                    0
    conv2                    conv 20 k3                   20x10x10                1,820
    relu2                    relu                         20x10x10                    0
    pool2                    maxpool 2                    20x5x5                      0
    conv3                    conv 30 k2                   30x4x4                  2,430
    relu3                    relu                         30x4x4                      0
    pool3                    maxpool 2                    30x2x2                      0
    fc1                      fc 10                        10                      1,210
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                         5,720
"""

import torch
from torch import nn


class ImageNet(nn.Module):
    """ImageNet: 1x28x28 -> 10, 5,720 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=3)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(20, 30, kernel_size=2)
        self.relu3 = nn.ReLU()
        self.pool3 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(120, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, 10, 24, 24)
        x = self.relu1(x)  # (B, 10, 24, 24)
        x = self.pool1(x)  # (B, 10, 12, 12)  10x24x24 -> 10x12x12
        x = self.conv2(x)  # (B, 20, 10, 10)
        x = self.relu2(x)  # (B, 20, 10, 10)
        x = self.pool2(x)  # (B, 20, 5, 5)  20x10x10 -> 20x5x5
        x = self.conv3(x)  # (B, 30, 4, 4)
        x = self.relu3(x)  # (B, 30, 4, 4)
        x = self.pool3(x)  # (B, 30, 2, 2)  30x4x4   -> 30x2x2
        x = x.flatten(1)   # (B, 120)
        x = self.fc1(x)    # (B, 10)  120 -> 10
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "mnist_net3.cnn"
SPEC = (
    "# The notes' homework network (seed 002): three conv/relu/pool stages, 120 -> "
    "10.\n"
    "model ImageNet\n"
    "input 1x28x28\n"
    "\n"
    "conv 10 k5 -> relu -> maxpool 2     # 10x24x24 -> 10x12x12\n"
    "-> conv 20 k3 -> relu -> maxpool 2  # 20x10x10 -> 20x5x5\n"
    "-> conv 30 k2 -> relu -> maxpool 2  # 30x4x4   -> 30x2x2\n"
    "-> fc 10                            # 120 -> 10\n"
    "\n"
    "train {\n"
    "    optimizer sgd lr=0.01 momentum=0.5\n"
    "}\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(ImageNet, SPEC_PATH, SPEC))
