"""C3DSmall: compiled by cnndsl 0.1.0 from c3d_small.cnn.

Edit the spec, not this file: `cnndsl compile c3d_small.cnn` writes it again.

Input 3x16x112x112 -> output 101; 1,191,013 parameters; 5.39G multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 32 k3 p1                32x16x112x112           2,624
    relu1                    relu                         32x16x112x112               0
    pool1                    maxpool 1x2x2                32x16x56x56                 0
    conv2                    conv 64 k3 p1                64x16x56x56            55,360
    relu2                    relu                         64x16x56x56                 0
    pool2                    maxpool 2                    64x8x28x28                  0
    conv3                    conv 128 k3 p1               128x8x28x28           221,312
    bn1                      bn                           128x8x28x28               256
    relu3                    relu                         128x8x28x28                 0
    pool3                    maxpool 2                    128x4x14x14                 0
    conv4                    conv 256 k3 p1               256x4x14x14           884,992
    bn2                      bn                           256x4x14x14               512
    relu4                    relu                         256x4x14x14                 0
    pool4                    maxpool 2                    256x2x7x7                   0
    pool5                    gap                          256x1x1x1                   0
    dropout1                 dropout 0.5                  256x1x1x1                   0
    fc1                      fc 101                       101                    25,957
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                     1,191,013
"""

import torch
from torch import nn


class C3DSmall(nn.Module):
    """C3DSmall: 3x16x112x112 -> 101, 1,191,013 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(3, 32, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool3d((1, 2, 2))
        self.conv2 = nn.Conv3d(32, 64, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool3d(2)
        self.conv3 = nn.Conv3d(64, 128, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm3d(128)
        self.relu3 = nn.ReLU()
        self.pool3 = nn.MaxPool3d(2)
        self.conv4 = nn.Conv3d(128, 256, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm3d(256)
        self.relu4 = nn.ReLU()
        self.pool4 = nn.MaxPool3d(2)
        self.pool5 = nn.AdaptiveAvgPool3d(1)
        self.dropout1 = nn.Dropout(p=0.5)
        self.fc1 = nn.Linear(256, 101)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)     # (B, 32, 16, 112, 112)
        x = self.relu1(x)     # (B, 32, 16, 112, 112)
        x = self.pool1(x)     # (B, 32, 16, 56, 56)
        x = self.conv2(x)     # (B, 64, 16, 56, 56)
        x = self.relu2(x)     # (B, 64, 16, 56, 56)
        x = self.pool2(x)     # (B, 64, 8, 28, 28)
        x = self.conv3(x)     # (B, 128, 8, 28, 28)
        x = self.bn1(x)       # (B, 128, 8, 28, 28)
        x = self.relu3(x)     # (B, 128, 8, 28, 28)
        x = self.pool3(x)     # (B, 128, 4, 14, 14)
        x = self.conv4(x)     # (B, 256, 4, 14, 14)
        x = self.bn2(x)       # (B, 256, 4, 14, 14)
        x = self.relu4(x)     # (B, 256, 4, 14, 14)
        x = self.pool4(x)     # (B, 256, 2, 7, 7)
        x = self.pool5(x)     # (B, 256, 1, 1, 1)
        x = self.dropout1(x)  # (B, 256, 1, 1, 1)
        x = x.flatten(1)      # (B, 256)
        x = self.fc1(x)       # (B, 101)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "c3d_small.cnn"
SPEC = (
    "# A small 3-D network for short video clips (16 frames of 112x112, 101 classes"
    "),\n"
    "# in the style of C3D.\n"
    "model C3DSmall\n"
    "input 3x16x112x112\n"
    "\n"
    "conv 32 k3 p1 -> relu -> maxpool 1x2x2\n"
    "-> conv 64 k3 p1 -> relu -> maxpool 2\n"
    "-> conv 128 k3 p1 -> bn -> relu -> maxpool 2\n"
    "-> conv 256 k3 p1 -> bn -> relu -> maxpool 2\n"
    "-> gap -> dropout 0.5 -> fc 101\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(C3DSmall, SPEC_PATH, SPEC))
