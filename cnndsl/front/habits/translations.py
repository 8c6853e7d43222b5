"""Exact translations of foreign layer calls into cnndsl text, one function (or
function maker) per family of layers; NoTranslation where there is none."""

from __future__ import annotations

from decimal import Decimal

from cnndsl.front.habits.reading import Num, Word
from cnndsl.front.habits.values import (
    Call,
    NoTranslation,
    _count,
    _flag,
    _is_one,
    _is_zero,
    _number,
    _size,
    _string,
)
from cnndsl.ir.layers import canonical

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
    parts += _dilation_groups_bias(call, "dilation", "bias")
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


def _dilation_groups_bias(call: Call, dilation: str, bias: str) -> list[str]:
    """`dN`, `gN` and `nobias` from a convolution's arguments, under PyTorch's names
    (`dilation`, `bias`) or Keras's (`dilation_rate`, `use_bias`)."""
    parts = []
    rate = call.get(dilation)
    if rate is not None and not _is_one(rate):
        parts.append(f"d{_size(rate)}")
    groups = call.get("groups")
    if groups is not None and _count(groups) != 1:
        parts.append(f"g{_count(groups)}")
    if call.given(bias) and not _flag(call.get(bias)):
        parts.append("nobias")
    return parts


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
    parts += _dilation_groups_bias(call, "dilation_rate", "use_bias")
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
