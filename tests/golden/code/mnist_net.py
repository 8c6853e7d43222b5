"""MnistNet: compiled by cnndsl 0.1.0 from mnist_net.cnn.

Edit the spec, not this file: `cnndsl compile mnist_net.cnn` writes it again.

Input 1x28x28 -> output 10; 8,490 parameters; 474.25K multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 10 k5                   10x24x24                  260
    pool1                    maxpool 2                    10x12x12                    0
    relu1                    relu                         10x12x12                    0
    conv2                    conv 20 k5                   20x8x8                  5,020
    pool2                    maxpool 2                    20x4x4                      0
    relu2                    relu                         20x4x4                      0
    fc1                      fc 10                        10                      3,210
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                         8,490
"""

import torch
from torch import nn


class MnistNet(nn.Module):
    """MnistNet: 1x28x28 -> 10, 8,490 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.pool1 = nn.MaxPool2d(2)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.pool2 = nn.MaxPool2d(2)
        self.relu2 = nn.ReLU()
        self.fc1 = nn.Linear(320, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, 10, 24, 24)
        x = self.pool1(x)  # (B, 10, 12, 12)
        x = self.relu1(x)  # (B, 10, 12, 12)
        x = self.conv2(x)  # (B, 20, 8, 8)
        x = self.pool2(x)  # (B, 20, 4, 4)
        x = self.relu2(x)  # (B, 20, 4, 4)
        x = x.flatten(1)   # (B, 320)
        x = self.fc1(x)    # (B, 10)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "mnist_net.cnn"
SPEC = (
    "# The simple MNIST network of the notes (seed 002): two conv/pool/relu stages"
    "\n"
    "# and one fully connected layer, 320 -> 10.\n"
    "model MnistNet\n"
    "input 1x28x28\n"
    "\n"
    "conv 10 k5 -> maxpool 2 -> relu\n"
    "-> conv 20 k5 -> maxpool 2 -> relu\n"
    "-> fc 10\n"
    "\n"
    "assert output == 10\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(MnistNet, SPEC_PATH, SPEC))
