"""VGG16: compiled by cnndsl 0.1.0 from vgg16.cnn.

Edit the spec, not this file: `cnndsl compile vgg16.cnn` writes it again.

Input 3x224x224 -> output 1000; 138,357,544 parameters; 15.48G multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    stage2_1                 Stage2(64)                   64x112x112             38,720
    stage2_2                 Stage2(128)                  128x56x56             221,440
    stage3_1                 Stage3(256)                  256x28x28           1,475,328
    stage3_2                 Stage3(512)                  512x14x14           5,899,776
    stage3_3                 Stage3(512)                  512x7x7             7,079,424
    pool1                    adaptiveavgpool 7            512x7x7                     0
    fc1                      fc 4096                      4096              102,764,544
    relu1                    relu                         4096                        0
    dropout1                 dropout 0.5                  4096                        0
    fc2                      fc 4096                      4096               16,781,312
    relu2                    relu                         4096                        0
    dropout2                 dropout 0.5                  4096                        0
    fc3                      fc 1000                      1000                4,097,000
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                   138,357,544
"""

import torch
from torch import nn


class Stage2(nn.Module):
    """The `Stage2` block of the spec; its first use, `Stage2(64)` on 3x224x224 input, has 38,720
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, c, H, W)
        x = self.relu1(x)  # (B, c, H, W)
        x = self.conv2(x)  # (B, c, H, W)
        x = self.relu2(x)  # (B, c, H, W)
        x = self.pool1(x)  # (B, c, H // 2, W // 2)
        return x


class Stage3(nn.Module):
    """The `Stage3` block of the spec; its first use, `Stage3(256)` on 128x56x56 input, has
    1,475,328 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(c, c, kernel_size=3, padding=1)
        self.relu3 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, c, H, W)
        x = self.relu1(x)  # (B, c, H, W)
        x = self.conv2(x)  # (B, c, H, W)
        x = self.relu2(x)  # (B, c, H, W)
        x = self.conv3(x)  # (B, c, H, W)
        x = self.relu3(x)  # (B, c, H, W)
        x = self.pool1(x)  # (B, c, H // 2, W // 2)
        return x


class VGG16(nn.Module):
    """VGG16: 3x224x224 -> 1000, 138,357,544 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.stage2_1 = Stage2(3, c=64)
        self.stage2_2 = Stage2(64, c=128)
        self.stage3_1 = Stage3(128, c=256)
        self.stage3_2 = Stage3(256, c=512)
        self.stage3_3 = Stage3(512, c=512)
        self.pool1 = nn.AdaptiveAvgPool2d(7)
        self.fc1 = nn.Linear(25088, 4096)
        self.relu1 = nn.ReLU()
        self.dropout1 = nn.Dropout(p=0.5)
        self.fc2 = nn.Linear(4096, 4096)
        self.relu2 = nn.ReLU()
        self.dropout2 = nn.Dropout(p=0.5)
        self.fc3 = nn.Linear(4096, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage2_1(x)  # (B, 64, 112, 112)
        x = self.stage2_2(x)  # (B, 128, 56, 56)
        x = self.stage3_1(x)  # (B, 256, 28, 28)
        x = self.stage3_2(x)  # (B, 512, 14, 14)
        x = self.stage3_3(x)  # (B, 512, 7, 7)
        x = self.pool1(x)     # (B, 512, 7, 7)
        x = x.flatten(1)      # (B, 25088)
        x = self.fc1(x)       # (B, 4096)
        x = self.relu1(x)     # (B, 4096)
        x = self.dropout1(x)  # (B, 4096)
        x = self.fc2(x)       # (B, 4096)
        x = self.relu2(x)     # (B, 4096)
        x = self.dropout2(x)  # (B, 4096)
        x = self.fc3(x)       # (B, 1000)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "vgg16.cnn"
SPEC = (
    "# VGG-16 (configuration D), as torchvision builds it: 138,357,544 parameters."
    "\n"
    "model VGG16\n"
    "input 3x224x224\n"
    "\n"
    "block Stage2(c) {\n"
    "    (conv c k3 p1 -> relu) * 2 -> maxpool 2\n"
    "}\n"
    "block Stage3(c) {\n"
    "    (conv c k3 p1 -> relu) * 3 -> maxpool 2\n"
    "}\n"
    "\n"
    "Stage2(64) -> Stage2(128) -> Stage3(256) -> Stage3(512) -> Stage3(512)\n"
    "-> adaptiveavgpool 7\n"
    "-> fc 4096 -> relu -> dropout 0.5\n"
    "-> fc 4096 -> relu -> dropout 0.5\n"
    "-> fc 1000\n"
    "\n"
    "assert params == 138357544\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(VGG16, SPEC_PATH, SPEC))
