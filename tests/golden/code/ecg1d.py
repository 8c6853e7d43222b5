"""ECGNet: compiled by cnndsl 0.1.0 from ecg1d.cnn.

Edit the spec, not this file: `cnndsl compile ecg1d.cnn` writes it again.

Input 1x187 -> output 5; 168,805 parameters; 9.70M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    stage1                   Stage(32)                    32x94                   5,472
    stage2                   Stage(64)                    64x47                  31,104
    stage3                   Stage(128)                   128x24                123,648
    pool1                    gap                          128x1                       0
    fc1                      fc 64                        64                      8,256
    relu1                    relu                         64                          0
    dropout1                 dropout 0.3                  64                          0
    fc2                      fc 5                         5                         325
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                       168,805
"""

import torch
from torch import nn


class Stage(nn.Module):
    """The `Stage` block of the spec; its first use, `Stage(32)` on 1x187 input, has 5,472
    parameters.

    Shapes in comments are for an input of (B, in_channels, L).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(in_channels, c, kernel_size=5, padding=2)
        self.bn1 = nn.BatchNorm1d(c)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv1d(c, c, kernel_size=5, padding=2)
        self.bn2 = nn.BatchNorm1d(c)
        self.relu2 = nn.ReLU()
        self.pool1 = nn.MaxPool1d(2, ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, c, L)
        x = self.bn1(x)    # (B, c, L)
        x = self.relu1(x)  # (B, c, L)
        x = self.conv2(x)  # (B, c, L)
        x = self.bn2(x)    # (B, c, L)
        x = self.relu2(x)  # (B, c, L)
        x = self.pool1(x)  # (B, c, (L + 1) // 2)
        return x


class ECGNet(nn.Module):
    """ECGNet: 1x187 -> 5, 168,805 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.stage1 = Stage(1, c=32)
        self.stage2 = Stage(32, c=64)
        self.stage3 = Stage(64, c=128)
        self.pool1 = nn.AdaptiveAvgPool1d(1)
        self.fc1 = nn.Linear(128, 64)
        self.relu1 = nn.ReLU()
        self.dropout1 = nn.Dropout(p=0.3)
        self.fc2 = nn.Linear(64, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage1(x)    # (B, 32, 94)
        x = self.stage2(x)    # (B, 64, 47)
        x = self.stage3(x)    # (B, 128, 24)
        x = self.pool1(x)     # (B, 128, 1)
        x = x.flatten(1)      # (B, 128)
        x = self.fc1(x)       # (B, 64)
        x = self.relu1(x)     # (B, 64)
        x = self.dropout1(x)  # (B, 64)
        x = self.fc2(x)       # (B, 5)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "ecg1d.cnn"
SPEC = (
    "# A 1-D network for single-lead signals (e.g. ECG beats of 187 samples, 5 clas"
    "ses).\n"
    "model ECGNet\n"
    "input 1x187\n"
    "\n"
    "block Stage(c) {\n"
    "    conv c k5 p2 -> bn -> relu -> conv c k5 p2 -> bn -> relu -> maxpool 2 ceil"
    "\n"
    "}\n"
    "\n"
    "Stage(32) -> Stage(64) -> Stage(128)\n"
    "-> gap -> fc 64 -> relu -> dropout 0.3 -> fc 5\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(ECGNet, SPEC_PATH, SPEC))
