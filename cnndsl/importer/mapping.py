"""PyTorch modules and functions -> the language's layer words.

`module_layer(m)` reads a built-in module's attributes and gives its `Layer`
(only arguments that differ from the word's defaults); functions and tensor
methods are read by `function_layer`. Anything without a word raises
`Unsupported` with the nearest rewrite.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cnndsl.importer.unsupported import Unsupported

Value = int | float | str | tuple


@dataclass(frozen=True)
class Layer:
    """A layer word with its written arguments: (field, value) pairs in the
    registry's order; a field at its default is left out."""

    word: str
    args: tuple[tuple[str, Value], ...] = ()

    def get(self, field: str, default=None):
        return dict(self.args).get(field, default)


def size(value) -> Value:
    """A PyTorch int-or-tuple as the language writes it: `3` for (3, 3), `1x7` otherwise."""
    if isinstance(value, (list, tuple)):
        items = tuple(int(v) for v in value)
        return items[0] if len(set(items)) == 1 else items
    return int(value)


def _layer(word: str, **fields) -> Layer:
    return Layer(word, tuple((k, v) for k, v in fields.items() if v is not None))


def _conv(m: nn.Module) -> Layer:
    padding = m.padding if isinstance(m.padding, str) else size(m.padding)
    if padding == "valid":
        padding = 0
    mode = m.padding_mode
    return _layer("conv", out=m.out_channels, kernel=size(m.kernel_size),
                  stride=_unless(size(m.stride), 1), padding=_unless(padding, 0),
                  dilation=_unless(size(m.dilation), 1), groups=_unless(m.groups, 1),
                  bias=None if m.bias is not None else False,
                  padding_mode=_unless(mode, "zeros"))


def _convt(m: nn.Module) -> Layer:
    if m.padding_mode != "zeros":
        raise Unsupported(f"a transposed convolution with padding_mode={m.padding_mode!r}",
                          hint="use the default zeros padding")
    return _layer("convt", out=m.out_channels, kernel=size(m.kernel_size),
                  stride=_unless(size(m.stride), 1), padding=_unless(size(m.padding), 0),
                  dilation=_unless(size(m.dilation), 1), groups=_unless(m.groups, 1),
                  bias=None if m.bias is not None else False,
                  output_padding=_unless(size(m.output_padding), 0))


def _unless(value, default):
    return None if value == default else value


def _pool(m: nn.Module) -> Layer:
    word = "maxpool" if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)) else "avgpool"
    kernel = size(m.kernel_size)
    stride = size(m.stride) if m.stride is not None else kernel
    fields = dict(kernel=kernel, stride=_unless(stride, kernel),
                  padding=_unless(size(m.padding), 0),
                  ceil=True if m.ceil_mode else None)
    if word == "maxpool":
        if getattr(m, "return_indices", False):
            raise Unsupported("a max pool that returns its indices", hint="drop return_indices")
        fields["dilation"] = _unless(size(m.dilation), 1)
    else:
        if getattr(m, "divisor_override", None):
            raise Unsupported("an average pool with divisor_override",
                              hint="use a plain average pool")
        fields["exclude_pad"] = None if m.count_include_pad else True
    return _layer(word, **fields)


def _adaptive(m: nn.Module) -> Layer:
    avg = isinstance(m, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d))
    out = m.output_size
    if isinstance(out, (tuple, list)) and any(v is None for v in out):
        raise Unsupported("an adaptive pool that keeps a dimension (None in its size)",
                          hint="give every output size")
    out = size(out)
    if out == 1:
        return Layer("gap" if avg else "gmp")
    return _layer("adaptiveavgpool" if avg else "adaptivemaxpool", size=out)


def _norm(m: nn.Module) -> Layer:
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        if not m.affine or not m.track_running_stats:
            raise Unsupported("a batch norm without affine weights or running statistics",
                              hint="use `nn.BatchNorm2d(c)` with its defaults")
        momentum = m.momentum
        if momentum is None:
            raise Unsupported("a batch norm with momentum=None (a cumulative average)",
                              hint="give it a momentum")
        return _layer("batchnorm", eps=_unless(m.eps, 1e-5), momentum=_unless(momentum, 0.1))
    if isinstance(m, nn.GroupNorm):
        if not m.affine:
            raise Unsupported("a group norm without affine weights", hint="use affine=True")
        return _layer("groupnorm", groups=m.num_groups, eps=_unless(m.eps, 1e-5))
    if isinstance(m, nn.LayerNorm):
        if len(m.normalized_shape) != 1 or not m.elementwise_affine or m.bias is None:
            raise Unsupported("a layer norm over more than the last dimension, or without "
                              "weights", hint="normalise the features (`nn.LayerNorm(n)`)")
        return _layer("layernorm", eps=_unless(m.eps, 1e-5))
    # instance norm
    if m.track_running_stats:
        raise Unsupported("an instance norm with running statistics",
                          hint="use track_running_stats=False")
    return _layer("instancenorm", eps=_unless(m.eps, 1e-5), affine=True if m.affine else None)


_PLAIN = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh",
          nn.SiLU: "silu", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid",
          nn.Mish: "mish", nn.SELU: "selu", nn.Identity: "identity"}


def _activation(m: nn.Module) -> Layer | None:
    for cls, word in _PLAIN.items():
        if type(m) is cls:
            return Layer(word)
    if type(m) is nn.GELU:
        if m.approximate != "none":
            raise Unsupported("a GELU with the tanh approximation", hint="use `nn.GELU()`")
        return Layer("gelu")
    if type(m) is nn.ELU:
        return _layer("elu", param=_unless(float(m.alpha), 1.0))
    if type(m) is nn.LeakyReLU:
        return _layer("leakyrelu", param=_unless(float(m.negative_slope), 0.01))
    if type(m) is nn.Softplus:
        if m.beta != 1 or m.threshold != 20:
            raise Unsupported("a softplus with beta or threshold changed", hint="use defaults")
        return Layer("softplus")
    if type(m) is nn.Hardtanh and (m.min_val, m.max_val) == (0.0, 6.0):
        return Layer("relu6")
    if type(m) in (nn.Softmax, nn.LogSoftmax):
        if m.dim not in (1, -1, None):
            raise Unsupported(f"a softmax over dimension {m.dim}", hint="take it over dim=1")
        return Layer("softmax" if type(m) is nn.Softmax else "logsoftmax")
    return None


def module_layer(m: nn.Module, channels: int | None = None, rank: int | None = None) -> Layer:
    """The layer word for a built-in module (`channels`/`rank`: its input's, where known)."""
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return _conv(m)
    if isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        return _convt(m)
    if isinstance(m, nn.Linear):
        return _layer("fc", out=m.out_features, bias=None if m.bias is not None else False)
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d,
                      nn.AvgPool3d)):
        return _pool(m)
    if isinstance(m, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
                      nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)):
        return _adaptive(m)
    if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm,
                      nn.modules.instancenorm._InstanceNorm)):
        return _norm(m)
    if type(m) in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout):
        return _layer("dropout", p=_unless(float(m.p), 0.5))
    if type(m) is nn.PReLU:
        if channels is not None and m.num_parameters != channels:
            raise Unsupported(f"a PReLU with {m.num_parameters} slope(s) on {channels} channels",
                              hint="give it one slope per channel: `nn.PReLU(channels)`")
        return Layer("prelu")
    found = _activation(m)
    if found is not None:
        return found
    return _shaping(m)


def _shaping(m: nn.Module) -> Layer:
    if type(m) is nn.Flatten:
        if m.start_dim != 1 or m.end_dim != -1:
            raise Unsupported("a flatten of other dimensions than all but the batch",
                              hint="use `nn.Flatten()`")
        return Layer("flatten")
    if type(m) is nn.Unflatten:
        if m.dim not in (1, -1):
            raise Unsupported("an unflatten of another dimension than 1", hint="unflatten dim 1")
        return _layer("unflatten", shape=tuple(int(v) for v in m.unflattened_size))
    if type(m) is nn.Upsample:
        return _upsample(m.scale_factor, m.size, m.mode, m.align_corners)
    if type(m) is nn.PixelShuffle:
        return _layer("pixelshuffle", factor=m.upscale_factor)
    if type(m) is nn.PixelUnshuffle:
        return _layer("pixelunshuffle", factor=m.downscale_factor)
    if type(m) is nn.ChannelShuffle:
        return _layer("shuffle", groups=m.groups)
    if isinstance(m, (nn.modules.padding._ConstantPadNd, nn.modules.padding._ReflectionPadNd,
                      nn.modules.padding._ReplicationPadNd, nn.modules.padding._CircularPadNd)):
        return _pad_module(m)
    raise Unsupported(f"`{type(m).__name__}` has no layer word",
                      hint="see `cnndsl schema` for the layers the language has")


_MODES = {"nearest": None, "linear": "linear", "bilinear": "linear", "trilinear": "linear",
          "bicubic": "cubic"}


def _upsample(scale, out, mode, align) -> Layer:
    if mode not in _MODES:
        raise Unsupported(f"an upsample in mode {mode!r}", hint="use nearest, bilinear or bicubic")
    fields: dict = {"mode": _MODES[mode], "align": True if align else None}
    if out is not None:
        fields["size"] = size(out)
    else:
        factor = scale if not isinstance(scale, (tuple, list)) else (
            scale[0] if len(set(scale)) == 1 else tuple(scale))
        if isinstance(factor, float) and factor.is_integer():
            factor = int(factor)
        fields["scale"] = factor
    return _layer("upsample", **{k: fields[k] for k in ("scale", "size", "mode", "align")
                                 if k in fields})


def _pad_module(m: nn.Module) -> Layer:
    mode = {"_ConstantPadNd": None, "_ReflectionPadNd": "reflect",
            "_ReplicationPadNd": "replicate", "_CircularPadNd": "circular"}
    kind = next(mode[c.__name__] for c in type(m).__mro__ if c.__name__ in mode)
    value = float(getattr(m, "value", 0.0) or 0.0)
    return pad_layer(tuple(m.padding), kind, value)


def pad_layer(pads: tuple[int, ...], mode: str | None, value: float = 0.0) -> Layer:
    """`F.pad`'s (left, right, top, bottom, ...) list, last dimension first, as `pad`."""
    if len(pads) % 2 or any(p < 0 for p in pads):
        raise Unsupported("a padding with a negative or odd-length list", hint="crop separately")
    before = tuple(reversed(pads[0::2]))
    after = tuple(reversed(pads[1::2]))
    extra = dict(mode=mode, value=value if value else None)
    if before == after:
        return _layer("pad", size=size(before), **extra)
    return _layer("pad", before=size(before), after=size(after), **extra)


# ---- functions and tensor methods ------------------------------------------------------

_FUNCTION_WORDS = {
    F.relu: "relu", torch.relu: "relu", F.relu6: "relu6", torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid", torch.tanh: "tanh", F.tanh: "tanh", F.silu: "silu",
    F.hardswish: "hardswish", F.hardsigmoid: "hardsigmoid", F.mish: "mish", F.selu: "selu",
    torch.selu: "selu", F.softplus: "softplus", F.relu_: "relu", torch.relu_: "relu",
    F.dropout: "dropout-eval", F.dropout2d: "dropout-eval",
}

_METHOD_WORDS = {"relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "sigmoid_": "sigmoid",
                 "tanh": "tanh", "tanh_": "tanh", "clone": "pass"}

MERGES = {operator.add: "add", torch.add: "add", operator.iadd: "add", operator.mul: "mul",
          torch.mul: "mul", operator.imul: "mul"}
MERGE_METHODS = {"add": "add", "add_": "add", "mul": "mul", "mul_": "mul"}


def activation_word(target, method: bool) -> str | None:
    """The word for an element-wise function or method, 'pass' for a no-op, or None."""
    if method:
        return _METHOD_WORDS.get(target)
    try:
        return _FUNCTION_WORDS.get(target)
    except TypeError:  # an unhashable target
        return None


def factor_of(value) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else value


def is_whole(value: float) -> bool:
    return math.isfinite(value) and float(value).is_integer()


__all__ = ["Layer", "MERGES", "MERGE_METHODS", "Unsupported", "activation_word", "module_layer",
           "pad_layer", "size"]
