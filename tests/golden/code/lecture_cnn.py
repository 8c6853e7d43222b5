"""CNN: compiled by cnndsl 0.1.0 from lecture_cnn.cnn.

Edit the spec, not this file: `cnndsl compile lecture_cnn.cnn` writes it again.

Input 3x32x32 -> output 10; 6,882 parameters; 603.11K multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 6 k5 s1 p0              6x28x28                   456
    relu1                    relu                         6x28x28                     0
    pool1                    maxpool 2 s2 p0              6x14x14                     0
    conv2                    conv 16 k5 s1 p0             16x10x10                2,416
    relu2                    relu                         16x10x10                    0
    pool2                    maxpool 2 s2 p0              16x5x5                      0
    fc1                      fc 10                        10                      4,010
    softmax1                 softmax                      10                          0
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                         6,882
"""

import torch
from torch import nn


class CNN(nn.Module):
    """CNN: 3x32x32 -> 10, 6,882 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, kernel_size=5)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(400, 10)
        self.softmax1 = nn.Softmax(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)     # (B, 6, 28, 28)
        x = self.relu1(x)     # (B, 6, 28, 28)
        x = self.pool1(x)     # (B, 6, 14, 14)  CONV1, POOL1: 6x28x28 -> 6x14x14
        x = self.conv2(x)     # (B, 16, 10, 10)
        x = self.relu2(x)     # (B, 16, 10, 10)
        x = self.pool2(x)     # (B, 16, 5, 5)  CONV2, POOL2: 16x10x10 -> 16x5x5
        x = x.flatten(1)      # (B, 400)
        x = self.fc1(x)       # (B, 10)  400 -> 10
        x = self.softmax1(x)  # (B, 10)  probabilities (training leaves it out)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "lecture_cnn.cnn"
SPEC = (
    "# The lecture's CNN (seed 000): a 3x32x32 image, two conv/pool stages,\n"
    "# one fully connected layer and a softmax head giving class probabilities.\n"
    "model CNN\n"
    "input 3x32x32\n"
    "\n"
    "conv 6 k5 s1 p0 -> relu -> maxpool 2 s2 p0     # CONV1, POOL1: 6x28x28 -> 6x14"
    "x14\n"
    "-> conv 16 k5 s1 p0 -> relu -> maxpool 2 s2 p0  # CONV2, POOL2: 16x10x10 -> 16"
    "x5x5\n"
    "-> fc 10                                        # 400 -> 10\n"
    "-> softmax                                      # probabilities (training leav"
    "es it out)\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(CNN, SPEC_PATH, SPEC))
