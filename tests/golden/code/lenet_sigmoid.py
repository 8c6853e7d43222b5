"""LeNetSigmoid: compiled by cnndsl 0.1.0 from lenet_sigmoid.cnn.

Edit the spec, not this file: `cnndsl compile lenet_sigmoid.cnn` writes it again.

Input 1x28x28 -> output 10; 61,706 parameters; 423.04K multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 6 k5 p2                 6x28x28                   156
    sigmoid1                 sigmoid                      6x28x28                     0
    pool1                    avgpool 2 s2                 6x14x14                     0
    conv2                    conv 16 k5                   16x10x10                2,416
    sigmoid2                 sigmoid                      16x10x10                    0
    pool2                    avgpool 2 s2                 16x5x5                      0
    flatten1                 flatten                      400                         0
    fc1                      fc 120                       120                    48,120
    sigmoid3                 sigmoid                      120                         0
    fc2                      fc 84                        84                     10,164
    sigmoid4                 sigmoid                      84                          0
    fc3                      fc 10                        10                        850
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                        61,706
"""

import torch
from torch import nn


class LeNetSigmoid(nn.Module):
    """LeNetSigmoid: 1x28x28 -> 10, 61,706 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.sigmoid1 = nn.Sigmoid()
        self.pool1 = nn.AvgPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.sigmoid2 = nn.Sigmoid()
        self.pool2 = nn.AvgPool2d(2)
        self.flatten1 = nn.Flatten()
        self.fc1 = nn.Linear(400, 120)
        self.sigmoid3 = nn.Sigmoid()
        self.fc2 = nn.Linear(120, 84)
        self.sigmoid4 = nn.Sigmoid()
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)     # (B, 6, 28, 28)
        x = self.sigmoid1(x)  # (B, 6, 28, 28)
        x = self.pool1(x)     # (B, 6, 14, 14)
        x = self.conv2(x)     # (B, 16, 10, 10)
        x = self.sigmoid2(x)  # (B, 16, 10, 10)
        x = self.pool2(x)     # (B, 16, 5, 5)
        x = self.flatten1(x)  # (B, 400)
        x = self.fc1(x)       # (B, 120)
        x = self.sigmoid3(x)  # (B, 120)
        x = self.fc2(x)       # (B, 84)
        x = self.sigmoid4(x)  # (B, 84)
        x = self.fc3(x)       # (B, 10)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "lenet_sigmoid.cnn"
SPEC = (
    "# LeNet as in the notes (seed 001): sigmoid activations and average pooling,\n"
    "# for 1x28x28 Fashion-MNIST images.\n"
    "model LeNetSigmoid\n"
    "input 1x28x28\n"
    "\n"
    "conv 6 k5 p2 -> sigmoid -> avgpool 2 s2\n"
    "-> conv 16 k5 -> sigmoid -> avgpool 2 s2\n"
    "-> flatten\n"
    "-> fc 120 -> sigmoid\n"
    "-> fc 84 -> sigmoid\n"
    "-> fc 10\n"
    "\n"
    "train {\n"
    "    data digits\n"
    "    epochs 15\n"
    "    optimizer sgd lr=0.9\n"
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
    raise SystemExit(main(LeNetSigmoid, SPEC_PATH, SPEC))
