"""The independent PyTorch evaluation of a drawn spec, written by hand from LANGUAGE.md.

`evaluate(spec)` runs the spec's network in PyTorch on real tensors, building one module
per layer in execution order (branches left to right, block uses and repetitions expanded,
`output` chains last). It says no (returns None) where PyTorch raises, or where LANGUAGE.md
forbids what PyTorch would let through (`add` never broadcasts, a label is used out of its
scope, `pixelshuffle` outside 2-D, ...): those rules raise `Reject` here, each with a reason.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from properties_ast import (
    At,
    Chain,
    Cmp,
    Group,
    If,
    In,
    Label,
    Layer,
    Merge,
    Name,
    Op,
    Repeat,
    Use,
    evaluate_op,
)
from torch import nn

#: what "PyTorch fails" means: an exception from torch, or a rule of the language
FAILS = (RuntimeError, ValueError, NotImplementedError)
BATCH = 2


@contextmanager
def one_thread():
    """Run torch on one thread: the tensors here are tiny, and on a shared machine more
    threads only wait for each other (ten times slower, measured)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings():
            # PyTorch's performance note on `same` with an even kernel: not the test's concern
            warnings.filterwarnings("ignore", message="Using padding='same'")
            yield
    finally:
        torch.set_num_threads(before)


class Reject(ValueError):
    """LANGUAGE.md forbids this, whatever PyTorch would do."""


# ---- helper modules where PyTorch has none (LANGUAGE.md's semantics) ---------------------


class ChannelsFirstLayerNorm(nn.Module):
    """Layer norm over the channels at each position, with a C-sized affine."""

    def __init__(self, channels: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        y = F.layer_norm(x.movedim(1, -1), (x.shape[1],), self.weight, self.bias, self.eps)
        return y.movedim(-1, 1)


class Scale(nn.Module):
    """A learnable per-channel multiplier (`C`, `Cx1`, `Cx1x1`, `Cx1x1x1`)."""

    def __init__(self, channels: int, rank: int, init: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,) + (1,) * rank, float(init)))

    def forward(self, x):
        return x * self.weight


class DropPath(nn.Module):
    """Stochastic depth: identity in eval."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = 1 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


HELPERS = (ChannelsFirstLayerNorm, Scale, DropPath)


# ---- values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Env:
    """What an expression can see: constants and the block's parameters, and `in`."""

    values: dict
    in_channels: int


def value(v, env: Env):
    """A drawn value, with names and `in` replaced by numbers."""
    if isinstance(v, (int, float, tuple, str)):
        return v
    if isinstance(v, In):
        return env.in_channels
    if isinstance(v, Name):
        if v.name not in env.values:
            raise Reject(f"unknown name {v.name}")
        return env.values[v.name]
    if isinstance(v, Op):
        left, right = value(v.left, env), value(v.right, env)
        if v.op == "//" and right == 0:
            raise Reject("division by zero")
        return evaluate_op(v.op, left, right)
    raise TypeError(f"not a value: {v!r}")


def _holds(cond: Cmp, env: Env) -> bool:
    left, right = value(cond.left, env), value(cond.right, env)
    return {"==": left == right, "!=": left != right, "<": left < right,
            "<=": left <= right, ">": left > right, ">=": left >= right}[cond.op]


def _rank(x) -> int:
    return x.dim() - 2


def _spatial(x, what: str) -> int:
    rank = _rank(x)
    if rank < 1:
        raise Reject(f"{what} needs spatial input")
    return rank


def _nd(prefix: str, rank: int):
    return getattr(nn, f"{prefix}{rank}d")


# ---- one module per layer word -----------------------------------------------------------


def _conv(layer: Layer, x, env: Env):
    rank = _spatial(x, "conv")
    o = {k: value(v, env) for k, v in layer.opts}
    padding = "same" if "same" in layer.flags else o.get("p", 0)
    return _nd("Conv", rank)(x.shape[1], value(layer.args[0], env), o["k"], stride=o.get("s", 1),
                             padding=padding, dilation=o.get("d", 1), groups=o.get("g", 1),
                             bias="nobias" not in layer.flags, padding_mode=o.get("pad", "zeros"))


def _convt(layer: Layer, x, env: Env):
    rank = _spatial(x, "convt")
    o = {k: value(v, env) for k, v in layer.opts}
    return _nd("ConvTranspose", rank)(
        x.shape[1], value(layer.args[0], env), o["k"], stride=o.get("s", 1),
        padding=o.get("p", 0), output_padding=o.get("output_padding", 0), groups=o.get("g", 1),
        bias="nobias" not in layer.flags, dilation=o.get("d", 1))


def _pool(layer: Layer, x, env: Env):
    rank = _spatial(x, layer.word)
    k = value(layer.args[0], env)
    o = {key: value(v, env) for key, v in layer.opts}
    if layer.word == "maxpool":
        return _nd("MaxPool", rank)(k, o.get("s", k), o.get("p", 0), o.get("d", 1),
                                    ceil_mode="ceil" in layer.flags)
    return _nd("AvgPool", rank)(k, o.get("s", k), o.get("p", 0), ceil_mode="ceil" in layer.flags,
                                count_include_pad="exclude_pad" not in layer.flags)


class _ChannelReduce(nn.Module):
    """`channelmean`/`channelmax` from LANGUAGE.md: C×H×W → 1×H×W."""

    def __init__(self, reduce) -> None:
        super().__init__()
        self.reduce = reduce

    def forward(self, x):
        _spatial(x, "channelmean")
        return self.reduce(x, dim=1, keepdim=True)


def _adaptive(layer: Layer, x, env: Env):
    rank = _spatial(x, layer.word)
    prefix = "AdaptiveMaxPool" if layer.word in ("adaptivemaxpool", "gmp") else "AdaptiveAvgPool"
    size = 1 if layer.word in ("gap", "gmp") else value(layer.args[0], env)
    return _nd(prefix, rank)(size)


def _fc(layer: Layer, x, env: Env):
    features = math.prod(x.shape[1:])
    return nn.Sequential(nn.Flatten(), nn.Linear(features, value(layer.args[0], env),
                                                 bias="nobias" not in layer.flags))


def _batchnorm(layer: Layer, x, env: Env):
    rank = max(_rank(x), 1)        # features after `fc` take BatchNorm1d
    return _nd("BatchNorm", rank)(x.shape[1], eps=value(layer.opt("eps", 1e-5), env),
                                  momentum=value(layer.opt("momentum", 0.1), env))


def _layernorm(layer: Layer, x, env: Env):
    eps = value(layer.opt("eps", 1e-5), env)
    if _rank(x) == 0:
        return nn.LayerNorm(x.shape[1], eps=eps)
    return ChannelsFirstLayerNorm(x.shape[1], eps)


def _groupnorm(layer: Layer, x, env: Env):
    return nn.GroupNorm(value(layer.args[0], env), x.shape[1],
                        eps=value(layer.opt("eps", 1e-5), env))


def _instancenorm(layer: Layer, x, env: Env):
    rank = _spatial(x, "instancenorm")   # no instances of a feature vector to normalise
    return _nd("InstanceNorm", rank)(x.shape[1], affine="affine" in layer.flags)


_LINEAR_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _upsample(layer: Layer, x, env: Env):
    rank = _spatial(x, "upsample")
    word = next((f for f in layer.flags if f in ("nearest", "linear", "cubic")), "nearest")
    if word == "cubic" and rank != 2:
        raise Reject("cubic upsampling is 2-D only")
    mode = {"nearest": "nearest", "linear": _LINEAR_MODES[rank], "cubic": "bicubic"}[word]
    align = True if "align" in layer.flags else None
    if layer.opt("size") is not None:
        return nn.Upsample(size=value(layer.opt("size"), env), mode=mode, align_corners=align)
    factor = value(layer.args[0], env)
    factor = tuple(float(f) for f in factor) if isinstance(factor, tuple) else float(factor)
    return nn.Upsample(scale_factor=factor, mode=mode, align_corners=align)


class _Pad(nn.Module):
    def __init__(self, sides: tuple, mode: str, fill: float) -> None:
        super().__init__()
        self.sides, self.mode, self.fill = sides, mode, fill

    def forward(self, x):
        if self.mode == "constant":
            return F.pad(x, self.sides, value=self.fill)
        return F.pad(x, self.sides, self.mode)


def _pad(layer: Layer, x, env: Env):
    """`pad` from LANGUAGE.md: P on both sides, or before=/after=; the tuple last dim first."""
    rank = _spatial(x, "pad")
    size = value(layer.args[0], env) if layer.args else None
    before, after = value(layer.opt("before", 0), env), value(layer.opt("after", 0), env)
    if size is None and layer.opt("before") is None and layer.opt("after") is None:
        raise Reject("pad needs a size")
    if size is not None and (layer.opt("before") is not None or layer.opt("after") is not None):
        raise Reject("pad takes a size or before/after")
    if size is not None:
        before = after = size

    def axes(v):
        if isinstance(v, tuple):
            if len(v) != rank:
                raise Reject("a size of the wrong rank")
            return v
        return (v,) * rank
    before, after = axes(before), axes(after)
    mode = next((f for f in layer.flags if f in ("reflect", "replicate", "circular")), "constant")
    if mode == "constant" and layer.opt("value") is not None:
        fill = float(value(layer.opt("value"), env))
    elif layer.opt("value") is not None:
        raise Reject("value= with a copying mode")
    else:
        fill = 0.0
    sides = tuple(v for b, a in zip(reversed(before), reversed(after)) for v in (b, a))
    if mode == "reflect" and any(max(b, a) >= n for b, a, n in zip(before, after, x.shape[2:])):
        raise Reject("reflect padding must be below the size")
    return _Pad(sides, mode, fill)


def _pixel(layer: Layer, x, env: Env):
    if _rank(x) != 2:
        raise Reject(f"{layer.word} is 2-D only")
    cls = nn.PixelShuffle if layer.word == "pixelshuffle" else nn.PixelUnshuffle
    return cls(value(layer.args[0], env))


def _unflatten(layer: Layer, x, env: Env):
    if _rank(x) != 0:
        raise Reject("unflatten takes features")
    return nn.Unflatten(1, value(layer.args[0], env))


def _probability(layer: Layer, env: Env) -> float:
    p = value(layer.args[0], env)
    if not 0 <= p < 1:            # LANGUAGE.md: dropout P outside [0, 1) is an error
        raise Reject(f"{layer.word} {p}")
    return p


def _activation(cls, *defaults):
    def make(layer: Layer, x, env: Env):
        args = [value(a, env) for a in layer.args] or list(defaults)
        return cls(*args)
    return make


_FACTORIES = {
    "conv": _conv, "convt": _convt, "maxpool": _pool, "avgpool": _pool, "gap": _adaptive,
    "gmp": _adaptive, "pad": _pad, "channelmean": lambda layer, x, env: _ChannelReduce(torch.mean),
    "channelmax": lambda layer, x, env: _ChannelReduce(torch.amax),
    "adaptiveavgpool": _adaptive, "adaptivemaxpool": _adaptive, "fc": _fc,
    "flatten": lambda layer, x, env: nn.Flatten(),
    "dropout": lambda layer, x, env: nn.Dropout(_probability(layer, env)),
    "batchnorm": _batchnorm, "layernorm": _layernorm, "groupnorm": _groupnorm,
    "instancenorm": _instancenorm, "upsample": _upsample, "pixelshuffle": _pixel,
    "pixelunshuffle": _pixel, "unflatten": _unflatten,
    "prelu": lambda layer, x, env: nn.PReLU(x.shape[1]),
    "scale": lambda layer, x, env: Scale(x.shape[1], _rank(x),
                                         value(layer.args[0], env) if layer.args else 1),
    "droppath": lambda layer, x, env: DropPath(_probability(layer, env)),
    "shuffle": lambda layer, x, env: nn.ChannelShuffle(value(layer.args[0], env)),
    "softmax": lambda layer, x, env: nn.Softmax(dim=1),
    "logsoftmax": lambda layer, x, env: nn.LogSoftmax(dim=1),
    "elu": _activation(nn.ELU, 1.0), "leakyrelu": _activation(nn.LeakyReLU, 0.01),
}
for _word, _cls in {"relu": nn.ReLU, "relu6": nn.ReLU6, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
                    "gelu": nn.GELU, "silu": nn.SiLU, "swish": nn.SiLU, "identity": nn.Identity,
                    "hardswish": nn.Hardswish, "hardsigmoid": nn.Hardsigmoid, "mish": nn.Mish,
                    "selu": nn.SELU, "softplus": nn.Softplus}.items():
    _FACTORIES[_word] = _activation(_cls)


def make_module(layer: Layer, x, env: Env) -> nn.Module:
    """The PyTorch module LANGUAGE.md names for `layer`, given the tensor reaching it."""
    return _FACTORIES[layer.word](layer, x, env)


# ---- merges (LANGUAGE.md's rules, stricter than torch's broadcasting) --------------------


def merge(op: str, outs: list):
    shapes = [tuple(o.shape[1:]) for o in outs]
    if len({len(s) for s in shapes}) > 1:
        raise Reject(f"{op}: ranks differ {shapes}")
    if op in ("concat", "split"):
        if len({s[1:] for s in shapes}) > 1:
            raise Reject(f"concat: spatial sizes differ {shapes}")
        return torch.cat(outs, dim=1)
    if op in ("add", "residual"):
        if len(set(shapes)) > 1:
            raise Reject(f"add: shapes differ {shapes}")
        return sum(outs[1:], outs[0])
    return _multiply(shapes, outs)


def _multiply(shapes: list, outs: list):
    # LANGUAGE.md v3: in every dimension, channels included, each operand has the
    # result's size or 1 (`C×1×1` and `1×H×W` both against `C×H×W`)
    result = tuple(max(sizes) for sizes in zip(*shapes))
    if any(n not in (1, r) for s in shapes for n, r in zip(s, result)):
        raise Reject(f"mul: shapes do not broadcast {shapes}")
    product = outs[0]
    for out in outs[1:]:
        product = product * out
    return product


# ---- labels ------------------------------------------------------------------------------


class Scope:
    """Labels visible at a point: a branch, a repetition's copy and a block body each open
    a scope of their own, and what they define stays there."""

    def __init__(self, parent: Scope | None = None) -> None:
        self.parent = parent
        self.names: dict = {}

    def lookup(self, name: str):
        scope = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        raise Reject(f"label {name} is not visible here")

    def define(self, name: str, x) -> None:
        try:
            self.lookup(name)
        except Reject:
            self.names[name] = x
            return
        raise Reject(f"label {name} defined twice")


# ---- the evaluation -----------------------------------------------------------------------


@dataclass
class Step:
    """One layer as PyTorch ran it."""

    layer: Layer
    module: nn.Module
    input: tuple
    output: tuple

    @property
    def params(self) -> int:
        return sum(p.numel() for p in self.module.parameters())

    @property
    def buffers(self) -> int:
        return sum(b.numel() for b in self.module.buffers())


class Evaluation:
    """A spec run in PyTorch. The first `run` builds the modules, in execution order;
    later runs replay the same modules (for comparing numbers with a compiled module)."""

    def __init__(self, spec) -> None:
        self.spec = spec
        self.blocks = {b.name: b for b in spec.blocks}
        self.modules: list[nn.Module] = []
        self.steps: list[Step] = []
        self._cursor: int | None = None      # None while building
        self.consts: dict = {}
        self.outputs: tuple = ()

    # -- entry points
    def run(self, inputs: list) -> tuple:
        """The outputs for `inputs` (one tensor per `input`, batch first)."""
        self._cursor = None if not self.modules and not self.steps else 0
        consts = self.consts = {}
        for name, v in self.spec.lets:
            consts[name] = value(v, Env(dict(consts), 0))
        top = Scope()
        for put, x in zip(self.spec.inputs, inputs):
            if put.name:
                top.define(put.name, x)
        env = Env(consts, inputs[0].shape[1])
        end = self.chain(self.spec.body, inputs[0], env, top)
        if self.spec.outputs is None:
            return (end,)
        return tuple(self.chain(c, None, env, top) for c in self.spec.outputs)

    def zeros(self) -> list:
        return [torch.zeros(BATCH, *put.shape) for put in self.spec.inputs]

    # -- structure
    def chain(self, chain: Chain, x, env: Env, scope: Scope):
        items = chain.items
        if items and isinstance(items[0], At):
            x, items = scope.lookup(items[0].name), items[1:]
        for item in items:
            x = self.item(item, x, env, scope)
        return x

    def item(self, item, x, env: Env, scope: Scope):
        if isinstance(item, Layer):
            return self.layer(item, x, env)
        if isinstance(item, Group):
            return self.chain(item.chain, x, env, scope)
        if isinstance(item, Repeat):
            return self.repeat(item, x, env, scope)
        if isinstance(item, Merge):
            return self.merge(item, x, env, scope)
        if isinstance(item, Use):
            return self.use(item, x, env)
        if isinstance(item, If):   # only the chosen chain runs, and only it makes modules
            chosen = item.then if _holds(item.cond, env) else item.other
            return x if chosen is None else self.chain(chosen, x, env, scope)
        if isinstance(item, Label):
            out = self.item(item.item, x, env, scope)
            scope.define(item.name, out)
            return out
        raise TypeError(f"cannot evaluate {item!r}")

    def repeat(self, item: Repeat, x, env: Env, scope: Scope):
        times = value(item.times, env)
        if not isinstance(times, int) or times < 1:
            raise Reject(f"repetition count {times}")
        for _ in range(times):
            x = self.item(item.item, x, env, Scope(scope))
        return x

    def merge(self, item: Merge, x, env: Env, scope: Scope):
        if item.op == "split":
            parts = len(item.branches)
            if x.dim() < 2 or x.shape[1] % parts:
                raise Reject(f"split into {parts} of {tuple(x.shape[1:])}")
            ins = list(torch.split(x, x.shape[1] // parts, dim=1))
        else:
            ins = [x] * len(item.branches)
        outs = [self.chain(b, i, env, Scope(scope)) for b, i in zip(item.branches, ins)]
        if item.op in ("residual", "gate"):
            outs = [x] + outs
        return merge(item.op, outs)

    def use(self, item: Use, x, env: Env):
        block = self.blocks.get(item.block)
        if block is None:
            raise Reject(f"unknown block {item.block}")
        values = dict(self.consts)        # a block sees constants, not its caller's names
        names = [name for name, _ in block.params]
        given = dict(zip(names, (value(a, env) for a in item.args)))
        given.update((k, value(v, env)) for k, v in item.kwargs)
        for name, default in block.params:
            if name not in given and default is None:
                raise Reject(f"{item.block} needs {name}")
            values[name] = given.get(name, default)
        return self.chain(block.body, x, Env(values, x.shape[1]), Scope())

    def layer(self, layer: Layer, x, env: Env):
        if self._cursor is None:
            with warnings.catch_warnings():   # a zero-channel layer: the run says no anyway
                warnings.simplefilter("ignore", UserWarning)
                module = make_module(layer, x, env)
            module.eval()
            self.modules.append(module)
        else:
            module = self.modules[self._cursor]
            self._cursor += 1
        y = module(x)
        if y.numel() == 0:
            raise Reject(f"{layer.word} gives an empty tensor {tuple(y.shape)}")
        if self._cursor is None:
            self.steps.append(Step(layer, module, tuple(x.shape[1:]), tuple(y.shape[1:])))
        return y


def evaluate(spec) -> Evaluation | None:
    """The spec run in PyTorch on zeros, or None where PyTorch (or LANGUAGE.md) says no."""
    evaluation = Evaluation(spec)
    try:
        with torch.no_grad(), one_thread():
            evaluation.outputs = evaluation.run(evaluation.zeros())
    except FAILS:
        return None
    return evaluation


def leaf_classes(modules) -> Counter:
    """How many modules of each `torch.nn` class, leaves only. `nn.Identity`,
    `nn.Flatten` and `nn.ChannelShuffle` are left out: a compiler may write `x`,
    `x.flatten(1)` or a reshape of its own for them (cnndsl does for the shuffle,
    which the TorchScript-based ONNX exporter refuses); nor are the padding classes
    (`pad` may be `F.pad` or any of `nn.ZeroPad2d`, `nn.ConstantPad2d`, ...); the outputs
    are compared."""
    counts: Counter = Counter()
    for root in modules:
        for m in root.modules():
            cls = type(m)
            if next(m.children(), None) is None and cls.__module__.startswith("torch.nn") \
                    and cls not in (nn.Identity, nn.Flatten, nn.ChannelShuffle) \
                    and not cls.__name__.endswith(("Pad1d", "Pad2d", "Pad3d")):
                counts[cls.__name__] += 1
    return counts
