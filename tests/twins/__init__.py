"""Reference networks written by hand in plain `torch.nn`, torchvision-style, each the
twin of a draft spec in `specs/` (same file stem). A compiled spec and its
twin must call their parameterised modules in the same order (see `compare.py`).

`TWINS[name] = (factory, input_shape, expected_params)`; the figures are torchvision's
published ones where torchvision has the network, otherwise counted by hand in the
twin's docstring and in the spec's `assert params == N`."""

from __future__ import annotations

from .autoencoder import conv_autoencoder
from .convnext import convnext_tiny
from .dcgan import dcgan_generator
from .densenet import densenet121
from .efficientnet import efficientnet_b0
from .fpn import fpn_resnet18
from .googlenet import googlenet
from .mobilenetv3 import mobilenet_v3_small
from .shufflenetv2 import shufflenet_v2_x1_0
from .unet import unet_small

IMAGENET = (3, 224, 224)

TWINS = {
    "efficientnet_b0": (efficientnet_b0, IMAGENET, 5_288_548),
    "mobilenet_v3_small": (mobilenet_v3_small, IMAGENET, 2_542_856),
    "shufflenet_v2_x1_0": (shufflenet_v2_x1_0, IMAGENET, 2_278_604),
    "densenet121": (densenet121, IMAGENET, 7_978_856),
    "googlenet": (googlenet, IMAGENET, 6_624_904),
    "convnext_tiny": (convnext_tiny, IMAGENET, 28_589_128),
    "unet_small": (unet_small, (1, 64, 64), 466_626),
    "fpn_resnet18": (fpn_resnet18, IMAGENET, 13_176_896),
    "dcgan_generator": (dcgan_generator, (100, 1, 1), 3_576_704),
    "conv_autoencoder": (conv_autoencoder, (1, 28, 28), 210_369),
}
