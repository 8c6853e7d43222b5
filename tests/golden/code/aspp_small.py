"""AsppSmall: compiled by cnndsl 0.1.0 from aspp_small.cnn.

Edit the spec, not this file: `cnndsl compile aspp_small.cnn` writes it again.

Input 3x128x128 -> output 10x16x16; 220,298 parameters; 68.98M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 32 k3 s2 p1 nobias      32x64x64                  864
    bn1                      bn                           32x64x64                   64
    relu1                    relu                         32x64x64                    0
    conv2                    conv 48 k3 s2 p1 nobias      48x32x32               13,824
    bn2                      bn                           48x32x32                   96
    relu2                    relu                         48x32x32                    0
    conv3                    conv 64 k3 s2 p1 nobias      64x16x16               27,648
    bn3                      bn                           64x16x16                  128
    relu3                    relu                         64x16x16                    0
    conv4                    conv 64 k3 p1 nobias         64x16x16               36,864
    bn4                      bn                           64x16x16                  128
    f                        relu                         64x16x16                    0
    concat1                  concat                       320x16x16                   0
    conv5                    conv 64 k1 nobias            64x16x16               20,480
    bn5                      bn                           64x16x16                  128
    relu5                    relu                         64x16x16                    0
    dropout1                 dropout 0.1                  64x16x16                    0
    conv6                    conv 10 k1                   10x16x16                  650
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                       220,298
"""

import torch
from torch import nn


class UpsampleLike(nn.Module):
    """Resizes x to the spatial size of another tensor, read at each call
    (`upsample like=@NAME`): `nn.Upsample` with its size taken at run time."""

    def __init__(self, mode: str = "nearest", align_corners: bool | None = None) -> None:
        super().__init__()
        self.mode = mode
        self.align_corners = align_corners

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return nn.functional.interpolate(x, size=like.shape[2:], mode=self.mode,
                                         align_corners=self.align_corners)


class AsppSmall(nn.Module):
    """AsppSmall: 3x128x128 -> 10x16x16, 220,298 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(32, 48, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(48)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(48, 64, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(64)
        self.relu3 = nn.ReLU()
        self.conv4 = nn.Conv2d(64, 64, kernel_size=3, padding=1, bias=False)
        self.bn4 = nn.BatchNorm2d(64)
        self.f = nn.ReLU()
        self.branch1_conv1 = nn.Conv2d(64, 64, kernel_size=1, bias=False)
        self.branch1_bn1 = nn.BatchNorm2d(64)
        self.branch1_relu1 = nn.ReLU()
        self.branch2_conv1 = nn.Conv2d(64, 64, kernel_size=3, padding=2, dilation=2, bias=False)
        self.branch2_bn1 = nn.BatchNorm2d(64)
        self.branch2_relu1 = nn.ReLU()
        self.branch3_conv1 = nn.Conv2d(64, 64, kernel_size=3, padding=4, dilation=4, bias=False)
        self.branch3_bn1 = nn.BatchNorm2d(64)
        self.branch3_relu1 = nn.ReLU()
        self.branch4_conv1 = nn.Conv2d(64, 64, kernel_size=3, padding=6, dilation=6, bias=False)
        self.branch4_bn1 = nn.BatchNorm2d(64)
        self.branch4_relu1 = nn.ReLU()
        self.branch5_pool1 = nn.AdaptiveAvgPool2d(1)
        self.branch5_conv1 = nn.Conv2d(64, 64, kernel_size=1, bias=False)
        self.branch5_bn1 = nn.BatchNorm2d(64)
        self.branch5_relu1 = nn.ReLU()
        self.branch5_up1 = UpsampleLike(mode="bilinear")
        self.conv5 = nn.Conv2d(320, 64, kernel_size=1, bias=False)
        self.bn5 = nn.BatchNorm2d(64)
        self.relu5 = nn.ReLU()
        self.dropout1 = nn.Dropout(p=0.1)
        self.conv6 = nn.Conv2d(64, 10, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)                                         # (B, 32, 64, 64)
        x = self.bn1(x)                                           # (B, 32, 64, 64)
        x = self.relu1(x)                                         # (B, 32, 64, 64)
        x = self.conv2(x)                                         # (B, 48, 32, 32)
        x = self.bn2(x)                                           # (B, 48, 32, 32)
        x = self.relu2(x)                                         # (B, 48, 32, 32)
        x = self.conv3(x)                                         # (B, 64, 16, 16)
        x = self.bn3(x)                                           # (B, 64, 16, 16)
        x = self.relu3(x)                                         # (B, 64, 16, 16)
        x = self.conv4(x)                                         # (B, 64, 16, 16)
        x = self.bn4(x)                                           # (B, 64, 16, 16)
        f = self.f(x)                                             # (B, 64, 16, 16)  64x16x16
        branch1 = self.branch1_conv1(f)                           # (B, 64, 16, 16)
        branch1 = self.branch1_bn1(branch1)                       # (B, 64, 16, 16)
        branch1 = self.branch1_relu1(branch1)                     # (B, 64, 16, 16)
        branch2 = self.branch2_conv1(f)                           # (B, 64, 16, 16)
        branch2 = self.branch2_bn1(branch2)                       # (B, 64, 16, 16)
        branch2 = self.branch2_relu1(branch2)                     # (B, 64, 16, 16)
        branch3 = self.branch3_conv1(f)                           # (B, 64, 16, 16)
        branch3 = self.branch3_bn1(branch3)                       # (B, 64, 16, 16)
        branch3 = self.branch3_relu1(branch3)                     # (B, 64, 16, 16)
        branch4 = self.branch4_conv1(f)                           # (B, 64, 16, 16)
        branch4 = self.branch4_bn1(branch4)                       # (B, 64, 16, 16)
        branch4 = self.branch4_relu1(branch4)                     # (B, 64, 16, 16)
        branch5 = self.branch5_pool1(f)                           # (B, 64, 1, 1)
        branch5 = self.branch5_conv1(branch5)                     # (B, 64, 1, 1)
        branch5 = self.branch5_bn1(branch5)                       # (B, 64, 1, 1)
        branch5 = self.branch5_relu1(branch5)                     # (B, 64, 1, 1)
        branch5 = self.branch5_up1(branch5, f)                    # (B, 64, 16, 16)
        # (B, 320, 16, 16)  320x16x16
        x = torch.cat([branch1, branch2, branch3, branch4, branch5], dim=1)
        x = self.conv5(x)                                         # (B, 64, 16, 16)
        x = self.bn5(x)                                           # (B, 64, 16, 16)
        x = self.relu5(x)                                         # (B, 64, 16, 16)
        x = self.dropout1(x)                                      # (B, 64, 16, 16)
        x = self.conv6(x)  # (B, 10, 16, 16)  10x16x16: class scores
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "aspp_small.cnn"
SPEC = (
    "# An ASPP head (atrous spatial pyramid pooling, DeepLabv3: Chen et al., 2017) "
    "on a small\n"
    "# backbone at output stride 8: a 1x1 branch, 3x3 branches at dilations 2, 4 an"
    "d 6, and image\n"
    "# pooling, concatenated and projected to 64 channels, then a 1x1 classifier fo"
    "r 10 classes.\n"
    "# The image-pooling branch follows the feature map's size at run time (`like=@"
    "f`), so the\n"
    "# compiled module runs at any input size that divides by 8.\n"
    "model AsppSmall\n"
    "input 3x128x128\n"
    "\n"
    "# the backbone: three stride-2 stages, 64 channels at 1/8 of the input\n"
    "conv 32 k3 s2 p1 nobias -> bn -> relu -> conv 48 k3 s2 p1 nobias -> bn -> relu"
    "\n"
    "-> conv 64 k3 s2 p1 nobias -> bn -> relu -> conv 64 k3 p1 nobias -> bn -> relu"
    " as f  # 64x16x16\n"
    "# ASPP: 1x1, three dilated 3x3, and the image's mean brought back to f's size,"
    " 64 each\n"
    "-> concat(\n"
    "    conv 64 k1 nobias -> bn -> relu,\n"
    "    conv 64 k3 p2 d2 nobias -> bn -> relu,\n"
    "    conv 64 k3 p4 d4 nobias -> bn -> relu,\n"
    "    conv 64 k3 p6 d6 nobias -> bn -> relu,\n"
    "    gap -> conv 64 k1 nobias -> bn -> relu -> upsample linear like=@f,\n"
    ")                                                                # 320x16x16\n"
    "-> conv 64 k1 nobias -> bn -> relu -> dropout 0.1 -> conv 10 k1  # 10x16x16: c"
    "lass scores\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(AsppSmall, SPEC_PATH, SPEC))
