"""The foreign layers cnndsl answers, as data: each PyTorch and Keras layer with its
signature, its closest cnndsl word and its translation; and the bare words of
other libraries (`dense`, `MaxPooling2D`) with their cnndsl words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cnndsl.front.habits.translations import (
    _activation,
    _adaptive,
    _dense,
    _dropout,
    _gelu,
    _groupnorm,
    _instancenorm,
    _keras_batchnorm,
    _keras_conv,
    _keras_leaky,
    _keras_pool,
    _keras_upsample,
    _linear,
    _nothing,
    _pad,
    _plain,
    _shuffle,
    _softmax,
    _softplus,
    _torch_batchnorm,
    _torch_conv,
    _torch_flatten,
    _torch_pool,
    _torch_upsample,
    _with_number,
)
from cnndsl.front.habits.values import Call
from cnndsl.ir.layers import canonical

PYTORCH, KERAS = "PyTorch", "Keras"


@dataclass(frozen=True)
class Foreign:
    """A layer of another library: where it comes from, the cnndsl word closest
    to it, its parameters in order, and its exact translation."""

    library: str
    qualified: str
    word: str
    signature: tuple[str, ...]
    translate: Callable[[Call], str]

    @property
    def exact(self) -> bool:
        """Whether some call of it has an exact translation."""
        return not getattr(self.translate, "never", False)

    def named(self) -> str:
        if self.word == "->":
            return "cnndsl joins layers with `->`"
        if self.qualified.endswith(".Activation"):
            return "cnndsl writes an activation as its word: `relu`, `sigmoid`, `gelu`, ..."
        return f"cnndsl's word is `{self.word}`"


def _torch(name: str, word: str, signature: tuple[str, ...], translate) -> Foreign:
    return Foreign(PYTORCH, f"nn.{name}", word, signature, translate)


def _keras(name: str, word: str, signature: tuple[str, ...], translate) -> Foreign:
    return Foreign(KERAS, f"keras.layers.{name}", word, signature, translate)


_CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
         "bias", "padding_mode")
_CONVT = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding",
          "groups", "bias", "dilation", "padding_mode")
_KCONV = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
          "groups", "activation", "use_bias")
_KCONVT = ("filters", "kernel_size", "strides", "padding", "output_padding", "data_format",
           "dilation_rate", "activation", "use_bias")
_MAXPOOL = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
_AVGPOOL = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
            "divisor_override")
_KPOOL = ("pool_size", "strides", "padding", "data_format")
_BN = ("num_features", "eps", "momentum", "affine", "track_running_stats")


def _ranked(n: int) -> list[Foreign]:
    """The layers that come in 1, 2 and 3 dimensions, for `n` of them."""
    return [
        _torch(f"Conv{n}d", "conv", _CONV, _torch_conv),
        _torch(f"ConvTranspose{n}d", "convt", _CONVT,
               lambda c: _torch_conv(c, transposed=True)),
        _torch(f"MaxPool{n}d", "maxpool", _MAXPOOL, _torch_pool("maxpool")),
        _torch(f"AvgPool{n}d", "avgpool", _AVGPOOL, _torch_pool("avgpool")),
        _torch(f"AdaptiveAvgPool{n}d", "adaptiveavgpool", ("output_size",),
               _adaptive("gap", "adaptiveavgpool")),
        _torch(f"AdaptiveMaxPool{n}d", "adaptivemaxpool", ("output_size", "return_indices"),
               _adaptive("gmp", "adaptivemaxpool")),
        _torch(f"BatchNorm{n}d", "batchnorm", _BN, _torch_batchnorm),
        _torch(f"InstanceNorm{n}d", "instancenorm", _BN, _instancenorm),
        _torch(f"Dropout{n}d", "dropout", ("p",),
               _nothing("cnndsl's `dropout` drops single values, not whole channels")),
        _keras(f"Conv{n}D", "conv", _KCONV, _keras_conv),
        _keras(f"MaxPooling{n}D", "maxpool", _KPOOL, _keras_pool("maxpool")),
        _keras(f"AveragePooling{n}D", "avgpool", _KPOOL, _keras_pool("avgpool")),
        _keras(f"GlobalAveragePooling{n}D", "gap", ("data_format", "keepdims"),
               _plain("gap -> flatten")),
        _keras(f"GlobalMaxPooling{n}D", "gmp", ("data_format", "keepdims"),
               _plain(f"{'gmp' if canonical('gmp') else 'adaptivemaxpool 1'} -> flatten")),
        _keras(f"UpSampling{n}D", "upsample", ("size", "data_format", "interpolation"),
               _keras_upsample),
        _keras(f"ZeroPadding{n}D", "pad", ("padding", "data_format"), _pad("padding")),
    ]


def _unranked() -> list[Foreign]:
    """Dense layers, dropout, flattening and activations."""
    return [
        _keras("Conv2DTranspose", "convt", _KCONVT, lambda c: _keras_conv(c, transposed=True)),
        _torch("Linear", "fc", ("in_features", "out_features", "bias"), _linear),
        _torch("LazyLinear", "fc", ("out_features", "bias"), _linear),
        _keras("Dense", "fc", ("units", "activation", "use_bias"), _dense),
        _torch("Dropout", "dropout", ("p", "inplace"), _dropout("p", "0.5")),
        _keras("Dropout", "dropout", ("rate", "noise_shape", "seed"), _dropout("rate", None)),
        _torch("Flatten", "flatten", ("start_dim", "end_dim"), _torch_flatten),
        _keras("Flatten", "flatten", ("data_format",), _plain("flatten")),
        _torch("ReLU", "relu", ("inplace",), _plain("relu")),
        _keras("ReLU", "relu", ("max_value", "negative_slope", "threshold"), _plain("relu")),
        _torch("ReLU6", "relu6", ("inplace",), _plain("relu6")),
        _torch("Sigmoid", "sigmoid", (), _plain("sigmoid")),
        _torch("Tanh", "tanh", (), _plain("tanh")),
        _torch("GELU", "gelu", ("approximate",), _gelu),
        _torch("SiLU", "silu", ("inplace",), _plain("silu")),
        _torch("Mish", "mish", ("inplace",), _plain("mish")),
        _torch("SELU", "selu", ("inplace",), _plain("selu")),
        _torch("Hardswish", "hardswish", ("inplace",), _plain("hardswish")),
        _torch("Hardsigmoid", "hardsigmoid", ("inplace",), _plain("hardsigmoid")),
        _torch("Softplus", "softplus", ("beta", "threshold"), _softplus),
        _torch("PReLU", "prelu", ("num_parameters", "init"),
               _nothing("cnndsl's `prelu` learns one slope per channel")),
        _torch("ELU", "elu", ("alpha", "inplace"), _with_number("elu", "alpha", "1.0")),
        _keras("ELU", "elu", ("alpha",), _with_number("elu", "alpha", "1.0")),
        _torch("LeakyReLU", "leakyrelu", ("negative_slope", "inplace"),
               _with_number("leakyrelu", "negative_slope", "0.01")),
        _keras("LeakyReLU", "leakyrelu", ("negative_slope",), _keras_leaky),
        _torch("Softmax", "softmax", ("dim",), _softmax("softmax", "dim", ("1",))),
        _keras("Softmax", "softmax", ("axis",), _softmax("softmax", "axis", ("-1",))),
        _torch("LogSoftmax", "logsoftmax", ("dim",), _softmax("logsoftmax", "dim", ("1",))),
        _torch("Identity", "identity", (), _plain("identity")),
        _keras("Activation", "relu", ("activation",), _activation),
    ]


def _reshaping() -> list[Foreign]:
    """Resampling, shuffling, normalisation, padding and containers."""
    return [
        _torch("Upsample", "upsample", ("size", "scale_factor", "mode", "align_corners"),
               _torch_upsample),
        _torch("PixelShuffle", "pixelshuffle", ("upscale_factor",),
               _shuffle("pixelshuffle", "upscale_factor")),
        _torch("PixelUnshuffle", "pixelunshuffle", ("downscale_factor",),
               _shuffle("pixelunshuffle", "downscale_factor")),
        _torch("ChannelShuffle", "shuffle", ("groups",), _shuffle("shuffle", "groups")),
        _torch("GroupNorm", "groupnorm", ("num_groups", "num_channels", "eps", "affine"),
               _groupnorm),
        _torch("LayerNorm", "layernorm", ("normalized_shape", "eps"),
               _nothing("cnndsl's `layernorm` normalises the channels at each position")),
        _keras("BatchNormalization", "batchnorm",
               ("axis", "momentum", "epsilon", "center", "scale"), _keras_batchnorm),
        _keras("LayerNormalization", "layernorm", ("axis", "epsilon"),
               _nothing("cnndsl's `layernorm` normalises the channels at each position")),
        _torch("ZeroPad2d", "pad", ("padding",), _pad("padding")),
        _torch("Sequential", "->", (),
               _nothing("cnndsl chains layers with `->`: `conv 8 k3 -> relu`")),
        _keras("Sequential", "->", (),
               _nothing("cnndsl chains layers with `->`: `conv 8 k3 -> relu`")),
    ]


def _table() -> dict[tuple[str, str], Foreign]:
    entries = [e for n in (1, 2, 3) for e in _ranked(n)] + _unranked() + _reshaping()
    return {(e.library, e.qualified.rsplit(".", 1)[-1]): e for e in entries}


FOREIGN = _table()
#: what the last part of a dotted name says about its library
_PREFIXES = {"nn": PYTORCH, "torch.nn": PYTORCH, "layers": KERAS, "keras.layers": KERAS,
             "tf.keras.layers": KERAS, "tensorflow.keras.layers": KERAS, "": None}
#: lowercase habits: other libraries' words and short forms for cnndsl's
BARE_WORDS = {"dense": "fc", "max": "maxpool", "avg": "avgpool", "maxpooling": "maxpool",
              "avgpooling": "avgpool", "averagepooling": "avgpool",
              "convolution": "conv", "batchnormalization": "batchnorm",
              "globalaveragepooling": "gap", "globalavgpool2d": "gap",
              "upsampling": "upsample", "leaky_relu": "leakyrelu", "leaky": "leakyrelu",
              "log_softmax": "logsoftmax", "batch_norm": "batchnorm", "max_pool": "maxpool",
              "avg_pool": "avgpool"}
for (_, _name), _entry in FOREIGN.items():
    if _entry.exact and _entry.word != "->" and _name != "Activation":
        BARE_WORDS.setdefault(_name.lower(), _entry.word)
BARE_WORDS = {k: v for k, v in BARE_WORDS.items() if canonical(v)}   # words of this version


def candidates(name: str) -> list[Foreign]:
    """The foreign layers a name may mean: `nn.Conv2d` -> PyTorch's; `Dropout` -> both."""
    prefix, _, last = name.rpartition(".")
    if prefix not in _PREFIXES:
        return []
    library = _PREFIXES[prefix]
    return [e for (lib, key), e in FOREIGN.items() if key == last and library in (None, lib)]
