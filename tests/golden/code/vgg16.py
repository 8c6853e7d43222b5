"""VGG16: compiled by cnndsl 0.1.0 from specs/vgg16.cnn.

Edit the spec, not this file: `cnndsl compile specs/vgg16.cnn` writes it again.

Input 3x224x224 -> output 1000; 138,357,544 parameters; 15.48G multiply-adds.

    Layer                                    Output                 Params
    ---------------------------------------- ---------------- ------------
    stage21 (Stage2(64))                     64x112x112             38,720
      conv1                                  64x224x224              1,792
      relu1                                  64x224x224                  0
      conv2                                  64x224x224             36,928
      relu2                                  64x224x224                  0
      pool1                                  64x112x112                  0
    stage22 (Stage2(128))                    128x56x56             221,440
      conv1                                  128x112x112            73,856
      relu1                                  128x112x112                 0
      conv2                                  128x112x112           147,584
      relu2                                  128x112x112                 0
      pool1                                  128x56x56                   0
    stage31 (Stage3(256))                    256x28x28           1,475,328
      conv1                                  256x56x56             295,168
      relu1                                  256x56x56                   0
      conv2                                  256x56x56             590,080
      relu2                                  256x56x56                   0
      conv3                                  256x56x56             590,080
      relu3                                  256x56x56                   0
      pool1                                  256x28x28                   0
    stage32 (Stage3(512))                    512x14x14           5,899,776
      conv1                                  512x28x28           1,180,160
      relu1                                  512x28x28                   0
      conv2                                  512x28x28           2,359,808
      relu2                                  512x28x28                   0
      conv3                                  512x28x28           2,359,808
      relu3                                  512x28x28                   0
      pool1                                  512x14x14                   0
    stage33 (Stage3(512))                    512x7x7             7,079,424
      conv1                                  512x14x14           2,359,808
      relu1                                  512x14x14                   0
      conv2                                  512x14x14           2,359,808
      relu2                                  512x14x14                   0
      conv3                                  512x14x14           2,359,808
      relu3                                  512x14x14                   0
      pool1                                  512x7x7                     0
    pool1                                    512x7x7                     0
    fc1                                      4096              102,764,544
    relu1                                    4096                        0
    dropout1                                 4096                        0
    fc2                                      4096               16,781,312
    relu2                                    4096                        0
    dropout2                                 4096                        0
    fc3                                      1000                4,097,000
    ---------------------------------------- ---------------- ------------
    Total                                                      138,357,544
"""

import torch
from torch import nn


class Stage2(nn.Module):
    """The `Stage2` block of the spec; shapes in comments are for `Stage2(64)` on 3x224x224 input."""

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (B, 64, 224, 224)
        x = self.relu1(x)  # (B, 64, 224, 224)
        x = self.conv2(x)  # (B, 64, 224, 224)
        x = self.relu2(x)  # (B, 64, 224, 224)
        x = self.pool1(x)  # (B, 64, 112, 112)
        return x


class Stage3(nn.Module):
    """The `Stage3` block of the spec; shapes in comments are for `Stage3(256)` on 128x56x56 input."""

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
        x = self.conv1(x)  # (B, 256, 56, 56)
        x = self.relu1(x)  # (B, 256, 56, 56)
        x = self.conv2(x)  # (B, 256, 56, 56)
        x = self.relu2(x)  # (B, 256, 56, 56)
        x = self.conv3(x)  # (B, 256, 56, 56)
        x = self.relu3(x)  # (B, 256, 56, 56)
        x = self.pool1(x)  # (B, 256, 28, 28)
        return x


class VGG16(nn.Module):
    """VGG16: 3x224x224 -> 1000, 138,357,544 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.stage21 = Stage2(3, c=64)
        self.stage22 = Stage2(64, c=128)
        self.stage31 = Stage3(128, c=256)
        self.stage32 = Stage3(256, c=512)
        self.stage33 = Stage3(512, c=512)
        self.pool1 = nn.AdaptiveAvgPool2d(7)
        self.fc1 = nn.Linear(25088, 4096)
        self.relu1 = nn.ReLU()
        self.dropout1 = nn.Dropout(p=0.5)
        self.fc2 = nn.Linear(4096, 4096)
        self.relu2 = nn.ReLU()
        self.dropout2 = nn.Dropout(p=0.5)
        self.fc3 = nn.Linear(4096, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage21(x)   # (B, 64, 112, 112)
        x = self.stage22(x)   # (B, 128, 56, 56)
        x = self.stage31(x)   # (B, 256, 28, 28)
        x = self.stage32(x)   # (B, 512, 14, 14)
        x = self.stage33(x)   # (B, 512, 7, 7)
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


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train specs/vgg16.cnn` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        raise SystemExit("training needs cnndsl: pip install cnndsl "
                         "(the model itself needs only torch)") from None
    raise SystemExit(
        main(
            VGG16,
            'specs/vgg16.cnn',
            (
                '# VGG-16 (configuration D), as torchvision builds it: 138,357,544 parameters.\n'
                'model VGG16\n'
                'input 3x224x224\n'
                '\n'
                'block Stage2(c) {\n'
                '    (conv c k3 p1 -> relu) * 2 -> maxpool 2\n'
                '}\n'
                'block Stage3(c) {\n'
                '    (conv c k3 p1 -> relu) * 3 -> maxpool 2\n'
                '}\n'
                '\n'
                'Stage2(64) -> Stage2(128) -> Stage3(256) -> Stage3(512) -> Stage3(512)\n'
                '-> adaptiveavgpool 7\n'
                '-> fc 4096 -> relu -> dropout 0.5\n'
                '-> fc 4096 -> relu -> dropout 0.5\n'
                '-> fc 1000\n'
                '\n'
                'assert params == 138357544\n'
            ),
        )
    )
