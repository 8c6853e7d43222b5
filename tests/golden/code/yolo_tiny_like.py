"""YoloTinyLike: compiled by cnndsl 0.1.0 from yolo_tiny_like.cnn.

Edit the spec, not this file: `cnndsl compile yolo_tiny_like.cnn` writes it again.

Input 3x64x64 -> output 27x2x2, 27x4x4; 2,176,126 parameters; 16.60M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    cbl1                     CBL(8)                       8x64x64                   232
    pool1                    maxpool 2 s2                 8x32x32                     0
    cbl2                     CBL(16)                      16x32x32                1,184
    pool2                    maxpool 2 s2                 16x16x16                    0
    cbl3                     CBL(32)                      32x16x16                4,672
    pool3                    maxpool 2 s2                 32x8x8                      0
    cbl4                     CBL(64)                      64x8x8                 18,560
    pool4                    maxpool 2 s2                 64x4x4                      0
    skip                     CBL(128)                     128x4x4                73,984
    pool5                    maxpool 2 s2                 128x2x2                     0
    cbl6                     CBL(256)                     256x2x2               295,424
    pad1                     pad after=1x1 replicate      256x3x3                     0
    pool6                    maxpool 2 s1                 256x2x2                     0
    cbl7                     CBL(512)                     512x2x2             1,180,672
    neck                     CBL(128, k=1)                128x2x2                65,792
    output1_cbl1             CBL(256)                     256x2x2               295,424
    output1_conv1            conv anchors * (5 + classes… 27x2x2                  6,939
    output2_cbl1             CBL(64, k=1)                 64x2x2                  8,320
    output2_up1              upsample 2                   64x4x4                      0
    output2_concat1          concat                       192x4x4                     0
    output2_cbl2             CBL(128)                     128x4x4               221,440
    output2_conv1            conv anchors * (5 + classes… 27x4x4                  3,483
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                     2,176,126
"""

import torch
from torch import nn


class CBL(nn.Module):
    """The `CBL` block of the spec; its first use, `CBL(8)` on 3x64x64 input, has 232 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int, k: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=k, padding=k // 2, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.leakyrelu1 = nn.LeakyReLU(negative_slope=0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)       # (B, c, H + k // 2 * 2 - k + 1, W + k // 2 * 2 - k + 1)
        x = self.bn1(x)         # (B, c, H + k // 2 * 2 - k + 1, W + k // 2 * 2 - k + 1)
        x = self.leakyrelu1(x)  # (B, c, H + k // 2 * 2 - k + 1, W + k // 2 * 2 - k + 1)
        return x


class YoloTinyLike(nn.Module):
    """YoloTinyLike: 3x64x64 -> 27x2x2, 27x4x4, 2,176,126 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.cbl1 = CBL(3, c=8)
        self.pool1 = nn.MaxPool2d(2)
        self.cbl2 = CBL(8, c=16)
        self.pool2 = nn.MaxPool2d(2)
        self.cbl3 = CBL(16, c=32)
        self.pool3 = nn.MaxPool2d(2)
        self.cbl4 = CBL(32, c=64)
        self.pool4 = nn.MaxPool2d(2)
        self.skip = CBL(64, c=128)
        self.pool5 = nn.MaxPool2d(2)
        self.cbl6 = CBL(128, c=256)
        self.pad1 = nn.ReplicationPad2d((0, 1, 0, 1))
        self.pool6 = nn.MaxPool2d(2, stride=1)
        self.cbl7 = CBL(256, c=512)
        self.neck = CBL(512, c=128, k=1)
        self.output1_cbl1 = CBL(128, c=256)
        self.output1_conv1 = nn.Conv2d(256, 27, kernel_size=1)
        self.output2_cbl1 = CBL(128, c=64, k=1)
        self.output2_up1 = nn.Upsample(scale_factor=2)
        self.output2_cbl2 = CBL(192, c=128)
        self.output2_conv1 = nn.Conv2d(128, 27, kernel_size=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.cbl1(x)                       # (B, 8, 64, 64)
        x = self.pool1(x)                      # (B, 8, 32, 32)
        x = self.cbl2(x)                       # (B, 16, 32, 32)
        x = self.pool2(x)                      # (B, 16, 16, 16)
        x = self.cbl3(x)                       # (B, 32, 16, 16)
        x = self.pool3(x)                      # (B, 32, 8, 8)
        x = self.cbl4(x)                       # (B, 64, 8, 8)
        x = self.pool4(x)                      # (B, 64, 4, 4)
        skip = self.skip(x)                    # (B, 128, 4, 4)
        x = self.pool5(skip)                   # (B, 128, 2, 2)
        x = self.cbl6(x)                       # (B, 256, 2, 2)
        x = self.pad1(x)                       # (B, 256, 3, 3)
        x = self.pool6(x)                      # (B, 256, 2, 2)
        x = self.cbl7(x)                       # (B, 512, 2, 2)
        neck = self.neck(x)                    # (B, 128, 2, 2)
        out1 = self.output1_cbl1(neck)         # (B, 256, 2, 2)
        out1 = self.output1_conv1(out1)        # (B, 27, 2, 2)
        out2 = self.output2_cbl1(neck)         # (B, 64, 2, 2)
        out2 = self.output2_up1(out2)          # (B, 64, 4, 4)
        out2 = torch.cat([out2, skip], dim=1)  # (B, 192, 4, 4)
        out2 = self.output2_cbl2(out2)         # (B, 128, 4, 4)
        out2 = self.output2_conv1(out2)        # (B, 27, 4, 4)
        return out1, out2


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "yolo_tiny_like.cnn"
SPEC = (
    "# A YOLOv3-tiny-like detector (yolov3-tiny.cfg at half its widths), Darknet-ex"
    "act, at\n"
    "# 3x64x64: conv + batch norm + leaky ReLU 0.1, five 2x2 pools at stride 2, the"
    "n Darknet's\n"
    "# size-2 stride-1 pool, which pads the bottom and the right by one. `replicate"
    "` is Darknet's\n"
    "# padding for a max (a padded cell never beats the cell it copies); zeros woul"
    "d beat every\n"
    "# negative activation. Two heads of anchors * (5 + classes) channels: one at 2"
    "x2, one\n"
    "# upsampled by 2 and concatenated with the stride-16 map (the cfg's `route -1,"
    " 8`).\n"
    "# Twin: tests/twins/yolo.py.\n"
    "model YoloTinyLike\n"
    "input 3x64x64\n"
    "let anchors = 3\n"
    "let classes = 4\n"
    "\n"
    "block CBL(c, k=3) { conv c kernel=k padding=k//2 nobias -> bn -> leakyrelu 0.1"
    " }\n"
    "\n"
    "CBL(8) -> maxpool 2 s2\n"
    "-> CBL(16) -> maxpool 2 s2\n"
    "-> CBL(32) -> maxpool 2 s2\n"
    "-> CBL(64) -> maxpool 2 s2\n"
    "-> CBL(128) as skip -> maxpool 2 s2\n"
    "-> CBL(256) -> pad after=1x1 replicate -> maxpool 2 s1\n"
    "-> CBL(512) -> CBL(128, k=1) as neck\n"
    "\n"
    "output @neck -> CBL(256) -> conv anchors * (5 + classes) k1,\n"
    "       @neck -> CBL(64, k=1) -> upsample 2 -> concat(identity, @skip) -> CBL(1"
    "28)\n"
    "             -> conv anchors * (5 + classes) k1\n"
    "\n"
    "assert params == 2176126\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(YoloTinyLike, SPEC_PATH, SPEC))
