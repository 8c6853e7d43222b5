"""Habits newcomers bring from PyTorch and Keras, answered in the language's words.

A pasted layer call (`nn.Conv2d(1, 8, 3, padding=1)`, `Conv2D(8, 3, activation="relu")`)
is read by a small, bounded reader of its own (numbers, tuples, strings, `True`), and
translated exactly (`conv 8 k3 p1`) where cnndsl has the same layer with the same
settings; that translation is the diagnostic's help and its fix. Where there is no exact
translation (Keras's `padding="same"` at stride 2, `nn.Dropout2d`), the cnndsl word is
named, with the reason, and nothing is fixed. A bare foreign word (`dense 10`, `max 2`,
`MaxPooling2D`) is named by its cnndsl word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from cnndsl import syntax as ast
from cnndsl.diagnostics import Diagnostic, Fix, error
from cnndsl.layers import LAYERS, canonical
from cnndsl.source import Source, Span

#: a pasted call is read only this far (characters); anything longer is not translated
MAX_CALL = 400
#: a file's pasted calls are reported up to this many
MAX_CALLS = 20
#: and at most this many foreign names are looked at
MAX_TRIES = 4 * MAX_CALLS
MAX_DIGITS = 15

PYTORCH, KERAS = "PyTorch", "Keras"

# ---- reading a pasted call's arguments --------------------------------------------------

_TOKEN = re.compile(r"""[ \t\r\n]*(?:
    (?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)
  | (?P<str>'[^'\n]*'|"[^"\n]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[(),=\[\]])
  | (?P<op>//|[*/+%-]))""", re.VERBOSE)


class Unreadable(Exception):
    """The arguments are not plain literals: no translation is attempted."""


@dataclass(frozen=True)
class Num:
    value: Decimal
    text: str

    @property
    def whole(self) -> bool:
        return self.value == self.value.to_integral_value() and not any(
            c in self.text for c in ".eE")


@dataclass(frozen=True)
class Word:
    """A string (`'same'`) or a bare name (`True`, `relu`)."""
    text: str


def read_arguments(text: str) -> tuple[list, dict]:
    """The positional and keyword arguments of a call's argument text:
    `1, 8, kernel_size=(3, 3), bias=False` -> ([1, 8], {kernel_size: (3, 3), bias: False})."""
    tokens = _tokens(text)
    positional: list = []
    keywords: dict = {}
    at = 0
    while at < len(tokens):
        if tokens[at] == ("punct", ","):
            raise Unreadable
        if tokens[at][0] == "name" and at + 1 < len(tokens) and tokens[at + 1] == ("punct", "="):
            name = tokens[at][1]
            if name in keywords:
                raise Unreadable
            keywords[name], at = _value(tokens, at + 2)
        elif keywords:
            raise Unreadable       # a positional argument after a keyword one
        else:
            value, at = _value(tokens, at)
            positional.append(value)
        if at < len(tokens):
            if tokens[at] != ("punct", ","):
                raise Unreadable
            at += 1
    return positional, keywords


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while at < len(text):
        if not text[at:].strip():
            break
        match = _TOKEN.match(text, at)
        if match is None:
            raise Unreadable
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


@dataclass(frozen=True)
class Opaque:
    """An expression (`8 * 14 * 14`, `in_ch`) cnndsl takes from elsewhere or cannot use."""
    text: str


def _value(tokens, at: int):
    """One value, or an expression of several read as one Opaque value."""
    value, at = _primary(tokens, at)
    if at < len(tokens) and tokens[at][0] == "op":
        while at < len(tokens) and tokens[at][0] == "op":
            _, at = _primary(tokens, at + 1)
        return Opaque("expression"), at
    return value, at


def _primary(tokens, at: int):
    if at >= len(tokens):
        raise Unreadable
    kind, text = tokens[at]
    if kind == "op" and text in "-+" and at + 1 < len(tokens) and tokens[at + 1][0] == "num":
        value, after = _primary(tokens, at + 1)
        return Num(-value.value if text == "-" else value.value, text + value.text), after
    if kind == "num":
        digits = re.sub(r"[eE].*", "", text)
        if sum(c.isdigit() for c in digits) > MAX_DIGITS:
            raise Unreadable
        try:
            return Num(Decimal(text), text), at + 1
        except InvalidOperation:
            raise Unreadable from None
    if kind == "str":
        return Word(text[1:-1]), at + 1
    if kind == "name":
        return (Word(text) if text in ("True", "False", "None") or "." in text
                else Opaque(text)), at + 1
    if text in "([":
        close = ")" if text == "(" else "]"
        items, at = [], at + 1
        while at < len(tokens) and tokens[at] != ("punct", close):
            item, at = _value(tokens, at)
            items.append(item)
            if at < len(tokens) and tokens[at] == ("punct", ","):
                at += 1
        if at >= len(tokens) or not items:
            raise Unreadable
        if not all(isinstance(i, Num) for i in items):
            return Opaque("expression"), at + 1
        return tuple(items), at + 1
    raise Unreadable


# ---- values as cnndsl writes them ----------------------------------------------------------

class NoTranslation(Exception):
    """No exact translation; `reason` says why (or is empty)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def _count(value) -> int:
    """A whole number (`8`), or NoTranslation."""
    if isinstance(value, Num) and value.whole and value.value >= 0:
        return int(value.value)
    raise NoTranslation


def _size(value) -> str:
    """`3` or `(3, 3)` -> `3`; `(3, 5)` -> `3x5`."""
    numbers = value if isinstance(value, tuple) else (value,)
    counts = [_count(n) for n in numbers]
    if len(set(counts)) == 1:
        return str(counts[0])
    return "x".join(str(c) for c in counts)


def _is_zero(value) -> bool:
    numbers = value if isinstance(value, tuple) else (value,)
    return all(_count(n) == 0 for n in numbers)


def _is_one(value) -> bool:
    numbers = value if isinstance(value, tuple) else (value,)
    return all(_count(n) == 1 for n in numbers)


def _number(value) -> str:
    if isinstance(value, Num) and value.value >= 0:
        return value.text.lstrip("+")
    raise NoTranslation


def _flag(value) -> bool:
    if isinstance(value, Word) and value.text in ("True", "False"):
        return value.text == "True"
    raise NoTranslation


def _string(value) -> str:
    if isinstance(value, Word):
        return value.text
    raise NoTranslation


@dataclass
class Call:
    """A call's arguments bound to a signature, read once each."""

    values: dict
    used: set = field(default_factory=set)

    def get(self, name: str, default=None):
        self.used.add(name)
        return self.values.get(name, default)

    def given(self, name: str) -> bool:
        return name in self.values


def _bind(signature: tuple[str, ...], positional: list, keywords: dict) -> Call:
    if len(positional) > len(signature):
        raise NoTranslation("more arguments than it takes")
    values = dict(zip(signature, positional))
    for name, value in keywords.items():
        if name in values:
            raise NoTranslation(f"`{name}` is given twice")
        values[name] = value
    return Call(values)


# ---- translations ---------------------------------------------------------------------------

_TORCH_PADDING_MODES = {"zeros": None, "reflect": "reflect", "replicate": "replicate",
                        "circular": "circular"}
_KERAS_ACTIVATIONS = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax",
                      "gelu": "gelu", "elu": "elu", "selu": "selu", "swish": "silu",
                      "silu": "silu", "relu6": "relu6", "softplus": "softplus", "mish": "mish",
                      "linear": None, "None": None}
#: keywords that describe the tensor or the Python object, not the layer
_HARMLESS = {"inplace", "device", "dtype", "name", "data_format", "input_shape"}


def _torch_conv(call: Call, transposed: bool = False) -> str:
    out = _count(call.get("out_channels"))
    parts = [f"{'convt' if transposed else 'conv'} {out}", f"k{_size(call.get('kernel_size'))}"]
    stride = call.get("stride")
    if stride is not None and not _is_one(stride):
        parts.append(f"s{_size(stride)}")
    padding = call.get("padding")
    if isinstance(padding, Word) and not transposed:
        if padding.text == "same":
            parts.append("same")
        elif padding.text != "valid":
            raise NoTranslation
    elif padding is not None and not _is_zero(padding):
        parts.append(f"p{_size(padding)}")
    dilation = call.get("dilation")
    if dilation is not None and not _is_one(dilation):
        parts.append(f"d{_size(dilation)}")
    groups = call.get("groups")
    if groups is not None and _count(groups) != 1:
        parts.append(f"g{_count(groups)}")
    if call.given("bias") and not _flag(call.get("bias")):
        parts.append("nobias")
    output_padding = call.get("output_padding")
    if output_padding is not None and not _is_zero(output_padding):
        parts.append(f"output_padding={_size(output_padding)}")
    mode = call.get("padding_mode")
    if mode is not None:
        chosen = _TORCH_PADDING_MODES.get(_string(mode), "?")
        if chosen == "?" or (chosen and transposed):
            raise NoTranslation
        if chosen:
            parts.append(f"pad={chosen}")
    call.get("in_channels")
    return " ".join(parts)


def _keras_activation(call: Call, name: str = "activation") -> str:
    value = call.get(name)
    if value is None:
        return ""
    word = _KERAS_ACTIVATIONS.get(_string(value).rsplit(".", 1)[-1], "?")
    if word == "?":
        raise NoTranslation(f"cnndsl has no activation `{_string(value)}`")
    return f" -> {word}" if word else ""


def _keras_conv(call: Call, transposed: bool = False) -> str:
    parts = [f"{'convt' if transposed else 'conv'} {_count(call.get('filters'))}",
             f"k{_size(call.get('kernel_size'))}"]
    strides = call.get("strides")
    stride_one = strides is None or _is_one(strides)
    if not stride_one:
        parts.append(f"s{_size(strides)}")
    padding = _string(call.get("padding", Word("valid"))).lower()
    if padding == "same":
        if not stride_one or transposed:
            raise NoTranslation("Keras pads `same` unevenly at a stride above 1" + _PAD_FIRST)
        parts.append("same")
    elif padding != "valid":
        raise NoTranslation
    dilation = call.get("dilation_rate")
    if dilation is not None and not _is_one(dilation):
        parts.append(f"d{_size(dilation)}")
    groups = call.get("groups")
    if groups is not None and _count(groups) != 1:
        parts.append(f"g{_count(groups)}")
    if call.given("use_bias") and not _flag(call.get("use_bias")):
        parts.append("nobias")
    return " ".join(parts) + _keras_activation(call)


#: where the language has asymmetric padding, the way to write Keras's `same`
_PAD_FIRST = "; pad with `pad before=... after=...` first" if canonical("pad") else ""


def _torch_pool(word: str):
    def translate(call: Call) -> str:
        kernel = call.get("kernel_size")
        parts = [f"{word} {_size(kernel)}"]
        stride = call.get("stride")
        if stride is not None and _size(stride) != _size(kernel):
            parts.append(f"s{_size(stride)}")
        padding = call.get("padding")
        if padding is not None and not _is_zero(padding):
            parts.append(f"p{_size(padding)}")
        dilation = call.get("dilation")
        if dilation is not None and not _is_one(dilation):
            parts.append(f"d{_size(dilation)}")
        if call.given("ceil_mode") and _flag(call.get("ceil_mode")):
            parts.append("ceil")
        if call.given("count_include_pad") and not _flag(call.get("count_include_pad")):
            parts.append("exclude_pad")
        if call.given("return_indices") and _flag(call.get("return_indices")):
            raise NoTranslation("cnndsl's pooling returns no indices")
        return " ".join(parts)
    return translate


def _keras_pool(word: str):
    def translate(call: Call) -> str:
        size = call.get("pool_size", Num(Decimal(2), "2"))
        parts = [f"{word} {_size(size)}"]
        strides = call.get("strides")
        if strides is not None and _size(strides) != _size(size):
            parts.append(f"s{_size(strides)}")
        if _string(call.get("padding", Word("valid"))).lower() != "valid":
            raise NoTranslation("Keras pads `same` unevenly" + _PAD_FIRST)
        return " ".join(parts)
    return translate


def _adaptive(one: str, many: str):
    def translate(call: Call) -> str:
        size = _size(call.get("output_size"))
        return one if size == "1" and canonical(one) else f"{many} {size}"
    return translate


def _torch_batchnorm(call: Call) -> str:
    call.get("num_features")
    parts = ["batchnorm"]
    eps = call.get("eps")
    if eps is not None and Decimal(_number(eps)) != Decimal("1e-5"):
        parts.append(f"eps={_number(eps)}")
    momentum = call.get("momentum")
    if momentum is not None and Decimal(_number(momentum)) != Decimal("0.1"):
        parts.append(f"momentum={_number(momentum)}")
    for switch in ("affine", "track_running_stats"):
        if call.given(switch) and not _flag(call.get(switch)):
            raise NoTranslation(f"cnndsl's batch norm always has `{switch}=True`")
    return " ".join(parts)


def _keras_batchnorm(call: Call) -> str:
    eps = Decimal(_number(call.get("epsilon", Num(Decimal("0.001"), "0.001"))))
    momentum = Decimal(_number(call.get("momentum", Num(Decimal("0.99"), "0.99"))))
    if not 0 <= momentum <= 1:
        raise NoTranslation
    for switch in ("center", "scale"):
        if call.given(switch) and not _flag(call.get(switch)):
            raise NoTranslation(f"cnndsl's batch norm always has `{switch}=True`")
    axis = call.get("axis")
    if axis is not None and _number_text(axis) not in ("-1",):
        raise NoTranslation
    # Keras keeps `momentum` of the old statistics; PyTorch's momentum is the new one's share
    torch_momentum = 1 - momentum
    parts = ["batchnorm"]
    if eps != Decimal("1e-5"):
        parts.append(f"eps={_decimal(eps)}")
    if torch_momentum != Decimal("0.1"):
        parts.append(f"momentum={_decimal(torch_momentum)}")
    return " ".join(parts)


def _number_text(value) -> str:
    return value.text if isinstance(value, Num) else ""


def _decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _dropout(name: str, default: str | None):
    def translate(call: Call) -> str:
        p = call.get(name)
        if p is None:
            if default is None:
                raise NoTranslation
            return f"dropout {default}"
        return f"dropout {_number(p)}"
    return translate


def _linear(call: Call) -> str:
    call.get("in_features")
    nobias = call.given("bias") and not _flag(call.get("bias"))
    return f"fc {_count(call.get('out_features'))}" + (" nobias" if nobias else "")


def _dense(call: Call) -> str:
    nobias = call.given("use_bias") and not _flag(call.get("use_bias"))
    return (f"fc {_count(call.get('units'))}" + (" nobias" if nobias else "")
            + _keras_activation(call))


def _plain(word: str):
    def translate(call: Call) -> str:
        return word
    return translate


def _torch_flatten(call: Call) -> str:
    start, end = call.get("start_dim"), call.get("end_dim")
    if (start is not None and _number_text(start) != "1") or \
            (end is not None and _number_text(end) != "-1"):
        raise NoTranslation("cnndsl's `flatten` keeps the batch and joins the rest")
    return "flatten"


def _softmax(word: str, name: str, fine: tuple[str, ...]):
    def translate(call: Call) -> str:
        axis = call.get(name)
        if axis is None and name == "dim":
            raise NoTranslation("without `dim=1` PyTorch guesses the dimension")
        if axis is not None and _number_text(axis) not in fine:
            raise NoTranslation(f"cnndsl's `{word}` is over the channels (`{name}=1`)")
        return word
    return translate


def _with_number(word: str, name: str, default: str):
    def translate(call: Call) -> str:
        value = call.get(name)
        if value is None or Decimal(_number(value)) == Decimal(default):
            return word
        return f"{word} {_number(value)}"
    return translate


def _keras_leaky(call: Call) -> str:
    slope = call.get("negative_slope") if call.given("negative_slope") else call.get("alpha")
    return f"leakyrelu {_number(slope) if slope is not None else '0.3'}"


def _gelu(call: Call) -> str:
    approximate = call.get("approximate")
    if approximate is not None and _string(approximate) != "none":
        raise NoTranslation("cnndsl's `gelu` is the exact one")
    return "gelu"


def _softplus(call: Call) -> str:
    beta, threshold = call.get("beta"), call.get("threshold")
    if (beta is not None and Decimal(_number(beta)) != 1) or \
            (threshold is not None and Decimal(_number(threshold)) != 20):
        raise NoTranslation("cnndsl's `softplus` has beta 1")
    return "softplus"


def _torch_upsample(call: Call) -> str:
    size, factor = call.get("size"), call.get("scale_factor")
    if (size is None) == (factor is None):
        raise NoTranslation
    if size is not None:
        parts = [f"upsample size={_size(size)}"]
    elif isinstance(factor, Num) and not factor.whole:
        parts = [f"upsample {_number(factor)}"]
    else:
        parts = [f"upsample {_size(factor)}"]
    mode = _string(call.get("mode", Word("nearest")))
    modes = {"nearest": "", "linear": "linear", "bilinear": "linear", "trilinear": "linear",
             "bicubic": "cubic"}
    if mode not in modes:
        raise NoTranslation
    if modes[mode]:
        parts.append(modes[mode])
    if call.given("align_corners") and _string(call.get("align_corners")) == "True":
        parts.append("align")
    return " ".join(parts)


def _keras_upsample(call: Call) -> str:
    size = call.get("size", Num(Decimal(2), "2"))
    mode = _string(call.get("interpolation", Word("nearest")))
    modes = {"nearest": "", "bilinear": " linear", "bicubic": " cubic"}
    if mode not in modes:
        raise NoTranslation
    return f"upsample {_size(size)}{modes[mode]}"


def _groupnorm(call: Call) -> str:
    call.get("num_channels")
    groups = _count(call.get("num_groups"))
    eps = call.get("eps")
    if call.given("affine") and not _flag(call.get("affine")):
        raise NoTranslation("cnndsl's `groupnorm` always learns its scale and shift")
    suffix = f" eps={_number(eps)}" if eps is not None and \
        Decimal(_number(eps)) != Decimal("1e-5") else ""
    return f"groupnorm {groups}{suffix}"


def _instancenorm(call: Call) -> str:
    call.get("num_features")
    for name, fine in (("eps", "1e-5"), ("momentum", "0.1")):
        value = call.get(name)
        if value is not None and Decimal(_number(value)) != Decimal(fine):
            raise NoTranslation(f"cnndsl's `instancenorm` has PyTorch's default `{name}`")
    if call.given("track_running_stats") and _flag(call.get("track_running_stats")):
        raise NoTranslation("cnndsl's `instancenorm` keeps no running statistics")
    return "instancenorm affine" if call.given("affine") and _flag(call.get("affine")) \
        else "instancenorm"


def _pad(name: str):
    def translate(call: Call) -> str:
        value = call.get(name, Num(Decimal(1), "1"))
        if isinstance(value, tuple) and len(value) == 4:
            # nn.ZeroPad2d's (left, right, top, bottom): cnndsl's sizes are height x width
            left, right, top, bottom = (_count(n) for n in value)
            if left == right and top == bottom:
                return f"pad {_size((value[2], value[0]))}"
            sides = [f"{side}={h}x{w}" for side, h, w in (("before", top, left),
                                                          ("after", bottom, right)) if h or w]
            return "pad " + " ".join(sides)
        if isinstance(value, tuple) and len(value) > 2:
            raise NoTranslation("uneven padding is `pad before=... after=...`")
        return f"pad {_size(value)}"
    return translate


def _activation(call: Call) -> str:
    word = _keras_activation(call)
    if not word:
        return "identity"
    return word[len(" -> "):]


def _shuffle(word: str, name: str):
    def translate(call: Call) -> str:
        return f"{word} {_count(call.get(name))}"
    return translate


def _nothing(reason: str):
    def translate(call: Call) -> str:
        raise NoTranslation(reason)
    translate.never = True
    return translate


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


def _table() -> dict[tuple[str, str], Foreign]:
    entries = []
    for n in (1, 2, 3):
        entries += [
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
    entries += [
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


# ---- diagnostics -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Translation:
    """The exact cnndsl text of a pasted call, or why there is none."""

    text: str | None
    reason: str = ""
    notes: tuple[str, ...] = ()


_FROM_SHAPE = {"in_channels", "in_features", "num_features", "num_channels"}
_LAYOUTS = ("channels_last", "channels_first", "None")


def translate(entry: Foreign, arguments: str) -> Translation:
    """`conv 8 k3 p1` for `nn.Conv2d` called with `1, 8, 3, padding=1`."""
    try:
        positional, keywords = read_arguments(arguments)
        call = _bind(entry.signature, positional, keywords)
        text = entry.translate(call)
        _known(text)
        extra = sorted(set(call.values) - call.used - _HARMLESS)
        if extra:
            raise NoTranslation(f"cnndsl has no `{extra[0]}`")
        if _string(call.values.get("data_format", Word("None"))) not in _LAYOUTS:
            raise NoTranslation
        notes = []
        given = set(entry.signature) & _FROM_SHAPE & set(call.values)
        if given:
            what = "features" if given == {"in_features"} else "channels"
            notes.append(f"the input's {what} are never written: cnndsl takes them from "
                         "the shape flowing in")
        if "input_shape" in call.values:
            notes.append(_input_note(entry, call.values["input_shape"]))
    except Unreadable:
        return Translation(None)
    except NoTranslation as exc:
        return Translation(None, exc.reason)
    return Translation(text, notes=tuple(notes))


_FLAG = re.compile(r"([a-z])[0-9]+(x[0-9]+)*")


def _known(text: str) -> None:
    """NoTranslation unless every word, flag, switch and option of `text` is in
    the layer registry (`gmp`, `pad` or `exclude_pad` may not be)."""
    for segment in text.split("->"):
        word, *rest = segment.split()
        layer = LAYERS.get(canonical(word) or "")
        if layer is None:
            raise NoTranslation(f"this cnndsl has no `{word}`")
        flags = {a.flag for a in layer.args if a.flag}
        names = {n for a in layer.args for n in a.names}
        for part in rest:
            flag = _FLAG.fullmatch(part)
            known = (part.split("=")[0] in names if "=" in part
                     else flag.group(1) in flags if flag
                     else part in layer.switches or _NUMBER.fullmatch(part))
            if not known:
                raise NoTranslation(f"this cnndsl's `{word}` has no `{part.split('=')[0]}`")


_NUMBER = re.compile(r"[0-9.eE+-]+(x[0-9]+)*")


def _input_note(entry: Foreign, shape) -> str:
    """Keras's `input_shape=(28, 28, 1)` as the spec's `input 1x28x28`."""
    numbers = shape if isinstance(shape, tuple) else (shape,)
    try:
        sizes = [_count(n) for n in numbers]
    except NoTranslation:
        return "the input's shape is declared once, with `input`"
    if entry.library == KERAS and len(sizes) > 1:
        sizes = sizes[-1:] + sizes[:-1]     # Keras puts channels last
    shown = "x".join(map(str, sizes))
    return f"the input's shape is declared once, channels first: `input {shown}`"


_CALL = re.compile(r"(?<![A-Za-z0-9_.@])((?:[A-Za-z_][A-Za-z0-9_]*\.){0,3}[A-Za-z_][A-Za-z0-9_]*)"
                   r"(?:[ \t]*(\())?")


def call_at(text: str, start: int) -> tuple[str, int, int] | None:
    """(name, start of the arguments, end of the call) for a call starting at `start`,
    read at most MAX_CALL characters; None when it does not close in time."""
    match = _CALL.match(text, start)
    if match is None:
        return None
    if match.group(2) is None:     # `nn.ReLU`, without its call: the dotted name alone
        return (match.group(1), match.end(), match.end()) if "." in match.group(1) else None
    depth, at = 1, match.end()
    limit = min(len(text), match.end() + MAX_CALL)
    while at < limit:
        char = text[at]
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth == 0:
                return match.group(1), match.end(), at + 1
        elif char in "\n#{}":
            return None
        at += 1
    return None


def pasted_call(source: Source, start: int) -> Diagnostic | None:
    """E0010 for a foreign layer call starting at `start`, with its exact
    translation as help and fix where there is one; None if it is no such call."""
    found = call_at(source.text, start)
    if found is None:
        return None
    name, args_start, end = found
    entries = candidates(name)
    if not entries:
        return None
    arguments = source.text[args_start:end - 1] if args_start < end else ""
    results = [(e, translate(e, arguments)) for e in entries]
    texts = {t.text for _, t in results}
    entry, result = results[0]
    span = source.span(start, end)
    origin = " and ".join(f"{e.library}'s `{e.qualified}`" for e, _ in results)
    libraries = " or ".join(dict.fromkeys(e.library for e, _ in results))
    called = f"{name}(...)" if args_start < end else name
    message = f"`{called}` is a {libraries} layer, not cnndsl"
    notes = list(result.notes)
    if len(texts) == 1 and result.text is not None:
        return error("E0010", message, span, origin, notes=notes,
                     help=f"in cnndsl: `{result.text}`",
                     fixes=[Fix(span=span, replacement=_in_place(result.text, source, end))])
    if len(texts) > 1 and None not in texts:
        shown = "; ".join(f"{e.library}'s is `{t.text}`" for e, t in results)
        return error("E0010", message, span, origin, notes=[*notes, f"in cnndsl, {shown}"],
                     help="write the one you mean")
    reason = next((t.reason for _, t in results if t.reason), "")
    if reason:
        notes.append(f"no exact translation: {reason}")
    return error("E0010", message, span, origin, notes=notes, help=entry.named())


_REPEATED = re.compile(r"[ \t]*(\*|as(?![A-Za-z0-9_]))")


def _in_place(text: str, source: Source, end: int) -> str:
    """The translation as it may stand where the call stood: grouped before `* N`
    (`fc 10 * 2` would be `fc 20`) and, when it is a chain, before `as`."""
    after = _REPEATED.match(source.text, end)
    if after is not None and (after.group(1) == "*" or "->" in text):
        return f"({text})"
    return text


def pasted_calls(source: Source) -> list[Diagnostic]:
    """Every foreign layer call in the file (up to MAX_CALLS), in order. Only names
    of foreign layers are read further, at most MAX_TRIES of them, each at most
    MAX_CALL characters: the work is bounded whatever the file holds."""
    found: list[Diagnostic] = []
    text = source.text
    at, tries = 0, 0
    while len(found) < MAX_CALLS and tries < MAX_TRIES:
        match = _CALL.search(text, at)
        if match is None:
            break
        at = match.end()
        if not candidates(match.group(1)):
            continue
        tries += 1
        line_start = text.rfind("\n", 0, match.start()) + 1
        if text.find("#", line_start, match.start()) >= 0:
            continue     # in a comment
        diagnostic = pasted_call(source, match.start())
        if diagnostic is not None:
            found.append(diagnostic)
            at = diagnostic.span.end
    return found


def bare_word(name: str, span: Span) -> Diagnostic | None:
    """E0201 for another library's word used as a layer word (`dense 10`)."""
    word = BARE_WORDS.get(name.lower()) if "." not in name else None
    if word is None:
        return None
    entries = [e for (_, key), e in FOREIGN.items() if key.lower() == name.lower()]
    origin = " and ".join(f"{e.library}'s `{e.qualified}`" for e in entries)
    kind = "block" if name[:1].isupper() else "layer"
    return error("E0201", f"unknown {kind} `{name}`", span, "not a cnndsl word",
                 help=(f"{origin}: " if origin else "") + f"cnndsl writes `{word}`",
                 fixes=[Fix(span=span, replacement=word)])


# ---- numbers and words where cnndsl writes flags ----------------------------------------

def bare_number(word, use: ast.LayerUse, arg: ast.Positional, given: set[str],
                claimed: set[str]) -> Diagnostic | None:
    """E0409 for a bare number past a layer's positional arguments (`conv 8 3`): the
    flag it stands for in PyTorch's order (kernel, stride, padding, dilation, groups),
    skipping the fields `given` and the flags `claimed` by earlier bare numbers. Fixed
    only when it is the missing required flag (the kernel), else suggested."""
    if not (isinstance(arg.value, ast.Num) and isinstance(arg.value.value, int)
            or isinstance(arg.value, ast.SizeLit)):
        return None
    flag = next((a for a in word.args if a.flag and not a.positional and a.field not in given
                 and a.flag not in claimed), None)
    if flag is None:
        return None
    claimed.add(flag.flag)
    written = f"{flag.flag}{_simple_text(arg.value)}"
    exact = flag.required and len(claimed) == 1
    return error("E0409", f"too many arguments for `{use.name}`", arg.span,
                 f"a bare number: cnndsl names its {flag.describe}",
                 notes=[f"usage: `{word.usage}`"],
                 help=f"write the {flag.describe} as a flag: `{written}`",
                 fixes=[Fix(span=arg.span, replacement=written)] if exact else ())


def option_apart(word, use: ast.LayerUse, arg, rest: list, env) -> Diagnostic | None:
    """E0413 for an option's name and value written apart (`maxpool 2 stride 2`), as
    one error spanning both, fixed to the short flag (`s2`) or the long form
    (`stride=s`); None when `arg` is no such name (a constant named `stride` is one)."""
    value = rest[0] if rest and isinstance(rest[0], ast.Positional) else None
    if not isinstance(arg, ast.Positional) or not isinstance(arg.value, ast.Name) or \
            arg.value.name in env or value is None:
        return None
    option = next((a for a in word.args if arg.value.name in a.names), None)
    if option is None:
        return None
    literal = isinstance(value.value, ast.SizeLit) or (
        isinstance(value.value, ast.Num) and isinstance(value.value.value, int))
    shown = _simple_text(value.value)
    short = f"{option.flag}{shown}" if option.flag and literal else None
    long = f"{arg.value.name}={shown if shown is not None else '...'}"
    fix = short or (long if shown is not None else None)
    return error(
        "E0413", f"`{arg.value.name}` is an option of `{use.name}`, written with `=`",
        arg.span.cover(value.span), "a word and a value apart", notes=[f"usage: `{word.usage}`"],
        help=f"write `{short}` or `{long}`" if short else f"write `{long}`",
        fixes=[Fix(span=arg.span.cover(value.span), replacement=fix)] if fix else ())


def _simple_text(expr) -> str | None:
    """A name, number or size as written; None for anything longer."""
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.Num):
        return expr.text
    if isinstance(expr, ast.SizeLit):
        return "x".join(str(v) for v in expr.values)
    return None
