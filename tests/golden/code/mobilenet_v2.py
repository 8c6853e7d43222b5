"""MobileNetV2: compiled by cnndsl 0.1.0 from specs/mobilenet_v2.cnn.

Edit the spec, not this file: `cnndsl compile specs/mobilenet_v2.cnn` writes it again.

Input 3x224x224 -> output 1000; 3,504,872 parameters; 300.78M multiply-adds.

    Layer                                    Output                 Params
    ---------------------------------------- ---------------- ------------
    conv1                                    32x112x112                864
    bn1                                      32x112x112                 64
    relu61                                   32x112x112                  0
    conv2                                    32x112x112                288
    bn2                                      32x112x112                 64
    relu62                                   32x112x112                  0
    conv3                                    16x112x112                512
    bn3                                      16x112x112                 32
    inverted1 (Inverted(16, 24, s=2))        24x56x56                5,136
      conv1                                  96x112x112              1,536
      bn1                                    96x112x112                192
      relu61                                 96x112x112                  0
      conv2                                  96x56x56                  864
      bn2                                    96x56x56                  192
      relu62                                 96x56x56                    0
      conv3                                  24x56x56                2,304
      bn3                                    24x56x56                   48
    skip1 (Skip(24))                         24x56x56                8,832
        inverted1 (Inverted(c, c))           24x56x56                8,832
          conv1                              144x56x56               3,456
          bn1                                144x56x56                 288
          relu61                             144x56x56                   0
          conv2                              144x56x56               1,296
          bn2                                144x56x56                 288
          relu62                             144x56x56                   0
          conv3                              24x56x56                3,456
          bn3                                24x56x56                   48
      residual1                              24x56x56                    0
    inverted2 (Inverted(24, 32, s=2))        32x28x28               10,000
      conv1                                  144x56x56               3,456
      bn1                                    144x56x56                 288
      relu61                                 144x56x56                   0
      conv2                                  144x28x28               1,296
      bn2                                    144x28x28                 288
      relu62                                 144x28x28                   0
      conv3                                  32x28x28                4,608
      bn3                                    32x28x28                   64
    skip2 (Skip(32))                         32x28x28               14,848
        inverted1 (Inverted(c, c))           32x28x28               14,848
          conv1                              192x28x28               6,144
          bn1                                192x28x28                 384
          relu61                             192x28x28                   0
          conv2                              192x28x28               1,728
          bn2                                192x28x28                 384
          relu62                             192x28x28                   0
          conv3                              32x28x28                6,144
          bn3                                32x28x28                   64
      residual1                              32x28x28                    0
    skip3 (Skip(32))                         32x28x28               14,848
        inverted1 (Inverted(c, c))           32x28x28               14,848
          conv1                              192x28x28               6,144
          bn1                                192x28x28                 384
          relu61                             192x28x28                   0
          conv2                              192x28x28               1,728
          bn2                                192x28x28                 384
          relu62                             192x28x28                   0
          conv3                              32x28x28                6,144
          bn3                                32x28x28                   64
      residual1                              32x28x28                    0
    inverted3 (Inverted(32, 64, s=2))        64x14x14               21,056
      conv1                                  192x28x28               6,144
      bn1                                    192x28x28                 384
      relu61                                 192x28x28                   0
      conv2                                  192x14x14               1,728
      bn2                                    192x14x14                 384
      relu62                                 192x14x14                   0
      conv3                                  64x14x14               12,288
      bn3                                    64x14x14                  128
    skip4 (Skip(64))                         64x14x14               54,272
        inverted1 (Inverted(c, c))           64x14x14               54,272
          conv1                              384x14x14              24,576
          bn1                                384x14x14                 768
          relu61                             384x14x14                   0
          conv2                              384x14x14               3,456
          bn2                                384x14x14                 768
          relu62                             384x14x14                   0
          conv3                              64x14x14               24,576
          bn3                                64x14x14                  128
      residual1                              64x14x14                    0
    skip5 (Skip(64))                         64x14x14               54,272
        inverted1 (Inverted(c, c))           64x14x14               54,272
          conv1                              384x14x14              24,576
          bn1                                384x14x14                 768
          relu61                             384x14x14                   0
          conv2                              384x14x14               3,456
          bn2                                384x14x14                 768
          relu62                             384x14x14                   0
          conv3                              64x14x14               24,576
          bn3                                64x14x14                  128
      residual1                              64x14x14                    0
    skip6 (Skip(64))                         64x14x14               54,272
        inverted1 (Inverted(c, c))           64x14x14               54,272
          conv1                              384x14x14              24,576
          bn1                                384x14x14                 768
          relu61                             384x14x14                   0
          conv2                              384x14x14               3,456
          bn2                                384x14x14                 768
          relu62                             384x14x14                   0
          conv3                              64x14x14               24,576
          bn3                                64x14x14                  128
      residual1                              64x14x14                    0
    inverted4 (Inverted(64, 96))             96x14x14               66,624
      conv1                                  384x14x14              24,576
      bn1                                    384x14x14                 768
      relu61                                 384x14x14                   0
      conv2                                  384x14x14               3,456
      bn2                                    384x14x14                 768
      relu62                                 384x14x14                   0
      conv3                                  96x14x14               36,864
      bn3                                    96x14x14                  192
    skip7 (Skip(96))                         96x14x14              118,272
        inverted1 (Inverted(c, c))           96x14x14              118,272
          conv1                              576x14x14              55,296
          bn1                                576x14x14               1,152
          relu61                             576x14x14                   0
          conv2                              576x14x14               5,184
          bn2                                576x14x14               1,152
          relu62                             576x14x14                   0
          conv3                              96x14x14               55,296
          bn3                                96x14x14                  192
      residual1                              96x14x14                    0
    skip8 (Skip(96))                         96x14x14              118,272
        inverted1 (Inverted(c, c))           96x14x14              118,272
          conv1                              576x14x14              55,296
          bn1                                576x14x14               1,152
          relu61                             576x14x14                   0
          conv2                              576x14x14               5,184
          bn2                                576x14x14               1,152
          relu62                             576x14x14                   0
          conv3                              96x14x14               55,296
          bn3                                96x14x14                  192
      residual1                              96x14x14                    0
    inverted5 (Inverted(96, 160, s=2))       160x7x7               155,264
      conv1                                  576x14x14              55,296
      bn1                                    576x14x14               1,152
      relu61                                 576x14x14                   0
      conv2                                  576x7x7                 5,184
      bn2                                    576x7x7                 1,152
      relu62                                 576x7x7                     0
      conv3                                  160x7x7                92,160
      bn3                                    160x7x7                   320
    skip9 (Skip(160))                        160x7x7               320,000
        inverted1 (Inverted(c, c))           160x7x7               320,000
          conv1                              960x7x7               153,600
          bn1                                960x7x7                 1,920
          relu61                             960x7x7                     0
          conv2                              960x7x7                 8,640
          bn2                                960x7x7                 1,920
          relu62                             960x7x7                     0
          conv3                              160x7x7               153,600
          bn3                                160x7x7                   320
      residual1                              160x7x7                     0
    skip10 (Skip(160))                       160x7x7               320,000
        inverted1 (Inverted(c, c))           160x7x7               320,000
          conv1                              960x7x7               153,600
          bn1                                960x7x7                 1,920
          relu61                             960x7x7                     0
          conv2                              960x7x7                 8,640
          bn2                                960x7x7                 1,920
          relu62                             960x7x7                     0
          conv3                              160x7x7               153,600
          bn3                                160x7x7                   320
      residual1                              160x7x7                     0
    inverted6 (Inverted(160, 320))           320x7x7               473,920
      conv1                                  960x7x7               153,600
      bn1                                    960x7x7                 1,920
      relu61                                 960x7x7                     0
      conv2                                  960x7x7                 8,640
      bn2                                    960x7x7                 1,920
      relu62                                 960x7x7                     0
      conv3                                  320x7x7               307,200
      bn3                                    320x7x7                   640
    conv4                                    1280x7x7              409,600
    bn4                                      1280x7x7                2,560
    relu63                                   1280x7x7                    0
    pool1                                    1280x1x1                    0
    dropout1                                 1280x1x1                    0
    fc1                                      1000                1,281,000
    ---------------------------------------- ---------------- ------------
    Total                                                        3,504,872
"""

import torch
from torch import nn


class Inverted(nn.Module):
    """The `Inverted` block of the spec; shapes in comments are for `Inverted(16, 24, s=2)` on 16x112x112 input."""

    def __init__(self, in_channels: int, cin: int, c: int, s: int = 1, t: int = 6) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, cin * t, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cin * t)
        self.relu61 = nn.ReLU6()
        self.conv2 = nn.Conv2d(cin * t, cin * t, kernel_size=3, stride=s, padding=1, groups=cin * t, bias=False)
        self.bn2 = nn.BatchNorm2d(cin * t)
        self.relu62 = nn.ReLU6()
        self.conv3 = nn.Conv2d(cin * t, c, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)   # (B, 96, 112, 112)
        x = self.bn1(x)     # (B, 96, 112, 112)
        x = self.relu61(x)  # (B, 96, 112, 112)
        x = self.conv2(x)   # (B, 96, 56, 56)
        x = self.bn2(x)     # (B, 96, 56, 56)
        x = self.relu62(x)  # (B, 96, 56, 56)
        x = self.conv3(x)   # (B, 24, 56, 56)
        x = self.bn3(x)     # (B, 24, 56, 56)
        return x


class Skip(nn.Module):
    """The `Skip` block of the spec; shapes in comments are for `Skip(24)` on 24x56x56 input."""

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.inverted1 = Inverted(in_channels, cin=c, c=c, s=1, t=6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        x = self.inverted1(x)  # (B, 24, 56, 56)
        x = x + identity       # (B, 24, 56, 56)
        return x


class MobileNetV2(nn.Module):
    """MobileNetV2: 3x224x224 -> 1000, 3,504,872 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu61 = nn.ReLU6()
        self.conv2 = nn.Conv2d(32, 32, kernel_size=3, padding=1, groups=32, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.relu62 = nn.ReLU6()
        self.conv3 = nn.Conv2d(32, 16, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(16)
        self.inverted1 = Inverted(16, cin=16, c=24, s=2, t=6)
        self.skip1 = Skip(24, c=24)
        self.inverted2 = Inverted(24, cin=24, c=32, s=2, t=6)
        self.skip2 = Skip(32, c=32)
        self.skip3 = Skip(32, c=32)
        self.inverted3 = Inverted(32, cin=32, c=64, s=2, t=6)
        self.skip4 = Skip(64, c=64)
        self.skip5 = Skip(64, c=64)
        self.skip6 = Skip(64, c=64)
        self.inverted4 = Inverted(64, cin=64, c=96, s=1, t=6)
        self.skip7 = Skip(96, c=96)
        self.skip8 = Skip(96, c=96)
        self.inverted5 = Inverted(96, cin=96, c=160, s=2, t=6)
        self.skip9 = Skip(160, c=160)
        self.skip10 = Skip(160, c=160)
        self.inverted6 = Inverted(160, cin=160, c=320, s=1, t=6)
        self.conv4 = nn.Conv2d(320, 1280, kernel_size=1, bias=False)
        self.bn4 = nn.BatchNorm2d(1280)
        self.relu63 = nn.ReLU6()
        self.pool1 = nn.AdaptiveAvgPool2d(1)
        self.dropout1 = nn.Dropout(p=0.2)
        self.fc1 = nn.Linear(1280, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)      # (B, 32, 112, 112)
        x = self.bn1(x)        # (B, 32, 112, 112)
        x = self.relu61(x)     # (B, 32, 112, 112)
        x = self.conv2(x)      # (B, 32, 112, 112)
        x = self.bn2(x)        # (B, 32, 112, 112)
        x = self.relu62(x)     # (B, 32, 112, 112)
        x = self.conv3(x)      # (B, 16, 112, 112)
        x = self.bn3(x)        # (B, 16, 112, 112)
        x = self.inverted1(x)  # (B, 24, 56, 56)
        x = self.skip1(x)      # (B, 24, 56, 56)
        x = self.inverted2(x)  # (B, 32, 28, 28)
        x = self.skip2(x)      # (B, 32, 28, 28)
        x = self.skip3(x)      # (B, 32, 28, 28)
        x = self.inverted3(x)  # (B, 64, 14, 14)
        x = self.skip4(x)      # (B, 64, 14, 14)
        x = self.skip5(x)      # (B, 64, 14, 14)
        x = self.skip6(x)      # (B, 64, 14, 14)
        x = self.inverted4(x)  # (B, 96, 14, 14)
        x = self.skip7(x)      # (B, 96, 14, 14)
        x = self.skip8(x)      # (B, 96, 14, 14)
        x = self.inverted5(x)  # (B, 160, 7, 7)
        x = self.skip9(x)      # (B, 160, 7, 7)
        x = self.skip10(x)     # (B, 160, 7, 7)
        x = self.inverted6(x)  # (B, 320, 7, 7)
        x = self.conv4(x)      # (B, 1280, 7, 7)
        x = self.bn4(x)        # (B, 1280, 7, 7)
        x = self.relu63(x)     # (B, 1280, 7, 7)
        x = self.pool1(x)      # (B, 1280, 1, 1)
        x = self.dropout1(x)   # (B, 1280, 1, 1)
        x = x.flatten(1)       # (B, 1280)
        x = self.fc1(x)        # (B, 1000)
        return x


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train specs/mobilenet_v2.cnn` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        raise SystemExit("training needs cnndsl: pip install cnndsl "
                         "(the model itself needs only torch)") from None
    raise SystemExit(
        main(
            MobileNetV2,
            'specs/mobilenet_v2.cnn',
            (
                '# MobileNetV2, as torchvision builds it: inverted residuals with depthwise\n'
                '# convolutions; 3,504,872 parameters, 0.30 G multiply-adds.\n'
                'model MobileNetV2\n'
                'input 3x224x224\n'
                '\n'
                '# expand 1x1 -> depthwise 3x3 -> project 1x1 (linear bottleneck)\n'
                'block Inverted(cin, c, s=1, t=6) {\n'
                '    conv cin*t k1 nobias -> bn -> relu6\n'
                '    -> conv cin*t k3 stride=s p1 groups=cin*t nobias -> bn -> relu6\n'
                '    -> conv c k1 nobias -> bn\n'
                '}\n'
                'block Skip(c) {\n'
                '    residual(Inverted(c, c))\n'
                '}\n'
                '\n'
                'conv 32 k3 s2 p1 nobias -> bn -> relu6\n'
                '-> conv 32 k3 p1 g32 nobias -> bn -> relu6 -> conv 16 k1 nobias -> bn\n'
                '-> Inverted(16, 24, s=2) -> Skip(24)\n'
                '-> Inverted(24, 32, s=2) -> Skip(32) * 2\n'
                '-> Inverted(32, 64, s=2) -> Skip(64) * 3\n'
                '-> Inverted(64, 96) -> Skip(96) * 2\n'
                '-> Inverted(96, 160, s=2) -> Skip(160) * 2\n'
                '-> Inverted(160, 320)\n'
                '-> conv 1280 k1 nobias -> bn -> relu6\n'
                '-> gap -> dropout 0.2 -> fc 1000\n'
                '\n'
                'assert params == 3504872\n'
            ),
        )
    )
