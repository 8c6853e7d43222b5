"""Net: compiled by cnndsl 0.1.0 from cifar10_net.cnn.

Edit the spec, not this file: `cnndsl compile cifar10_net.cnn` writes it again.

Input 3x32x32 -> output 10; 62,006 parameters; 658.24K multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 6 k5                    6x28x28                   456
    relu1                    relu                         6x28x28                     0
    pool1                    maxpool 2 s2                 6x14x14                     0
    conv2                    conv 16 k5                   16x10x10                2,416
    relu2                    relu                         16x10x10                    0
    pool2                    maxpool 2 s2                 16x5x5                      0
    fc1                      fc 120                       120                    48,120
    relu3                    relu                         120                         0
    fc2                      fc 84                        84                     10,164
    relu4                    relu                         84                          0
    fc3                      fc 10                        10                        850
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                        62,006
"""

import torch
from torch import nn


class Net(nn.Module):
    """Net: 3x32x32 -> 10, 62,006 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, kernel_size=5)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(400, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, 6, 28, 28)
        x = self.relu1(x)  # (B, 6, 28, 28)
        x = self.pool1(x)  # (B, 6, 14, 14)
        x = self.conv2(x)  # (B, 16, 10, 10)
        x = self.relu2(x)  # (B, 16, 10, 10)
        x = self.pool2(x)  # (B, 16, 5, 5)
        x = x.flatten(1)   # (B, 400)
        x = self.fc1(x)    # (B, 120)
        x = self.relu3(x)  # (B, 120)
        x = self.fc2(x)    # (B, 84)
        x = self.relu4(x)  # (B, 84)
        x = self.fc3(x)    # (B, 10)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "cifar10_net.cnn"
SPEC = (
    "# The CIFAR-10 network of the lecture (seed 004), trained with SGD and momentu"
    "m.\n"
    "model Net\n"
    "input 3x32x32\n"
    "\n"
    "conv 6 k5 -> relu -> maxpool 2 s2\n"
    "-> conv 16 k5 -> relu -> maxpool 2 s2\n"
    "-> fc 120 -> relu\n"
    "-> fc 84 -> relu\n"
    "-> fc 10\n"
    "\n"
    "train {\n"
    "    data cifar10\n"
    "    epochs 10\n"
    "    batch 4\n"
    "    optimizer sgd lr=0.001 momentum=0.9\n"
    "    loss crossentropy\n"
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
    raise SystemExit(main(Net, SPEC_PATH, SPEC))
