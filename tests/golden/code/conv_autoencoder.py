"""ConvAutoencoder: compiled by cnndsl 0.1.0 from conv_autoencoder.cnn.

Edit the spec, not this file: `cnndsl compile conv_autoencoder.cnn` writes it again.

Input 1x28x28 -> output 1x28x28; 210,369 parameters; 803.66K multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 16 k3 s2 p1             16x14x14                  160
    relu1                    relu                         16x14x14                    0
    conv2                    conv 32 k3 s2 p1             32x7x7                  4,640
    relu2                    relu                         32x7x7                      0
    conv3                    conv 64 k7                   64x1x1                100,416
    convt1                   convt 32 k7                  32x7x7                100,384
    relu3                    relu                         32x7x7                      0
    convt2                   convt 16 k3 s2 p1 output_pa… 16x14x14                4,624
    relu4                    relu                         16x14x14                    0
    up1                      upsample 2                   16x28x28                    0
    conv4                    conv 1 k3 p1                 1x28x28                   145
    sigmoid1                 sigmoid                      1x28x28                     0
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                       210,369
"""

import torch
from torch import nn


class ConvAutoencoder(nn.Module):
    """ConvAutoencoder: 1x28x28 -> 1x28x28, 210,369 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(32, 64, kernel_size=7)
        self.convt1 = nn.ConvTranspose2d(64, 32, kernel_size=7)
        self.relu3 = nn.ReLU()
        self.convt2 = nn.ConvTranspose2d(
            32, 16, kernel_size=3, stride=2, padding=1, output_padding=1,
        )
        self.relu4 = nn.ReLU()
        self.up1 = nn.Upsample(scale_factor=2)
        self.conv4 = nn.Conv2d(16, 1, kernel_size=3, padding=1)
        self.sigmoid1 = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)     # (B, 16, 14, 14)
        x = self.relu1(x)     # (B, 16, 14, 14)  16x14x14
        x = self.conv2(x)     # (B, 32, 7, 7)
        x = self.relu2(x)     # (B, 32, 7, 7)  32x7x7
        x = self.conv3(x)     # (B, 64, 1, 1)  64x1x1: the code
        x = self.convt1(x)    # (B, 32, 7, 7)
        x = self.relu3(x)     # (B, 32, 7, 7)  32x7x7
        x = self.convt2(x)    # (B, 16, 14, 14)
        x = self.relu4(x)     # (B, 16, 14, 14)  16x14x14
        x = self.up1(x)       # (B, 16, 28, 28)
        x = self.conv4(x)     # (B, 1, 28, 28)
        x = self.sigmoid1(x)  # (B, 1, 28, 28)  1x28x28
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "conv_autoencoder.cnn"
SPEC = (
    "# A small convolutional autoencoder for 1x28x28 images: strided convs down to "
    "a 64x1x1\n"
    "# code, transposed convs and a nearest upsampling back up; 210,369 parameters."
    "\n"
    "# Twin: tests/twins/autoencoder.py.\n"
    "model ConvAutoencoder\n"
    "input 1x28x28\n"
    "\n"
    "# encoder\n"
    "conv 16 k3 s2 p1 -> relu                         # 16x14x14\n"
    "-> conv 32 k3 s2 p1 -> relu                      # 32x7x7\n"
    "-> conv 64 k7                                    # 64x1x1: the code\n"
    "# decoder\n"
    "-> convt 32 k7 -> relu                           # 32x7x7\n"
    "-> convt 16 k3 s2 p1 output_padding=1 -> relu    # 16x14x14\n"
    "-> upsample 2 -> conv 1 k3 p1 -> sigmoid         # 1x28x28\n"
    "\n"
    "assert params == 210369\n"
    "assert output == 1x28x28\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(ConvAutoencoder, SPEC_PATH, SPEC))
