"""ResNet50: compiled by cnndsl 0.1.0 from specs/resnet50.cnn.

Edit the spec, not this file: `cnndsl compile specs/resnet50.cnn` writes it again.

Input 3x224x224 -> output 1000; 25,557,032 parameters; 4.09G multiply-adds.

    Layer                                    Output                 Params
    ---------------------------------------- ---------------- ------------
    conv1                                    64x112x112              9,408
    bn1                                      64x112x112                128
    relu1                                    64x112x112                  0
    pool1                                    64x56x56                    0
    down1 (Down(64, s=1))                    256x56x56              75,008
        branch1_conv1                        64x56x56                4,096
        branch1_bn1                          64x56x56                  128
        branch1_relu1                        64x56x56                    0
        branch1_conv2                        64x56x56               36,864
        branch1_bn2                          64x56x56                  128
        branch1_relu2                        64x56x56                    0
        branch1_conv3                        256x56x56              16,384
        branch1_bn3                          256x56x56                 512
        branch2_conv1                        256x56x56              16,384
        branch2_bn1                          256x56x56                 512
      add1                                   256x56x56                   0
      relu1                                  256x56x56                   0
    bottleneck1 (Bottleneck(64))             256x56x56              70,400
        conv1                                64x56x56               16,384
        bn1                                  64x56x56                  128
        relu1                                64x56x56                    0
        conv2                                64x56x56               36,864
        bn2                                  64x56x56                  128
        relu2                                64x56x56                    0
        conv3                                256x56x56              16,384
        bn3                                  256x56x56                 512
      residual1                              256x56x56                   0
      relu3                                  256x56x56                   0
    bottleneck2 (Bottleneck(64))             256x56x56              70,400
        conv1                                64x56x56               16,384
        bn1                                  64x56x56                  128
        relu1                                64x56x56                    0
        conv2                                64x56x56               36,864
        bn2                                  64x56x56                  128
        relu2                                64x56x56                    0
        conv3                                256x56x56              16,384
        bn3                                  256x56x56                 512
      residual1                              256x56x56                   0
      relu3                                  256x56x56                   0
    down2 (Down(128))                        512x28x28             379,392
        branch1_conv1                        128x56x56              32,768
        branch1_bn1                          128x56x56                 256
        branch1_relu1                        128x56x56                   0
        branch1_conv2                        128x28x28             147,456
        branch1_bn2                          128x28x28                 256
        branch1_relu2                        128x28x28                   0
        branch1_conv3                        512x28x28              65,536
        branch1_bn3                          512x28x28               1,024
        branch2_conv1                        512x28x28             131,072
        branch2_bn1                          512x28x28               1,024
      add1                                   512x28x28                   0
      relu1                                  512x28x28                   0
    bottleneck3 (Bottleneck(128))            512x28x28             280,064
        conv1                                128x28x28              65,536
        bn1                                  128x28x28                 256
        relu1                                128x28x28                   0
        conv2                                128x28x28             147,456
        bn2                                  128x28x28                 256
        relu2                                128x28x28                   0
        conv3                                512x28x28              65,536
        bn3                                  512x28x28               1,024
      residual1                              512x28x28                   0
      relu3                                  512x28x28                   0
    bottleneck4 (Bottleneck(128))            512x28x28             280,064
        conv1                                128x28x28              65,536
        bn1                                  128x28x28                 256
        relu1                                128x28x28                   0
        conv2                                128x28x28             147,456
        bn2                                  128x28x28                 256
        relu2                                128x28x28                   0
        conv3                                512x28x28              65,536
        bn3                                  512x28x28               1,024
      residual1                              512x28x28                   0
      relu3                                  512x28x28                   0
    bottleneck5 (Bottleneck(128))            512x28x28             280,064
        conv1                                128x28x28              65,536
        bn1                                  128x28x28                 256
        relu1                                128x28x28                   0
        conv2                                128x28x28             147,456
        bn2                                  128x28x28                 256
        relu2                                128x28x28                   0
        conv3                                512x28x28              65,536
        bn3                                  512x28x28               1,024
      residual1                              512x28x28                   0
      relu3                                  512x28x28                   0
    down3 (Down(256))                        1024x14x14          1,512,448
        branch1_conv1                        256x28x28             131,072
        branch1_bn1                          256x28x28                 512
        branch1_relu1                        256x28x28                   0
        branch1_conv2                        256x14x14             589,824
        branch1_bn2                          256x14x14                 512
        branch1_relu2                        256x14x14                   0
        branch1_conv3                        1024x14x14            262,144
        branch1_bn3                          1024x14x14              2,048
        branch2_conv1                        1024x14x14            524,288
        branch2_bn1                          1024x14x14              2,048
      add1                                   1024x14x14                  0
      relu1                                  1024x14x14                  0
    bottleneck6 (Bottleneck(256))            1024x14x14          1,117,184
        conv1                                256x14x14             262,144
        bn1                                  256x14x14                 512
        relu1                                256x14x14                   0
        conv2                                256x14x14             589,824
        bn2                                  256x14x14                 512
        relu2                                256x14x14                   0
        conv3                                1024x14x14            262,144
        bn3                                  1024x14x14              2,048
      residual1                              1024x14x14                  0
      relu3                                  1024x14x14                  0
    bottleneck7 (Bottleneck(256))            1024x14x14          1,117,184
        conv1                                256x14x14             262,144
        bn1                                  256x14x14                 512
        relu1                                256x14x14                   0
        conv2                                256x14x14             589,824
        bn2                                  256x14x14                 512
        relu2                                256x14x14                   0
        conv3                                1024x14x14            262,144
        bn3                                  1024x14x14              2,048
      residual1                              1024x14x14                  0
      relu3                                  1024x14x14                  0
    bottleneck8 (Bottleneck(256))            1024x14x14          1,117,184
        conv1                                256x14x14             262,144
        bn1                                  256x14x14                 512
        relu1                                256x14x14                   0
        conv2                                256x14x14             589,824
        bn2                                  256x14x14                 512
        relu2                                256x14x14                   0
        conv3                                1024x14x14            262,144
        bn3                                  1024x14x14              2,048
      residual1                              1024x14x14                  0
      relu3                                  1024x14x14                  0
    bottleneck9 (Bottleneck(256))            1024x14x14          1,117,184
        conv1                                256x14x14             262,144
        bn1                                  256x14x14                 512
        relu1                                256x14x14                   0
        conv2                                256x14x14             589,824
        bn2                                  256x14x14                 512
        relu2                                256x14x14                   0
        conv3                                1024x14x14            262,144
        bn3                                  1024x14x14              2,048
      residual1                              1024x14x14                  0
      relu3                                  1024x14x14                  0
    bottleneck10 (Bottleneck(256))           1024x14x14          1,117,184
        conv1                                256x14x14             262,144
        bn1                                  256x14x14                 512
        relu1                                256x14x14                   0
        conv2                                256x14x14             589,824
        bn2                                  256x14x14                 512
        relu2                                256x14x14                   0
        conv3                                1024x14x14            262,144
        bn3                                  1024x14x14              2,048
      residual1                              1024x14x14                  0
      relu3                                  1024x14x14                  0
    down4 (Down(512))                        2048x7x7            6,039,552
        branch1_conv1                        512x14x14             524,288
        branch1_bn1                          512x14x14               1,024
        branch1_relu1                        512x14x14                   0
        branch1_conv2                        512x7x7             2,359,296
        branch1_bn2                          512x7x7                 1,024
        branch1_relu2                        512x7x7                     0
        branch1_conv3                        2048x7x7            1,048,576
        branch1_bn3                          2048x7x7                4,096
        branch2_conv1                        2048x7x7            2,097,152
        branch2_bn1                          2048x7x7                4,096
      add1                                   2048x7x7                    0
      relu1                                  2048x7x7                    0
    bottleneck11 (Bottleneck(512))           2048x7x7            4,462,592
        conv1                                512x7x7             1,048,576
        bn1                                  512x7x7                 1,024
        relu1                                512x7x7                     0
        conv2                                512x7x7             2,359,296
        bn2                                  512x7x7                 1,024
        relu2                                512x7x7                     0
        conv3                                2048x7x7            1,048,576
        bn3                                  2048x7x7                4,096
      residual1                              2048x7x7                    0
      relu3                                  2048x7x7                    0
    bottleneck12 (Bottleneck(512))           2048x7x7            4,462,592
        conv1                                512x7x7             1,048,576
        bn1                                  512x7x7                 1,024
        relu1                                512x7x7                     0
        conv2                                512x7x7             2,359,296
        bn2                                  512x7x7                 1,024
        relu2                                512x7x7                     0
        conv3                                2048x7x7            1,048,576
        bn3                                  2048x7x7                4,096
      residual1                              2048x7x7                    0
      relu3                                  2048x7x7                    0
    pool2                                    2048x1x1                    0
    fc1                                      1000                2,049,000
    ---------------------------------------- ---------------- ------------
    Total                                                       25,557,032
"""

import torch
from torch import nn


class Down(nn.Module):
    """The `Down` block of the spec; shapes in comments are for `Down(64, s=1)` on 64x56x56 input."""

    def __init__(self, in_channels: int, c: int, s: int = 2) -> None:
        super().__init__()
        self.branch1_conv1 = nn.Conv2d(in_channels, c, kernel_size=1, bias=False)
        self.branch1_bn1 = nn.BatchNorm2d(c)
        self.branch1_relu1 = nn.ReLU()
        self.branch1_conv2 = nn.Conv2d(c, c, kernel_size=3, stride=s, padding=1, bias=False)
        self.branch1_bn2 = nn.BatchNorm2d(c)
        self.branch1_relu2 = nn.ReLU()
        self.branch1_conv3 = nn.Conv2d(c, c * 4, kernel_size=1, bias=False)
        self.branch1_bn3 = nn.BatchNorm2d(c * 4)
        self.branch2_conv1 = nn.Conv2d(in_channels, c * 4, kernel_size=1, stride=s, bias=False)
        self.branch2_bn1 = nn.BatchNorm2d(c * 4)
        self.relu1 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1_conv1(x)        # (B, 64, 56, 56)
        branch1 = self.branch1_bn1(branch1)    # (B, 64, 56, 56)
        branch1 = self.branch1_relu1(branch1)  # (B, 64, 56, 56)
        branch1 = self.branch1_conv2(branch1)  # (B, 64, 56, 56)
        branch1 = self.branch1_bn2(branch1)    # (B, 64, 56, 56)
        branch1 = self.branch1_relu2(branch1)  # (B, 64, 56, 56)
        branch1 = self.branch1_conv3(branch1)  # (B, 256, 56, 56)
        branch1 = self.branch1_bn3(branch1)    # (B, 256, 56, 56)
        branch2 = self.branch2_conv1(x)        # (B, 256, 56, 56)
        branch2 = self.branch2_bn1(branch2)    # (B, 256, 56, 56)
        x = branch1 + branch2                  # (B, 256, 56, 56)
        x = self.relu1(x)                      # (B, 256, 56, 56)
        return x


class Bottleneck(nn.Module):
    """The `Bottleneck` block of the spec; shapes in comments are for `Bottleneck(64)` on 256x56x56 input."""

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(c, c * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c * 4)
        self.relu3 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        x = self.conv1(x)  # (B, 64, 56, 56)
        x = self.bn1(x)    # (B, 64, 56, 56)
        x = self.relu1(x)  # (B, 64, 56, 56)
        x = self.conv2(x)  # (B, 64, 56, 56)
        x = self.bn2(x)    # (B, 64, 56, 56)
        x = self.relu2(x)  # (B, 64, 56, 56)
        x = self.conv3(x)  # (B, 256, 56, 56)
        x = self.bn3(x)    # (B, 256, 56, 56)
        x = x + identity   # (B, 256, 56, 56)
        x = self.relu3(x)  # (B, 256, 56, 56)
        return x


class ResNet50(nn.Module):
    """ResNet50: 3x224x224 -> 1000, 25,557,032 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.down1 = Down(64, c=64, s=1)
        self.bottleneck1 = Bottleneck(256, c=64)
        self.bottleneck2 = Bottleneck(256, c=64)
        self.down2 = Down(256, c=128, s=2)
        self.bottleneck3 = Bottleneck(512, c=128)
        self.bottleneck4 = Bottleneck(512, c=128)
        self.bottleneck5 = Bottleneck(512, c=128)
        self.down3 = Down(512, c=256, s=2)
        self.bottleneck6 = Bottleneck(1024, c=256)
        self.bottleneck7 = Bottleneck(1024, c=256)
        self.bottleneck8 = Bottleneck(1024, c=256)
        self.bottleneck9 = Bottleneck(1024, c=256)
        self.bottleneck10 = Bottleneck(1024, c=256)
        self.down4 = Down(1024, c=512, s=2)
        self.bottleneck11 = Bottleneck(2048, c=512)
        self.bottleneck12 = Bottleneck(2048, c=512)
        self.pool2 = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(2048, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)         # (B, 64, 112, 112)
        x = self.bn1(x)           # (B, 64, 112, 112)
        x = self.relu1(x)         # (B, 64, 112, 112)
        x = self.pool1(x)         # (B, 64, 56, 56)
        x = self.down1(x)         # (B, 256, 56, 56)
        x = self.bottleneck1(x)   # (B, 256, 56, 56)
        x = self.bottleneck2(x)   # (B, 256, 56, 56)
        x = self.down2(x)         # (B, 512, 28, 28)
        x = self.bottleneck3(x)   # (B, 512, 28, 28)
        x = self.bottleneck4(x)   # (B, 512, 28, 28)
        x = self.bottleneck5(x)   # (B, 512, 28, 28)
        x = self.down3(x)         # (B, 1024, 14, 14)
        x = self.bottleneck6(x)   # (B, 1024, 14, 14)
        x = self.bottleneck7(x)   # (B, 1024, 14, 14)
        x = self.bottleneck8(x)   # (B, 1024, 14, 14)
        x = self.bottleneck9(x)   # (B, 1024, 14, 14)
        x = self.bottleneck10(x)  # (B, 1024, 14, 14)
        x = self.down4(x)         # (B, 2048, 7, 7)
        x = self.bottleneck11(x)  # (B, 2048, 7, 7)
        x = self.bottleneck12(x)  # (B, 2048, 7, 7)
        x = self.pool2(x)         # (B, 2048, 1, 1)
        x = x.flatten(1)          # (B, 2048)
        x = self.fc1(x)           # (B, 1000)
        return x


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train specs/resnet50.cnn` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        raise SystemExit("training needs cnndsl: pip install cnndsl "
                         "(the model itself needs only torch)") from None
    raise SystemExit(
        main(
            ResNet50,
            'specs/resnet50.cnn',
            (
                '# ResNet-50 (v1.5: stride on the 3x3 convolution), as torchvision builds it:\n'
                '# 25,557,032 parameters, 4.09 G multiply-adds.\n'
                'model ResNet50\n'
                'input 3x224x224\n'
                '\n'
                'block Bottleneck(c) {\n'
                '    residual(\n'
                '        conv c k1 nobias -> bn -> relu\n'
                '        -> conv c k3 p1 nobias -> bn -> relu\n'
                '        -> conv c*4 k1 nobias -> bn\n'
                '    ) -> relu\n'
                '}\n'
                'block Down(c, s=2) {\n'
                '    add(\n'
                '        conv c k1 nobias -> bn -> relu\n'
                '        -> conv c k3 stride=s p1 nobias -> bn -> relu\n'
                '        -> conv c*4 k1 nobias -> bn,\n'
                '        conv c*4 k1 stride=s nobias -> bn,\n'
                '    ) -> relu\n'
                '}\n'
                '\n'
                'conv 64 k7 s2 p3 nobias -> bn -> relu -> maxpool 3 s2 p1\n'
                '-> Down(64, s=1) -> Bottleneck(64) * 2\n'
                '-> Down(128) -> Bottleneck(128) * 3\n'
                '-> Down(256) -> Bottleneck(256) * 5\n'
                '-> Down(512) -> Bottleneck(512) * 2\n'
                '-> gap -> fc 1000\n'
                '\n'
                'assert params == 25557032\n'
                'assert macs < 4.1G\n'
            ),
        )
    )
