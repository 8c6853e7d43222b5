"""Generator: compiled by cnndsl 0.1.0 from dcgan_generator.cnn.

Edit the spec, not this file: `cnndsl compile dcgan_generator.cnn` writes it again.

Input 100x1x1 -> output 3x64x64; 3,576,704 parameters; 104.63M multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    convt1                   convt ngf*8 k4 s1 p0 nobias  512x4x4               819,200
    bn1                      bn                           512x4x4                 1,024
    relu1                    relu                         512x4x4                     0
    up_block1                Up(ngf*4)                    256x8x8             2,097,664
    up_block2                Up(ngf*2)                    128x16x16             524,544
    up_block3                Up(ngf)                      64x32x32              131,200
    convt2                   convt 3 k4 s2 p1 nobias      3x64x64                 3,072
    tanh1                    tanh                         3x64x64                     0
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                     3,576,704
"""

import torch
from torch import nn


class Up(nn.Module):
    """The `Up` block of the spec; its first use, `Up(ngf*4)` on 512x4x4 input, has 2,097,664
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.convt1 = nn.ConvTranspose2d(
            in_channels, c, kernel_size=4, stride=2, padding=1, bias=False,
        )
        self.bn1 = nn.BatchNorm2d(c)
        self.relu1 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.convt1(x)  # (B, c, 2*H, 2*W)
        x = self.bn1(x)     # (B, c, 2*H, 2*W)
        x = self.relu1(x)   # (B, c, 2*H, 2*W)
        return x


class Generator(nn.Module):
    """Generator: 100x1x1 -> 3x64x64, 3,576,704 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.convt1 = nn.ConvTranspose2d(100, 512, kernel_size=4, bias=False)
        self.bn1 = nn.BatchNorm2d(512)
        self.relu1 = nn.ReLU()
        self.up_block1 = Up(512, c=256)
        self.up_block2 = Up(256, c=128)
        self.up_block3 = Up(128, c=64)
        self.convt2 = nn.ConvTranspose2d(64, 3, kernel_size=4, stride=2, padding=1, bias=False)
        self.tanh1 = nn.Tanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.convt1(x)     # (B, 512, 4, 4)
        x = self.bn1(x)        # (B, 512, 4, 4)
        x = self.relu1(x)      # (B, 512, 4, 4)  512x4x4
        x = self.up_block1(x)  # (B, 256, 8, 8)  256x8x8
        x = self.up_block2(x)  # (B, 128, 16, 16)  128x16x16
        x = self.up_block3(x)  # (B, 64, 32, 32)  64x32x32
        x = self.convt2(x)     # (B, 3, 64, 64)
        x = self.tanh1(x)      # (B, 3, 64, 64)  3x64x64
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "dcgan_generator.cnn"
SPEC = (
    "# The DCGAN generator (Radford et al., 2015) of the PyTorch DCGAN tutorial: a "
    "code of\n"
    "# nz = 100 numbers in, a 3x64x64 image out (ngf = 64); 3,576,704 parameters.\n"
    "# Twin: tests/twins/dcgan.py.\n"
    "model Generator\n"
    "input 100x1x1\n"
    "\n"
    "let ngf = 64\n"
    "\n"
    "# a 4x4 transposed convolution that doubles the size, batch norm, ReLU\n"
    "block Up(c) { convt c k4 s2 p1 nobias -> bn -> relu }\n"
    "\n"
    "convt ngf*8 k4 s1 p0 nobias -> bn -> relu     # 512x4x4\n"
    "-> Up(ngf*4)                                  # 256x8x8\n"
    "-> Up(ngf*2)                                  # 128x16x16\n"
    "-> Up(ngf)                                    # 64x32x32\n"
    "-> convt 3 k4 s2 p1 nobias -> tanh            # 3x64x64\n"
    "\n"
    "assert params == 3576704\n"
    "assert output == 3x64x64\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(Generator, SPEC_PATH, SPEC))
