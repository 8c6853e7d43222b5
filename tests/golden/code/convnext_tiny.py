"""ConvNeXtTiny: compiled by cnndsl 0.1.0 from convnext_tiny.cnn.

Edit the spec, not this file: `cnndsl compile convnext_tiny.cnn` writes it again.

Input 3x224x224 -> output 1000; 28,589,128 parameters; 4.47G multiply-adds.

    Module                   Layer                        Output                 Params
    ------------------------ ---------------------------- ---------------- ------------
    conv1                    conv 96 k4 s4                96x56x56                4,704
    ln1                      layernorm eps=1e-6           96x56x56                  192
    cnblock1                 CNBlock(0)                   96x56x56               79,296
    cnblock2                 CNBlock(sd)                  96x56x56               79,296
    cnblock3                 CNBlock(sd*2)                96x56x56               79,296
    downsample1              Downsample(192)              192x28x28              74,112
    cnblock4                 CNBlock(sd*3)                192x28x28             306,048
    cnblock5                 CNBlock(sd*4)                192x28x28             306,048
    cnblock6                 CNBlock(sd*5)                192x28x28             306,048
    downsample2              Downsample(384)              384x14x14             295,680
    cnblock7                 CNBlock(sd*6)                384x14x14           1,201,920
    cnblock8                 CNBlock(sd*7)                384x14x14           1,201,920
    cnblock9                 CNBlock(sd*8)                384x14x14           1,201,920
    cnblock10                CNBlock(sd*9)                384x14x14           1,201,920
    cnblock11                CNBlock(sd*10)               384x14x14           1,201,920
    cnblock12                CNBlock(sd*11)               384x14x14           1,201,920
    cnblock13                CNBlock(sd*12)               384x14x14           1,201,920
    cnblock14                CNBlock(sd*13)               384x14x14           1,201,920
    cnblock15                CNBlock(sd*14)               384x14x14           1,201,920
    downsample3              Downsample(768)              768x7x7             1,181,184
    cnblock16                CNBlock(sd*15)               768x7x7             4,763,136
    cnblock17                CNBlock(sd*16)               768x7x7             4,763,136
    cnblock18                CNBlock(sd*17)               768x7x7             4,763,136
    pool1                    gap                          768x1x1                     0
    ln2                      layernorm eps=1e-6           768x1x1                 1,536
    fc1                      fc 1000                      1000                  769,000
    ------------------------ ---------------------------- ---------------- ------------
    Total                                                                    28,589,128
"""

import torch
from torch import nn


class ChannelLayerNorm(nn.Module):
    """Layer norm over the channels at each position of a (B, C, *) tensor
    (ConvNeXt's channels-first layer norm)."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.movedim(1, -1)
        x = nn.functional.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)
        return x.movedim(-1, 1)


class DropPath(nn.Module):
    """Stochastic depth: while training, zero each sample's input with
    probability `p` and scale the rest by 1 / (1 - p); the identity in eval."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


class Scale(nn.Module):
    """A learnable per-channel multiplier (layer scale), initialised to `init`."""

    def __init__(self, channels: int, init: float = 1.0, dims: int = 0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,) + (1,) * dims, init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight


class CNBlock(nn.Module):
    """The `CNBlock` block of the spec; its first use, `CNBlock(0)` on 96x56x56 input, has 79,296
    parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, p: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, in_channels, kernel_size=7, padding=3, groups=in_channels,
        )
        self.ln1 = ChannelLayerNorm(in_channels, eps=1e-06)
        self.conv2 = nn.Conv2d(in_channels, 4 * in_channels, kernel_size=1)
        self.gelu1 = nn.GELU()
        self.conv3 = nn.Conv2d(4 * in_channels, in_channels, kernel_size=1)
        self.scale1 = Scale(in_channels, init=1e-06, dims=2)
        self.droppath1 = DropPath(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        x = self.conv1(x)      # (B, in_channels, H, W)
        x = self.ln1(x)        # (B, in_channels, H, W)
        x = self.conv2(x)      # (B, 4 * in_channels, H, W)
        x = self.gelu1(x)      # (B, 4 * in_channels, H, W)
        x = self.conv3(x)      # (B, in_channels, H, W)
        x = self.scale1(x)     # (B, in_channels, H, W)
        x = self.droppath1(x)  # (B, in_channels, H, W)
        x = x + identity       # (B, in_channels, H, W)
        return x


class Downsample(nn.Module):
    """The `Downsample` block of the spec; its first use, `Downsample(192)` on 96x56x56 input,
    has 74,112 parameters.

    Shapes in comments are for an input of (B, in_channels, H, W).
    """

    def __init__(self, in_channels: int, c: int) -> None:
        super().__init__()
        self.ln1 = ChannelLayerNorm(in_channels, eps=1e-06)
        self.conv1 = nn.Conv2d(in_channels, c, kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x)    # (B, in_channels, H, W)
        x = self.conv1(x)  # (B, c, H // 2, W // 2)
        return x


class ConvNeXtTiny(nn.Module):
    """ConvNeXtTiny: 3x224x224 -> 1000, 28,589,128 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 96, kernel_size=4, stride=4)
        self.ln1 = ChannelLayerNorm(96, eps=1e-06)
        self.cnblock1 = CNBlock(96, p=0)
        self.cnblock2 = CNBlock(96, p=0.0058823529411764705)
        self.cnblock3 = CNBlock(96, p=0.011764705882352941)
        self.downsample1 = Downsample(96, c=192)
        self.cnblock4 = CNBlock(192, p=0.01764705882352941)
        self.cnblock5 = CNBlock(192, p=0.023529411764705882)
        self.cnblock6 = CNBlock(192, p=0.029411764705882353)
        self.downsample2 = Downsample(192, c=384)
        self.cnblock7 = CNBlock(384, p=0.03529411764705882)
        self.cnblock8 = CNBlock(384, p=0.041176470588235294)
        self.cnblock9 = CNBlock(384, p=0.047058823529411764)
        self.cnblock10 = CNBlock(384, p=0.052941176470588235)
        self.cnblock11 = CNBlock(384, p=0.058823529411764705)
        self.cnblock12 = CNBlock(384, p=0.06470588235294118)
        self.cnblock13 = CNBlock(384, p=0.07058823529411765)
        self.cnblock14 = CNBlock(384, p=0.07647058823529412)
        self.cnblock15 = CNBlock(384, p=0.08235294117647059)
        self.downsample3 = Downsample(384, c=768)
        self.cnblock16 = CNBlock(768, p=0.08823529411764706)
        self.cnblock17 = CNBlock(768, p=0.09411764705882353)
        self.cnblock18 = CNBlock(768, p=0.1)
        self.pool1 = nn.AdaptiveAvgPool2d(1)
        self.ln2 = ChannelLayerNorm(768, eps=1e-06)
        self.fc1 = nn.Linear(768, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)        # (B, 96, 56, 56)
        x = self.ln1(x)          # (B, 96, 56, 56)  96x56x56
        x = self.cnblock1(x)     # (B, 96, 56, 56)
        x = self.cnblock2(x)     # (B, 96, 56, 56)
        x = self.cnblock3(x)     # (B, 96, 56, 56)
        x = self.downsample1(x)  # (B, 192, 28, 28)  192x28x28
        x = self.cnblock4(x)     # (B, 192, 28, 28)
        x = self.cnblock5(x)     # (B, 192, 28, 28)
        x = self.cnblock6(x)     # (B, 192, 28, 28)
        x = self.downsample2(x)  # (B, 384, 14, 14)  384x14x14
        x = self.cnblock7(x)     # (B, 384, 14, 14)
        x = self.cnblock8(x)     # (B, 384, 14, 14)
        x = self.cnblock9(x)     # (B, 384, 14, 14)
        x = self.cnblock10(x)    # (B, 384, 14, 14)
        x = self.cnblock11(x)    # (B, 384, 14, 14)
        x = self.cnblock12(x)    # (B, 384, 14, 14)
        x = self.cnblock13(x)    # (B, 384, 14, 14)
        x = self.cnblock14(x)    # (B, 384, 14, 14)
        x = self.cnblock15(x)    # (B, 384, 14, 14)
        x = self.downsample3(x)  # (B, 768, 7, 7)  768x7x7
        x = self.cnblock16(x)    # (B, 768, 7, 7)
        x = self.cnblock17(x)    # (B, 768, 7, 7)
        x = self.cnblock18(x)    # (B, 768, 7, 7)
        x = self.pool1(x)        # (B, 768, 1, 1)
        x = self.ln2(x)          # (B, 768, 1, 1)
        x = x.flatten(1)         # (B, 768)
        x = self.fc1(x)          # (B, 1000)
        return x


#: The spec this file was compiled from (`cnndsl train` checks it again).
SPEC_PATH = "convnext_tiny.cnn"
SPEC = (
    "# ConvNeXt-Tiny (Liu et al., 2022), as torchvision builds it\n"
    "# (torchvision/models/convnext.py): 28,589,128 parameters.\n"
    "# Twin: tests/twins/convnext.py. torchvision's two channels-last nn.Linear lay"
    "ers per\n"
    "# block are 1x1 convs here: the same parameters, the same maths.\n"
    "model ConvNeXtTiny\n"
    "input 3x224x224\n"
    "\n"
    "# Stochastic depth: block i of 18 drops its branch with probability 0.1 * i / "
    "17.\n"
    "let sd = 0.1 / 17                  # the drop-path rate grows by 0.1 / 17 a bl"
    "ock\n"
    "\n"
    "# depthwise 7x7 -> layer norm -> 1x1 to 4x -> GELU -> 1x1 back -> layer scale"
    "\n"
    "# -> stochastic depth, added to the input\n"
    "block CNBlock(p) {\n"
    "    residual(\n"
    "        conv in k7 p3 groups=in -> layernorm eps=1e-6\n"
    "        -> conv 4*in k1 -> gelu -> conv in k1\n"
    "        -> scale 1e-6 -> droppath p\n"
    "    )\n"
    "}\n"
    "# between stages: layer norm, then a 2x2 stride-2 conv\n"
    "block Downsample(c) { layernorm eps=1e-6 -> conv c k2 s2 }\n"
    "\n"
    "conv 96 k4 s4 -> layernorm eps=1e-6                                  # 96x56x5"
    "6\n"
    "-> CNBlock(0) -> CNBlock(sd) -> CNBlock(sd*2)\n"
    "-> Downsample(192)                                                   # 192x28x"
    "28\n"
    "-> CNBlock(sd*3) -> CNBlock(sd*4) -> CNBlock(sd*5)\n"
    "-> Downsample(384)                                                   # 384x14x"
    "14\n"
    "-> CNBlock(sd*6) -> CNBlock(sd*7) -> CNBlock(sd*8)\n"
    "-> CNBlock(sd*9) -> CNBlock(sd*10) -> CNBlock(sd*11)\n"
    "-> CNBlock(sd*12) -> CNBlock(sd*13) -> CNBlock(sd*14)\n"
    "-> Downsample(768)                                                   # 768x7x7"
    "\n"
    "-> CNBlock(sd*15) -> CNBlock(sd*16) -> CNBlock(sd*17)\n"
    "-> gap -> layernorm eps=1e-6 -> fc 1000\n"
    "\n"
    "assert params == 28589128\n"
)


if __name__ == "__main__":
    # Running this file trains the model with cnndsl's harness, exactly as
    # `cnndsl train SPEC_PATH` does, with the same flags.
    try:
        from cnndsl.train.entry import main
    except ImportError:
        message = "training needs cnndsl: pip install cnndsl (the model needs only torch)"
        raise SystemExit(message) from None
    raise SystemExit(main(ConvNeXtTiny, SPEC_PATH, SPEC))
