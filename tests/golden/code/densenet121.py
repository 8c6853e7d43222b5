"""DenseNet121: compiled by cnndsl 0.1.0 from densenet121.cnn.

Edit the spec, not this file: `cnndsl compile densenet121.cnn` writes it again.

Input 3x224x224 -> output 1000; 7,978,856 parameters; 2.83G multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 64 k7 s2 p3 nobias      64x112x112              9,408
    bn1                      bn                           64x112x112                128
    relu1                    relu                         64x112x112                  0
    pool1                    maxpool 3 s2 p1              64x56x56                    0
    dense_layer1             DenseLayer                   96x56x56               45,440
    dense_layer2             DenseLayer                   128x56x56              49,600
    dense_layer3             DenseLayer                   160x56x56              53,760
    dense_layer4             DenseLayer                   192x56x56              57,920
    dense_layer5             DenseLayer                   224x56x56              62,080
    dense_layer6             DenseLayer                   256x56x56              66,240
    transition1              Transition                   128x28x28              33,280
    dense_layer7             DenseLayer                   160x28x28              53,760
    dense_layer8             DenseLayer                   192x28x28              57,920
    dense_layer9             DenseLayer                   224x28x28              62,080
    dense_layer10            DenseLayer                   256x28x28              66,240
    dense_layer11            DenseLayer                   288x28x28              70,400
    dense_layer12            DenseLayer                   320x28x28              74,560
    dense_layer13            DenseLayer                   352x28x28              78,720
    dense_layer14            DenseLayer                   384x28x28              82,880
    dense_layer15            DenseLayer                   416x28x28              87,040
    dense_layer16            DenseLayer                   448x28x28              91,200
    dense_layer17            DenseLayer                   480x28x28              95,360
    dense_layer18            DenseLayer                   512x28x28              99,520
    transition2              Transition                   256x14x14             132,096
    dense_layer19            DenseLayer                   288x14x14              70,400
    dense_layer20            DenseLayer                   320x14x14              74,560
    dense_layer21            DenseLayer                   352x14x14              78,720
    dense_layer22            DenseLayer                   384x14x14              82,880
    dense_layer23            DenseLayer                   416x14x14              87,040
    dense_layer24            DenseLayer                   448x14x14              91,200
    dense_layer25            DenseLayer                   480x14x14              95,360
    dense_layer26            DenseLayer                   512x14x14              99,520
    dense_layer27            DenseLayer                   544x14x14             103,680
    dense_layer28            DenseLayer                   576x14x14             107,840
    dense_layer29            DenseLayer                   608x14x14             112,000
    dense_layer30            DenseLayer                   640x14x14             116,160
    dense_layer31            DenseLayer                   672x14x14             120,320
    dense_layer32            DenseLayer                   704x14x14             124,480
    dense_layer33            DenseLayer                   736x14x14             128,640
    dense_layer34            DenseLayer                   768x14x14             132,800
    dense_layer35            DenseLayer                   800x14x14             136,960
    dense_layer36            DenseLayer                   832x14x14             141,120
    dense_layer37            DenseLayer                   864x14x14             145,280
    dense_layer38            DenseLayer                   896x14x14             149,440
    dense_layer39            DenseLayer                   928x14x14             153,600
    dense_layer40            DenseLayer                   960x14x14             157,760
    dense_layer41            DenseLayer                   992x14x14             161,920
    dense_layer42            DenseLayer                   1024x14x14            166,080
    transition3              Transition                   512x7x7               526,336
    dense_layer43            DenseLayer                   544x7x7               103,680
    dense_layer44            DenseLayer                   576x7x7               107,840
    dense_layer45            DenseLayer                   608x7x7               112,000
    dense_layer46            DenseLayer                   640x7x7               116,160
    dense_layer47            DenseLayer                   672x7x7               120,320
    dense_layer48            DenseLayer                   704x7x7               124,480
    dense_layer49            DenseLayer                   736x7x7               128,640
    dense_layer50            DenseLayer                   768x7x7               132,800
    dense_layer51            DenseLayer                   800x7x7               136,960
    dense_layer52            DenseLayer                   832x7x7               141,120
    dense_layer53            DenseLayer                   864x7x7               145,280
    dense_layer54            DenseLayer                   896x7x7               149,440
    dense_layer55            DenseLayer                   928x7x7               153,600
    dense_layer56            DenseLayer                   960x7x7               157,760
    dense_layer57            DenseLayer                   992x7x7               161,920
    dense_layer58            DenseLayer                   1024x7x7              166,080
    bn2                      bn                           1024x7x7                2,048
    relu2                    relu                         1024x7x7                    0
    pool2                    gap                          1024x1x1                    0
    fc1                      fc 1000                      1000                1,025,000
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                     7,978,856
"""

import torch
from torch import nn


class DenseLayer(nn.Module):
    """The `DenseLayer` block of the spec; its first use, `DenseLayer` on 64x56x56 input, has
    45,440 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch2_bn1 = nn.BatchNorm2d(in_channels)
        self.branch2_relu1 = nn.ReLU()
        self.branch2_conv1 = nn.Conv2d(in_channels, 128, kernel_size=1, bias=False)
        self.branch2_bn2 = nn.BatchNorm2d(128)
        self.branch2_relu2 = nn.ReLU()
        self.branch2_conv2 = nn.Conv2d(128, 32, kernel_size=3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch2 = self.branch2_bn1(x)          # (B, in_channels, H, W)
        branch2 = self.branch2_relu1(branch2)  # (B, in_channels, H, W)
        branch2 = self.branch2_conv1(branch2)  # (B, 128, H, W)
        branch2 = self.branch2_bn2(branch2)    # (B, 128, H, W)
        branch2 = self.branch2_relu2(branch2)  # (B, 128, H, W)
        branch2 = self.branch2_conv2(branch2)  # (B, 32, H, W)
        x = torch.cat([x, branch2], dim=1)     # (B, in_channels + 32, H, W)
        return x


class Transition(nn.Module):
    """The `Transition` block of the spec; its first use, `Transition` on 256x56x56 input, has
    33,280 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(in_channels, in_channels // 2, kernel_size=1, bias=False)
        self.pool1 = nn.AvgPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn1(x)    # (B, in_channels, H, W)
        x = self.relu1(x)  # (B, in_channels, H, W)
        x = self.conv1(x)  # (B, in_channels // 2, H, W)
        x = self.pool1(x)  # (B, in_channels // 2, H // 2, W // 2)
        return x


class DenseNet121(nn.Module):
    """DenseNet121: 3x224x224 -> 1000, 7,978,856 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.dense_layer1 = DenseLayer(64)
        self.dense_layer2 = DenseLayer(96)
        self.dense_layer3 = DenseLayer(128)
        self.dense_layer4 = DenseLayer(160)
        self.dense_layer5 = DenseLayer(192)
        self.dense_layer6 = DenseLayer(224)
        self.transition1 = Transition(256)
        self.dense_layer7 = DenseLayer(128)
        self.dense_layer8 = DenseLayer(160)
        self.dense_layer9 = DenseLayer(192)
        self.dense_layer10 = DenseLayer(224)
        self.dense_layer11 = DenseLayer(256)
        self.dense_layer12 = DenseLayer(288)
        self.dense_layer13 = DenseLayer(320)
        self.dense_layer14 = DenseLayer(352)
        self.dense_layer15 = DenseLayer(384)
        self.dense_layer16 = DenseLayer(416)
        self.dense_layer17 = DenseLayer(448)
        self.dense_layer18 = DenseLayer(480)
        self.transition2 = Transition(512)
        self.dense_layer19 = DenseLayer(256)
        self.dense_layer20 = DenseLayer(288)
        self.dense_layer21 = DenseLayer(320)
        self.dense_layer22 = DenseLayer(352)
        self.dense_layer23 = DenseLayer(384)
        self.dense_layer24 = DenseLayer(416)
        self.dense_layer25 = DenseLayer(448)
        self.dense_layer26 = DenseLayer(480)
        self.dense_layer27 = DenseLayer(512)
        self.dense_layer28 = DenseLayer(544)
        self.dense_layer29 = DenseLayer(576)
        self.dense_layer30 = DenseLayer(608)
        self.dense_layer31 = DenseLayer(640)
        self.dense_layer32 = DenseLayer(672)
        self.dense_layer33 = DenseLayer(704)
        self.dense_layer34 = DenseLayer(736)
        self.dense_layer35 = DenseLayer(768)
        self.dense_layer36 = DenseLayer(800)
        self.dense_layer37 = DenseLayer(832)
        self.dense_layer38 = DenseLayer(864)
        self.dense_layer39 = DenseLayer(896)
        self.dense_layer40 = DenseLayer(928)
        self.dense_layer41 = DenseLayer(960)
        self.dense_layer42 = DenseLayer(992)
        self.transition3 = Transition(1024)
        self.dense_layer43 = DenseLayer(512)
        self.dense_layer44 = DenseLayer(544)
        self.dense_layer45 = DenseLayer(576)
        self.dense_layer46 = DenseLayer(608)
        self.dense_layer47 = DenseLayer(640)
        self.dense_layer48 = DenseLayer(672)
        self.dense_layer49 = DenseLayer(704)
        self.dense_layer50 = DenseLayer(736)
        self.dense_layer51 = DenseLayer(768)
        self.dense_layer52 = DenseLayer(800)
        self.dense_layer53 = DenseLayer(832)
        self.dense_layer54 = DenseLayer(864)
        self.dense_layer55 = DenseLayer(896)
        self.dense_layer56 = DenseLayer(928)
        self.dense_layer57 = DenseLayer(960)
        self.dense_layer58 = DenseLayer(992)
        self.bn2 = nn.BatchNorm2d(1024)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(1024, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)          # (B, 64, 112, 112)
        x = self.bn1(x)            # (B, 64, 112, 112)
        x = self.relu1(x)          # (B, 64, 112, 112)
        x = self.pool1(x)          # (B, 64, 56, 56)  64x56x56
        x = self.dense_layer1(x)   # (B, 96, 56, 56)
        x = self.dense_layer2(x)   # (B, 128, 56, 56)
        x = self.dense_layer3(x)   # (B, 160, 56, 56)
        x = self.dense_layer4(x)   # (B, 192, 56, 56)
        x = self.dense_layer5(x)   # (B, 224, 56, 56)
        x = self.dense_layer6(x)   # (B, 256, 56, 56)
        x = self.transition1(x)    # (B, 128, 28, 28)  256, then 128x28x28
        x = self.dense_layer7(x)   # (B, 160, 28, 28)
        x = self.dense_layer8(x)   # (B, 192, 28, 28)
        x = self.dense_layer9(x)   # (B, 224, 28, 28)
        x = self.dense_layer10(x)  # (B, 256, 28, 28)
        x = self.dense_layer11(x)  # (B, 288, 28, 28)
        x = self.dense_layer12(x)  # (B, 320, 28, 28)
        x = self.dense_layer13(x)  # (B, 352, 28, 28)
        x = self.dense_layer14(x)  # (B, 384, 28, 28)
        x = self.dense_layer15(x)  # (B, 416, 28, 28)
        x = self.dense_layer16(x)  # (B, 448, 28, 28)
        x = self.dense_layer17(x)  # (B, 480, 28, 28)
        x = self.dense_layer18(x)  # (B, 512, 28, 28)
        x = self.transition2(x)    # (B, 256, 14, 14)  512, then 256x14x14
        x = self.dense_layer19(x)  # (B, 288, 14, 14)
        x = self.dense_layer20(x)  # (B, 320, 14, 14)
        x = self.dense_layer21(x)  # (B, 352, 14, 14)
        x = self.dense_layer22(x)  # (B, 384, 14, 14)
        x = self.dense_layer23(x)  # (B, 416, 14, 14)
        x = self.dense_layer24(x)  # (B, 448, 14, 14)
        x = self.dense_layer25(x)  # (B, 480, 14, 14)
        x = self.dense_layer26(x)  # (B, 512, 14, 14)
        x = self.dense_layer27(x)  # (B, 544, 14, 14)
        x = self.dense_layer28(x)  # (B, 576, 14, 14)
        x = self.dense_layer29(x)  # (B, 608, 14, 14)
        x = self.dense_layer30(x)  # (B, 640, 14, 14)
        x = self.dense_layer31(x)  # (B, 672, 14, 14)
        x = self.dense_layer32(x)  # (B, 704, 14, 14)
        x = self.dense_layer33(x)  # (B, 736, 14, 14)
        x = self.dense_layer34(x)  # (B, 768, 14, 14)
        x = self.dense_layer35(x)  # (B, 800, 14, 14)
        x = self.dense_layer36(x)  # (B, 832, 14, 14)
        x = self.dense_layer37(x)  # (B, 864, 14, 14)
        x = self.dense_layer38(x)  # (B, 896, 14, 14)
        x = self.dense_layer39(x)  # (B, 928, 14, 14)
        x = self.dense_layer40(x)  # (B, 960, 14, 14)
        x = self.dense_layer41(x)  # (B, 992, 14, 14)
        x = self.dense_layer42(x)  # (B, 1024, 14, 14)
        x = self.transition3(x)    # (B, 512, 7, 7)  1024, then 512x7x7
        x = self.dense_layer43(x)  # (B, 544, 7, 7)
        x = self.dense_layer44(x)  # (B, 576, 7, 7)
        x = self.dense_layer45(x)  # (B, 608, 7, 7)
        x = self.dense_layer46(x)  # (B, 640, 7, 7)
        x = self.dense_layer47(x)  # (B, 672, 7, 7)
        x = self.dense_layer48(x)  # (B, 704, 7, 7)
        x = self.dense_layer49(x)  # (B, 736, 7, 7)
        x = self.dense_layer50(x)  # (B, 768, 7, 7)
        x = self.dense_layer51(x)  # (B, 800, 7, 7)
        x = self.dense_layer52(x)  # (B, 832, 7, 7)
        x = self.dense_layer53(x)  # (B, 864, 7, 7)
        x = self.dense_layer54(x)  # (B, 896, 7, 7)
        x = self.dense_layer55(x)  # (B, 928, 7, 7)
        x = self.dense_layer56(x)  # (B, 960, 7, 7)
        x = self.dense_layer57(x)  # (B, 992, 7, 7)
        x = self.dense_layer58(x)  # (B, 1024, 7, 7)  1024x7x7
        x = self.bn2(x)            # (B, 1024, 7, 7)
        x = self.relu2(x)          # (B, 1024, 7, 7)
        x = self.pool2(x)          # (B, 1024, 1, 1)
        x = x.flatten(1)           # (B, 1024)
        x = self.fc1(x)            # (B, 1000)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "densenet121.cnn"
SPEC = (
    "# DenseNet-121 (Huang et al., 2017), as torchvision builds it\n"
    "# (torchvision/models/densenet.py, no dropout): 7,978,856 parameters.\n"
    "# Twin: tests/twins/densenet.py.\n"
    "model DenseNet121\n"
    "input 3x224x224\n"
    "\n"
    "let growth = 32     # the channels each dense layer adds\n"
    "let bn_size = 4     # its bottleneck is bn_size * growth wide\n"
    "\n"
    "# a dense layer: its input, with growth new channels concatenated after it\n"
    "block DenseLayer {\n"
    "    concat(\n"
    "        identity,\n"
    "        bn -> relu -> conv bn_size*growth k1 nobias -> bn -> relu -> conv grow"
    "th k3 p1 nobias,\n"
    "    )\n"
    "}\n"
    "# between dense blocks: halve the channels and the size\n"
    "block Transition { bn -> relu -> conv in//2 k1 nobias -> avgpool 2 }\n"
    "\n"
    "conv 64 k7 s2 p3 nobias -> bn -> relu -> maxpool 3 s2 p1    # 64x56x56\n"
    "-> DenseLayer * 6 -> Transition                              # 256, then 128x2"
    "8x28\n"
    "-> DenseLayer * 12 -> Transition                             # 512, then 256x1"
    "4x14\n"
    "-> DenseLayer * 24 -> Transition                             # 1024, then 512x"
    "7x7\n"
    "-> DenseLayer * 16                                           # 1024x7x7\n"
    "-> bn -> relu -> gap -> fc 1000\n"
    "\n"
    "assert params == 7978856\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(DenseNet121, SPEC_PATH, SPEC))
