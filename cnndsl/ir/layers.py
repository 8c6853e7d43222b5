"""The layer words, as one table: what each takes, what it is called in module
names and in PyTorch, how it is drawn, and whether it keeps its input's shape.

The binder reads `args`/`switches` to find a layer's arguments and validates
them through the word's pydantic model (`model(op)`, built from this table on
first use); the resolver reads `role` to name modules and `keeps_shape` to go on
past a wrong one; the emitter reads `torch`; the drawer reads `family`. The
models' JSON Schema (`schema()`, `cnndsl schema`) is what the docs, the
playground's word lists and editors read. Nothing else lists layer words.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

ValueKind = Literal["int", "size", "float", "number", "word", "label"]

#: No integer a spec gives (a size, a channel count, a factor) may exceed this:
#: PyTorch indexes with 32-bit integers in places, and no real network is near.
MAX_INT = 2**31 - 1


@dataclass(frozen=True)
class Arg:
    """One argument of a layer word.

    `flag` is the short form (`k` for `k5`), `names` the long forms
    (`kernel=`), `positional` whether it may be written bare, in order.
    `kind`: int, size (an int or `AxB`), float, number (int or float, or a size
    of ints), word (one of `words`) or label (`@NAME`, a label or a named input).
    """

    field: str
    kind: ValueKind
    flag: str | None = None
    names: tuple[str, ...] = ()
    positional: bool = False
    required: bool = False
    words: tuple[str, ...] = ()      # allowed words for kind "word" (or as a value)
    minimum: float | None = None      # inclusive lower bound
    above: float | None = None        # exclusive lower bound
    below: float | None = None        # exclusive upper bound
    describe: str = ""
    longest: int = 3                  # a size has at most this many numbers
    default: object = None            # the value when not written (None: none, or see docs)


@dataclass(frozen=True)
class LayerWord:
    """One layer word of the language."""

    op: str
    args: tuple[Arg, ...] = ()
    switches: dict[str, tuple[str, object]] = field(default_factory=dict)  # word -> (field, value)
    usage: str = ""
    example: str | None = None       # shown when a required argument is missing
    role: str = ""                   # module names: `conv1`, `pool2`, `bn1`
    family: str = "other"            # drawing: conv, pool, norm, activation, fc, reshape, other
    keeps_shape: bool = False        # output shape == input shape, whatever the arguments
    torch: str = ""                  # the nn class (`{n}` is the rank: `Conv{n}d`)
    defaults: dict[str, object] = field(default_factory=dict)


def _arg(name: str, kind: ValueKind, describe: str, **extra) -> Arg:
    return Arg(name, kind, describe=describe, **extra)


_S = _arg("stride", "size", "stride", flag="s", names=("stride",), minimum=1, default=1)
#: a pool's stride is its window's size unless written
_POOL_S = _arg("stride", "size", "stride", flag="s", names=("stride",), minimum=1)
_D = _arg("dilation", "size", "dilation", flag="d", names=("dilation",), minimum=1, default=1)
_G = _arg("groups", "int", "groups", flag="g", names=("groups",), minimum=1, default=1)
_EPS = _arg("eps", "float", "epsilon", names=("eps",), minimum=0)


def _out(describe: str = "output channels") -> Arg:
    return _arg("out", "int", describe, positional=True, required=True,
                names=("out", "out_channels"), minimum=1)


def _kernel(positional: bool, describe: str = "kernel size") -> Arg:
    return _arg("kernel", "size", describe, flag="k", names=("kernel", "kernel_size"),
                positional=positional, required=True, minimum=1)


def _padding(same: bool) -> Arg:
    return _arg("padding", "size", "padding", flag="p", names=("padding",), minimum=0,
                words=("same",) if same else (), default=0)


def _conv() -> LayerWord:
    mode = _arg("padding_mode", "word", "padding mode", names=("pad", "padding_mode"),
                words=("zeros", "reflect", "replicate", "circular"), default="zeros")
    return LayerWord(
        "conv", (_out(), _kernel(False), _S, _padding(True), _D, _G, mode),
        {"nobias": ("bias", False), "same": ("padding", "same")},
        "conv OUT kK [sS] [pP | same] [dD] [gG] [nobias] [pad=zeros|reflect|replicate|circular]",
        "`conv 16 k3`", role="conv", family="conv", torch="Conv{n}d")


def _convt() -> LayerWord:
    output_padding = _arg("output_padding", "size", "output padding",
                          names=("output_padding",), minimum=0, default=0)
    return LayerWord(
        "convt", (_out(), _kernel(False), _S, _padding(False), _D, _G, output_padding),
        {"nobias": ("bias", False)},
        "convt OUT kK [sS] [pP] [dD] [gG] [nobias] [output_padding=N]", "`convt 16 k2 s2`",
        role="convt", family="conv", torch="ConvTranspose{n}d")


def _pool(op: str, dilation: bool) -> LayerWord:
    args = (_kernel(True, "window size"), _POOL_S, _padding(False)) + ((_D,) if dilation else ())
    usage = f"{op} K [sS] [pP]" + (" [dD]" if dilation else "") + " [ceil]"
    torch = "MaxPool{n}d" if op == "maxpool" else "AvgPool{n}d"
    switches: dict[str, tuple[str, object]] = {"ceil": ("ceil", True)}
    if op == "avgpool":
        switches["exclude_pad"] = ("exclude_pad", True)
        usage += " [exclude_pad]"
    return LayerWord(op, args, switches, usage, f"`{op} 2`", role="pool",
                     family="pool", torch=torch)


def _adaptive(op: str) -> LayerWord:
    size = _arg("size", "size", "output size", positional=True, required=True,
                names=("size", "output_size"), minimum=1)
    torch = "AdaptiveMaxPool{n}d" if op == "adaptivemaxpool" else "AdaptiveAvgPool{n}d"
    return LayerWord(op, (size,), {}, f"{op} S", f"`{op} 7`", role="pool", family="pool",
                     torch=torch)


def _simple(op: str, role: str, family: str, torch: str, keeps_shape: bool = True) -> LayerWord:
    return LayerWord(op, (), {}, op, role=role, family=family, keeps_shape=keeps_shape,
                     torch=torch)


def _activation(op: str, torch: str, param: Arg | None = None, default=None) -> LayerWord:
    args = (param,) if param else ()
    usage = f"{op} [{param.describe}]" if param else op
    return LayerWord(op, args, {}, usage, role=op, family="activation", keeps_shape=True,
                     torch=torch, defaults={"param": default} if param else {})


def _norm(op: str, role: str, torch: str, args: tuple[Arg, ...], switches=None,
          usage: str = "", example: str | None = None) -> LayerWord:
    return LayerWord(op, args, switches or {}, usage or op, example, role=role, family="norm",
                     keeps_shape=True, torch=torch)


def _upsample() -> LayerWord:
    factor = _arg("scale", "number", "scale factor", positional=True,
                  names=("scale", "scale_factor"), above=0)
    size = _arg("size", "size", "output size", names=("size",), minimum=1)
    mode = _arg("mode", "word", "mode", names=("mode",), words=("nearest", "linear", "cubic"),
                default="nearest")
    like = _arg("like", "label", "label to follow", names=("like",))
    return LayerWord(
        "upsample", (factor, size, mode, like),
        {"nearest": ("mode", "nearest"), "linear": ("mode", "linear"),
         "cubic": ("mode", "cubic"), "align": ("align", True)},
        "upsample F [nearest | linear | cubic] [align], or upsample size=S, "
        "or upsample like=@NAME", "`upsample 2`",
        role="up", family="reshape", torch="Upsample")


def _pad() -> LayerWord:
    size = _arg("size", "size", "padding", positional=True, names=("size", "padding"),
                minimum=0)
    before = _arg("before", "size", "padding before", names=("before",), minimum=0)
    after = _arg("after", "size", "padding after", names=("after",), minimum=0)
    mode = _arg("mode", "word", "mode", names=("mode",),
                words=("zeros", "reflect", "replicate", "circular"), default="zeros")
    value = _arg("value", "float", "fill value", names=("value",))
    return LayerWord(
        "pad", (size, before, after, mode, value),
        {"reflect": ("mode", "reflect"), "replicate": ("mode", "replicate"),
         "circular": ("mode", "circular")},
        "pad P [reflect | replicate | circular] [value=V], or pad before=S after=S",
        "`pad 1`", role="pad", family="reshape", torch="ZeroPad{n}d")


def _factor(op: str, torch: str) -> LayerWord:
    factor = _arg("factor", "int", "factor", positional=True, required=True,
                  names=("factor", "upscale_factor", "downscale_factor"), minimum=1)
    return LayerWord(op, (factor,), {}, f"{op} R", f"`{op} 2`", role=op,
                     family="reshape", torch=torch)


_PROBABILITY = dict(minimum=0, below=1)

LAYERS: dict[str, LayerWord] = {word.op: word for word in (
    _conv(),
    _convt(),
    _pool("maxpool", dilation=True),
    _pool("avgpool", dilation=False),
    LayerWord("gap", (), {}, "gap", role="pool", family="pool", torch="AdaptiveAvgPool{n}d"),
    _adaptive("adaptiveavgpool"),
    _adaptive("adaptivemaxpool"),
    LayerWord("gmp", (), {}, "gmp", role="pool", family="pool", torch="AdaptiveMaxPool{n}d"),
    LayerWord("channelmean", (), {}, "channelmean", role="channelmean", family="pool",
              torch="ChannelMean"),
    LayerWord("channelmax", (), {}, "channelmax", role="channelmax", family="pool",
              torch="ChannelMax"),
    _simple("flatten", "flatten", "reshape", "Flatten", keeps_shape=False),
    LayerWord("unflatten", (_arg("shape", "size", "shape", positional=True, required=True,
                                 names=("shape", "sizes"), minimum=1, longest=4),),
              {}, "unflatten S", "`unflatten 64x7x7`", role="unflatten", family="reshape",
              torch="Unflatten"),
    LayerWord("fc", (_out("output features"),), {"nobias": ("bias", False)}, "fc N [nobias]",
              "`fc 10`", role="fc", family="fc", torch="Linear"),
    LayerWord("dropout", (_arg("p", "float", "probability", positional=True, names=("p",),
                               **_PROBABILITY),),
              {}, "dropout P", role="dropout", family="other", keeps_shape=True,
              torch="Dropout", defaults={"p": 0.5}),
    LayerWord("droppath", (_arg("p", "float", "probability", positional=True, required=True,
                                names=("p",), **_PROBABILITY),),
              {}, "droppath P", "`droppath 0.1`", role="droppath", family="other",
              keeps_shape=True, torch="DropPath"),
    _norm("batchnorm", "bn", "BatchNorm{n}d",
          (_EPS, _arg("momentum", "float", "momentum", names=("momentum",), minimum=0)),
          usage="batchnorm [eps=E] [momentum=M]"),
    _norm("layernorm", "ln", "LayerNorm", (_EPS,), usage="layernorm [eps=E]"),
    _norm("groupnorm", "gn", "GroupNorm",
          (_arg("groups", "int", "group count", positional=True, required=True,
                names=("groups", "num_groups"), minimum=1), _EPS),
          usage="groupnorm G [eps=E]", example="`groupnorm 32`"),
    _norm("instancenorm", "norm", "InstanceNorm{n}d", (_EPS,), {"affine": ("affine", True)},
          usage="instancenorm [affine] [eps=E]"),
    _activation("relu", "ReLU"),
    _activation("relu6", "ReLU6"),
    _activation("sigmoid", "Sigmoid"),
    _activation("tanh", "Tanh"),
    _activation("gelu", "GELU"),
    _activation("silu", "SiLU"),
    _activation("elu", "ELU", _arg("param", "float", "alpha", positional=True,
                                   names=("alpha",), minimum=0), 1.0),
    _activation("leakyrelu", "LeakyReLU",
                _arg("param", "float", "slope", positional=True,
                     names=("slope", "negative_slope"), minimum=0), 0.01),
    _activation("hardswish", "Hardswish"),
    _activation("hardsigmoid", "Hardsigmoid"),
    _activation("mish", "Mish"),
    _activation("selu", "SELU"),
    _activation("softplus", "Softplus"),
    LayerWord("prelu", (), {}, "prelu", role="prelu", family="activation", keeps_shape=True,
              torch="PReLU"),
    LayerWord("softmax", (), {}, "softmax", role="softmax", family="activation",
              keeps_shape=True, torch="Softmax"),
    LayerWord("logsoftmax", (), {}, "logsoftmax", role="logsoftmax", family="activation",
              keeps_shape=True, torch="LogSoftmax"),
    _simple("identity", "identity", "other", "Identity"),
    _upsample(),
    _pad(),
    _factor("pixelshuffle", "PixelShuffle"),
    _factor("pixelunshuffle", "PixelUnshuffle"),
    LayerWord("scale", (_arg("init", "float", "initial value", positional=True,
                             names=("init",)),),
              {}, "scale [INIT]", role="scale", family="other", keeps_shape=True,
              torch="Scale", defaults={"init": 1.0}),
    LayerWord("shuffle", (_arg("groups", "int", "group count", positional=True, required=True,
                               names=("groups",), minimum=1),),
              {}, "shuffle G", "`shuffle 2`", role="shuffle", family="reshape",
              keeps_shape=True, torch="ChannelShuffle"),
)}

#: Other spellings users reach for, mapped to the canonical word.
ALIASES = {"linear": "fc", "bn": "batchnorm", "globalavgpool": "gap", "globalmaxpool": "gmp",
           "convT": "convt",
           "deconv": "convt", "ln": "layernorm", "gn": "groupnorm", "swish": "silu"}

#: The merges and combinators, written `word(...)`.
COMBINATORS = ("concat", "add", "residual", "mul", "gate", "split")

#: Words that may not name a block, a constant, a parameter or a label.
KEYWORDS = frozenset({"model", "input", "output", "let", "block", "assert", "train", "as",
                      "in"})
RESERVED = frozenset(LAYERS) | frozenset(ALIASES) | frozenset(COMBINATORS) | KEYWORDS

#: The letters of every short flag, with the layers that have each.
FLAG_LETTERS = {a.flag: tuple(w.op for w in LAYERS.values() if any(b.flag == a.flag
                                                                    for b in w.args))
                for w in LAYERS.values() for a in w.args if a.flag}


def canonical(word: str) -> str | None:
    """The canonical layer word for `word`, or None when it is no layer word."""
    word = ALIASES.get(word, word)
    return word if word in LAYERS else None


def layer_words() -> list[str]:
    """Every word that names a layer (canonical words and aliases)."""
    return [*LAYERS, *ALIASES]


#: One line on what each word does, for the docs and for editors' hovers.
DOCS = {
    "conv": "convolution; defaults `s1 p0 d1 g1`, bias on",
    "convt": "transposed convolution: output `(n−1)·s − 2p + d·(k−1) + output_padding + 1`",
    "maxpool": "max pooling; the stride defaults to the window",
    "avgpool": "average pooling; the stride defaults to the window",
    "gap": "global average pooling: size 1 in every spatial dimension",
    "adaptiveavgpool": "average pooling to a fixed output size (`7`, or `6x4` per dimension)",
    "adaptivemaxpool": "max pooling to a fixed output size",
    "gmp": "global max pooling: size 1 in every spatial dimension",
    "channelmean": "the mean over the channels at each position: `C×H×W` → `1×H×W`",
    "channelmax": "the largest channel at each position: `C×H×W` → `1×H×W`",
    "flatten": "`C×H×W` → `C·H·W` features",
    "unflatten": "features → the shape S; the element counts must match",
    "fc": "fully connected; flattens a spatial input first",
    "dropout": "zeroes each value with probability P while training (default 0.5)",
    "droppath": "stochastic depth: drops a whole sample's branch with probability P while "
                "training; the identity in eval",
    "batchnorm": "batch norm over the channels (over the features after `fc`)",
    "layernorm": "layer norm over the channels at each position (ConvNeXt's channels-first "
                 "norm), or over the features after `fc`/`flatten`",
    "groupnorm": "group norm in G groups; G divides the channels",
    "instancenorm": "instance norm; `affine` learns a scale and shift",
    "relu": "activation",
    "relu6": "activation, clipped at 6",
    "sigmoid": "activation",
    "tanh": "activation",
    "gelu": "activation",
    "silu": "activation (also called swish)",
    "elu": "activation; alpha defaults to 1",
    "leakyrelu": "activation; the negative slope defaults to 0.01",
    "hardswish": "activation",
    "hardsigmoid": "activation",
    "mish": "activation",
    "selu": "activation",
    "softplus": "activation",
    "prelu": "activation that learns one slope per channel",
    "softmax": "softmax over the class dimension (dim 1)",
    "logsoftmax": "log-softmax over the class dimension (dim 1)",
    "identity": "passes its input through (writes no module)",
    "upsample": "resize by a factor F or to a size S; `nearest` by default, `linear` is "
                "bilinear in 2-D and trilinear in 3-D, `cubic` is 2-D only; a decimal factor gives "
                "PyTorch's size, the size times the factor in floating point rounded down "
                "(`45 × 1.4` is 62)",
    "pad": "pads each spatial dimension by P on both sides (`before=`/`after=` for one side) "
           "with zeros, a `value=`, or `reflect`/`replicate`/`circular` copies",
    "pixelshuffle": "`(C·R², H, W)` → `(C, H·R, W·R)`, 2-D",
    "pixelunshuffle": "`(C, H·R, W·R)` → `(C·R², H, W)`, 2-D",
    "scale": "a learnable per-channel multiplier initialised to INIT (default 1): "
             "layer scale is `scale 1e-6`",
    "shuffle": "channel shuffle in G groups; G divides the channels",
}


# ---- the models: one pydantic-core schema per layer word --------------------------------
# Built from the table on first use, as pydantic-core schemas with a `SchemaValidator`:
# a pydantic `BaseModel` class would cost start-up time (its first one imports
# importlib.metadata for pydantic's plugins, ~20 ms), and a spec uses few words.

def _core(arg: Arg) -> dict:
    """The pydantic-core schema of one argument, its bounds as constraints."""
    from pydantic_core import core_schema as cs

    if arg.kind == "word":
        return cs.literal_schema(list(arg.words))
    if arg.kind == "label":
        return cs.str_schema(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", strict=True)
    bounds = {k: v for k, v in (("ge", arg.minimum), ("gt", arg.above), ("lt", arg.below))
              if v is not None}
    whole = cs.int_schema(le=MAX_INT, strict=True, **bounds)
    if arg.kind == "int":
        return whole
    if arg.kind == "float":
        return cs.float_schema(strict=True, allow_inf_nan=False, **bounds)
    one = whole if arg.kind == "size" else cs.float_schema(strict=True, allow_inf_nan=False,
                                                           **bounds)
    many = cs.tuple_schema([whole], variadic_item_index=0, min_length=1,
                           max_length=arg.longest, strict=True)
    forms = {"one": one, "many": many}
    if arg.words:
        forms["word"] = cs.literal_schema(list(arg.words))
    return cs.tagged_union_schema(forms, _form, custom_error_type="form",
                                  custom_error_message="not a number or a size")


def _form(value) -> str:
    return "many" if isinstance(value, tuple) else "word" if isinstance(value, str) else "one"


@cache
def arguments(op: str) -> dict:
    """The pydantic-core schema of the arguments of the layer word `op` (canonical): a
    typed dict, strict (a value is never converted), no other keys. Switches are
    fields too (`nobias` sets `bias`)."""
    from pydantic_core import core_schema as cs

    word = LAYERS[op]
    fields = {}
    for arg in word.args:
        kind = _core(arg)
        if not arg.required:
            kind = cs.with_default_schema(cs.nullable_schema(kind), default=_default(word, arg))
        fields[arg.field] = cs.typed_dict_field(kind, required=arg.required)
    for name, value in _switched(word).items():
        if name not in fields:
            fields[name] = cs.typed_dict_field(
                cs.with_default_schema(cs.bool_schema(strict=True), default=not value),
                required=False)
    return cs.typed_dict_schema(fields, extra_behavior="forbid", strict=True)


def _default(word: LayerWord, arg: Arg):
    default = word.defaults.get(arg.field, arg.default)
    return list(default) if isinstance(default, tuple) else default


def _switched(word: LayerWord) -> dict[str, object]:
    """field -> the value its switches set (for a bool switch: the non-default value)."""
    return {name: value for name, value in word.switches.values()}


@cache
def validator(op: str):
    """The `pydantic_core.SchemaValidator` of `op`'s arguments: what binding runs.

    >>> validator("conv").validate_python({"out": 16, "kernel": 3})["stride"] is None
    True
    """
    from pydantic_core import SchemaValidator

    return SchemaValidator(arguments(op))


def accepts(op: str, values: dict) -> bool:
    """Whether `validator(op)` accepts `values`, decided in plain Python: a correct
    spec is checked without importing pydantic-core (~10 ms of start-up). Only an
    exact yes; binding asks the validator, for its errors, when this says no.

    >>> accepts("conv", {"out": 16, "kernel": 3}), accepts("conv", {"out": 0, "kernel": 3})
    (True, False)
    """
    try:
        return _accepts(LAYERS[op], values)
    except (OverflowError, TypeError, ValueError):   # a huge number: the validator decides
        return False


def _accepts(word: LayerWord, values: dict) -> bool:
    switched = _switched(word)
    fields = {arg.field: arg for arg in word.args}
    if any(name not in fields and name not in switched for name in values):
        return False
    for arg in word.args:
        if arg.field not in values:
            if arg.required:
                return False
        elif not (values[arg.field] is None and not arg.required or _fits(arg, values[arg.field])):
            return False
    return all(type(values.get(name, False)) is bool for name in switched if name not in fields)


_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _fits(arg: Arg, value) -> bool:
    """`value` as `_core(arg)` accepts it (strict: a bool is no number, a size is a tuple)."""
    if arg.kind == "label":
        return type(value) is str and _LABEL.fullmatch(value) is not None
    if type(value) is str:
        return value in arg.words and arg.kind in ("word", "size", "number")
    if arg.kind == "word":
        return False
    if type(value) is tuple:
        return (arg.kind in ("size", "number") and 1 <= len(value) <= arg.longest
                and all(_whole(arg, v) for v in value))
    if arg.kind in ("int", "size"):
        return _whole(arg, value)
    return type(value) in (int, float) and _within(arg, float(value))


def _whole(arg: Arg, value) -> bool:
    return type(value) is int and value <= MAX_INT and _within(arg, value)


def _within(arg: Arg, value) -> bool:
    return (math.isfinite(value) and (arg.minimum is None or value >= arg.minimum)
            and (arg.above is None or value > arg.above)
            and (arg.below is None or value < arg.below))


def _field_schema(word: LayerWord, arg: Arg) -> dict:
    from pydantic.json_schema import GenerateJsonSchema

    out = GenerateJsonSchema().generate(_core(arg))
    out.pop("$schema", None)
    out.update({"description": arg.describe, "x-names": list(arg.names),
                "x-positional": arg.positional})
    if not arg.required:
        out["default"] = _default(word, arg)
    if arg.flag:
        out["x-flag"] = arg.flag
    switches = {s: v for s, (f, v) in word.switches.items() if f == arg.field}
    if switches:
        out["x-switches"] = switches
    return out


def word_schema(op: str) -> dict:
    """The JSON Schema of one layer word's arguments, with its docs and PyTorch class.

    >>> word_schema("conv")["properties"]["kernel"]["x-flag"]
    'k'
    """
    word = LAYERS[op]
    properties = {arg.field: _field_schema(word, arg) for arg in word.args}
    for name, value in _switched(word).items():
        if name not in properties:
            properties[name] = {
                "type": "boolean", "default": not value,
                "x-switches": {s: v for s, (f, v) in word.switches.items() if f == name},
                "description": " or ".join(f"`{s}`" for s, (f, _) in word.switches.items()
                                           if f == name) + f" sets it to {value}"}
    return {"title": op, "description": DOCS[op], "type": "object",
            "properties": properties, "additionalProperties": False,
            "required": [a.field for a in word.args if a.required],
            "x-usage": word.usage, "x-example": word.example, "x-torch": word.torch,
            "x-aliases": sorted(a for a, w in ALIASES.items() if w == op),
            "x-role": word.role, "x-family": word.family, "x-keeps-shape": word.keeps_shape}


def schema() -> dict:
    """The JSON Schema of the language's layer words: one definition per word (its
    arguments, bounds, defaults, flags, docs and PyTorch class), with the aliases,
    combinators and keywords beside them. The docs, the playground and editors read
    it (`cnndsl schema` prints it).

    >>> sorted(schema()["$defs"]["fc"]["properties"])
    ['bias', 'out']
    """
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "cnndsl layer words",
            "description": "the arguments of each layer word of the `.cnn` language",
            "oneOf": [{"$ref": f"#/$defs/{op}"} for op in LAYERS],
            "$defs": {op: word_schema(op) for op in LAYERS},
            "x-aliases": dict(ALIASES), "x-combinators": list(COMBINATORS),
            "x-keywords": sorted(KEYWORDS),
            "x-flags": {letter: list(ops) for letter, ops in FLAG_LETTERS.items()}}
