"""The catalogue of layer words: what each takes, as data.

The resolve pass reads this table to check and bind arguments; nothing else
knows a layer's argument syntax.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ValueKind = Literal["int", "size", "float", "word"]


@dataclass(frozen=True)
class Arg:
    """One argument of a layer word.

    `flag` is the short form (`k` for `k5`), `names` the long forms
    (`kernel=`), `positional` whether it may be written bare, in order.
    """

    field: str
    kind: ValueKind
    flag: str | None = None
    names: tuple[str, ...] = ()
    positional: bool = False
    required: bool = False
    words: tuple[str, ...] = ()      # allowed words for kind "word" (or as a value)
    minimum: float | None = None      # inclusive lower bound
    below: float | None = None        # exclusive upper bound
    describe: str = ""


@dataclass(frozen=True)
class LayerSpec:
    op: str
    args: tuple[Arg, ...] = ()
    switches: dict[str, tuple[str, object]] = field(default_factory=dict)  # word -> (field, value)
    usage: str = ""


_K = Arg("kernel", "size", flag="k", names=("kernel", "kernel_size"), minimum=1,
         describe="kernel size")
_S = Arg("stride", "size", flag="s", names=("stride",), minimum=1, describe="stride")
_P = Arg("padding", "size", flag="p", names=("padding",), minimum=0, words=("same",),
         describe="padding")
_D = Arg("dilation", "size", flag="d", names=("dilation",), minimum=1, describe="dilation")


def _conv() -> LayerSpec:
    return LayerSpec(
        "conv",
        (Arg("out", "int", positional=True, required=True, names=("out", "out_channels"),
             minimum=1, describe="output channels"),
         Arg("kernel", "size", flag="k", names=("kernel", "kernel_size"), required=True,
             minimum=1, describe="kernel size"),
         _S, _P, _D,
         Arg("groups", "int", flag="g", names=("groups",), minimum=1, describe="groups"),
         Arg("padding_mode", "word", names=("pad", "padding_mode"),
             words=("zeros", "reflect", "replicate", "circular"), describe="padding mode")),
        {"nobias": ("bias", False), "same": ("padding", "same")},
        "conv OUT kK [sS] [pP | same] [dD] [gG] [nobias] [pad=zeros|reflect|replicate|circular]",
    )


def _pool(op: str, dilation: bool) -> LayerSpec:
    kernel = Arg("kernel", "size", positional=True, required=True, flag="k",
                 names=("kernel", "kernel_size"), minimum=1, describe="window size")
    padding = Arg("padding", "size", flag="p", names=("padding",), minimum=0,
                  describe="padding")
    args = (kernel, _S, padding) + ((_D,) if dilation else ())
    usage = f"{op} K [sS] [pP]" + (" [dD]" if dilation else "") + " [ceil]"
    return LayerSpec(op, args, {"ceil": ("ceil", True)}, usage)


def _adaptive(op: str) -> LayerSpec:
    size = Arg("size", "size", positional=True, required=True, names=("size", "output_size"),
               minimum=1, describe="output size")
    return LayerSpec(op, (size,), {}, f"{op} S")


def _plain(op: str) -> LayerSpec:
    return LayerSpec(op, (), {}, op)


LAYERS: dict[str, LayerSpec] = {
    "conv": _conv(),
    "maxpool": _pool("maxpool", dilation=True),
    "avgpool": _pool("avgpool", dilation=False),
    "gap": _plain("gap"),
    "adaptiveavgpool": _adaptive("adaptiveavgpool"),
    "adaptivemaxpool": _adaptive("adaptivemaxpool"),
    "flatten": _plain("flatten"),
    "fc": LayerSpec("fc", (Arg("out", "int", positional=True, required=True,
                               names=("out", "out_features"), minimum=1,
                               describe="output features"),),
                    {"nobias": ("bias", False)}, "fc N [nobias]"),
    "dropout": LayerSpec("dropout", (Arg("p", "float", positional=True, names=("p",),
                                         minimum=0, below=1, describe="probability"),),
                         {}, "dropout P"),
    "batchnorm": _plain("batchnorm"),
    "relu": _plain("relu"),
    "relu6": _plain("relu6"),
    "sigmoid": _plain("sigmoid"),
    "tanh": _plain("tanh"),
    "gelu": _plain("gelu"),
    "silu": _plain("silu"),
    "elu": LayerSpec("elu", (Arg("param", "float", positional=True, names=("alpha",),
                                 minimum=0, describe="alpha"),), {}, "elu [alpha]"),
    "leakyrelu": LayerSpec("leakyrelu", (Arg("param", "float", positional=True,
                                             names=("slope", "negative_slope"), minimum=0,
                                             describe="negative slope"),),
                           {}, "leakyrelu [slope]"),
    "softmax": _plain("softmax"),
    "logsoftmax": _plain("logsoftmax"),
    "identity": _plain("identity"),
}

#: Layers whose output has their input's shape whatever their arguments: after
#: one written wrongly, the rest of the network can still be checked.
KEEPS_SHAPE = frozenset({"dropout", "batchnorm", "relu", "relu6", "sigmoid", "tanh", "gelu",
                         "silu", "elu", "leakyrelu", "softmax", "logsoftmax", "identity"})

#: Other spellings users reach for, mapped to the canonical word.
ALIASES = {"linear": "fc", "bn": "batchnorm", "globalavgpool": "gap"}

#: Words that may not name a block, a constant or a parameter.
RESERVED = frozenset(LAYERS) | frozenset(ALIASES) | {
    "concat", "add", "residual", "model", "input", "let", "block", "assert", "train",
}

DEFAULTS = {"dropout": {"p": 0.5}, "elu": {"param": 1.0}, "leakyrelu": {"param": 0.01}}


def canonical(word: str) -> str | None:
    """The canonical layer word for `word`, or None when it is no layer word."""
    word = ALIASES.get(word, word)
    return word if word in LAYERS else None


def family(op: str) -> str:
    """The role name that module names are built from (`conv1`, `pool2`, `bn1`)."""
    if op in ("maxpool", "avgpool", "adaptiveavgpool", "adaptivemaxpool", "gap"):
        return "pool"
    return {"batchnorm": "bn"}.get(op, op)
