"""One small function per layer kind: the `nn` module that implements it.

Each returns the constructor as (callee, arguments), each argument a keyword
(or None) and a value: a tree (`cnndsl.ir.expr`) or literal Python text, e.g.
`("nn.Conv2d", [(None, Const(3)), (None, Const(6)), ("kernel_size", Const(5))])`.
`ch` is the input channel count as a tree (a number, or an expression over
`in` and block parameters); the node's `info` holds its concrete input shape. The class name
comes from the table in `cnndsl.ir.layers`; where PyTorch has no module (a
channels-first layer norm, layer scale, drop path) it names a helper class
that `cnndsl.backends.pytorch.helpers` writes into the file.
"""

from __future__ import annotations

import math

from cnndsl.ir import expr as E
from cnndsl.ir import nodes as ir
from cnndsl.ir.layers import LAYERS
from cnndsl.ir.shapes import pad_sides

Value = E.Expr | str          # a tree, or literal Python text (`(3, 5)`, `"same"`, `0.5`)
Arg = tuple[str | None, Value]
Call = tuple[str, list[Arg]]


def value(node: ir.Element, field: str, raw) -> Value:
    """A field's value: its tree in a block class, else the literal (a whole
    number as a tree, so channel arithmetic can fold it)."""
    symbol = node.symbol(field)
    if symbol is not None:
        return symbol
    if isinstance(raw, tuple):
        return "(" + ", ".join(str(v) for v in raw) + ")" if len(set(raw)) > 1 else E.Const(raw[0])
    if isinstance(raw, int) and not isinstance(raw, bool):
        return E.Const(raw)
    return repr(raw)


def text(value: Value) -> str:
    """A value as Python source."""
    return value if isinstance(value, str) else E.python(value)


def render(arg: Arg) -> str:
    keyword, value = arg
    return f"{keyword}={text(value)}" if keyword else text(value)


def _given(node: ir.Element, field: str, raw, default) -> bool:
    """Emit an argument when it differs from PyTorch's default, or depends on a
    block parameter (so one class serves every use of the block)."""
    return raw != default or node.symbol(field) is not None


def _keyword(args: list[Arg], node: ir.Element, field: str, raw, default) -> None:
    if _given(node, field, raw, default):
        args.append((field, value(node, field, raw)))


def rank(node: ir.Element) -> int:
    return max(1, len(node.info.input) - 1)


def _torch(node: ir.Element) -> str:
    return "nn." + LAYERS[node.op].torch.format(n=rank(node))


def conv(node: ir.Conv, ch: E.Expr) -> Call:
    args: list[Arg] = [(None, ch), (None, value(node, "out", node.out)),
                       ("kernel_size", value(node, "kernel", node.kernel))]
    _keyword(args, node, "stride", node.stride, 1)
    if node.padding == "same":
        args.append(("padding", '"same"'))
    else:
        _keyword(args, node, "padding", node.padding, 0)
    _keyword(args, node, "dilation", node.dilation, 1)
    _keyword(args, node, "groups", node.groups, 1)
    if not node.bias:
        args.append(("bias", "False"))
    if node.padding_mode != "zeros":
        args.append(("padding_mode", f'"{node.padding_mode}"'))
    return _torch(node), args


def convt(node: ir.ConvT, ch: E.Expr) -> Call:
    args: list[Arg] = [(None, ch), (None, value(node, "out", node.out)),
                       ("kernel_size", value(node, "kernel", node.kernel))]
    _keyword(args, node, "stride", node.stride, 1)
    _keyword(args, node, "padding", node.padding, 0)
    _keyword(args, node, "output_padding", node.output_padding, 0)
    _keyword(args, node, "groups", node.groups, 1)
    if not node.bias:
        args.append(("bias", "False"))
    _keyword(args, node, "dilation", node.dilation, 1)
    return _torch(node), args


def pool(node: ir.Pool, ch: E.Expr) -> Call:
    args: list[Arg] = [(None, value(node, "kernel", node.kernel))]
    if _given(node, "stride", node.stride, node.kernel):
        args.append(("stride", value(node, "stride", node.stride)))
    _keyword(args, node, "padding", node.padding, 0)
    _keyword(args, node, "dilation", node.dilation, 1)
    if node.ceil:
        args.append(("ceil_mode", "True"))
    if node.exclude_pad:
        args.append(("count_include_pad", "False"))
    return _torch(node), args


def adaptive(node: ir.AdaptivePool, ch: E.Expr) -> Call:
    return _torch(node), [(None, value(node, "size", node.size))]


def channel_reduce(node: ir.ChannelReduce, ch: E.Expr) -> Call:
    return ("ChannelMean" if node.op == "channelmean" else "ChannelMax"), []


def linear(node: ir.Linear, ch: E.Expr) -> Call:
    """`ch` is the feature count: the emitter flattens a spatial input first."""
    args: list[Arg] = [(None, ch), (None, value(node, "out", node.out))]
    if not node.bias:
        args.append(("bias", "False"))
    return "nn.Linear", args


def unflatten(node: ir.Unflatten, ch: E.Expr) -> Call:
    shape = node.shape if isinstance(node.shape, tuple) else (node.shape,)
    return "nn.Unflatten", [(None, "1"), (None, "(" + ", ".join(map(str, shape)) +
                                          ("," if len(shape) == 1 else "") + ")")]


def dropout(node: ir.Dropout, ch: E.Expr) -> Call:
    if node.op == "droppath":
        return "DropPath", [(None, value(node, "p", node.p))]
    return "nn.Dropout", [("p", value(node, "p", node.p))]


def norm(node: ir.Norm, ch: E.Expr) -> Call:
    spatial = len(node.info.input) > 1
    args: list[Arg]
    if node.op == "batchnorm":
        args = [(None, ch)]
        _keyword(args, node, "eps", node.eps, None)
        _keyword(args, node, "momentum", node.momentum, None)
        return _torch(node), args
    if node.op == "layernorm":
        args = [(None, ch)]
        _keyword(args, node, "eps", node.eps, None)
        return ("ChannelLayerNorm" if spatial else "nn.LayerNorm"), args
    if node.op == "groupnorm":
        args = [(None, value(node, "groups", node.groups)), (None, ch)]
        _keyword(args, node, "eps", node.eps, None)
        return "nn.GroupNorm", args
    args = [(None, ch)]
    _keyword(args, node, "eps", node.eps, None)
    if node.affine:
        args.append(("affine", "True"))
    return _torch(node), args


_DEFAULT_PARAM = {"elu": 1.0, "leakyrelu": 0.01}
_PARAM_KEYWORD = {"elu": "alpha", "leakyrelu": "negative_slope"}


def activation(node: ir.Activation, ch: E.Expr) -> Call:
    if node.op == "prelu":
        return "nn.PReLU", [(None, ch)]
    if node.param is not None and node.param != _DEFAULT_PARAM.get(node.op):
        return _torch(node), [(_PARAM_KEYWORD[node.op], value(node, "param", node.param))]
    return _torch(node), []


def softmax(node: ir.Softmax, ch: E.Expr) -> Call:
    return _torch(node), [("dim", "1")]


def plain(node: ir.Element, ch: E.Expr) -> Call:
    return _torch(node), []


_MODES = {("linear", 1): "linear", ("linear", 2): "bilinear", ("linear", 3): "trilinear",
          ("cubic", 2): "bicubic"}


def upsample(node: ir.Upsample, ch: E.Expr) -> Call:
    args: list[Arg] = []
    if node.like is not None:
        if node.mode != "nearest":
            args.append(("mode", f'"{_MODES[(node.mode, rank(node))]}"'))
        if node.align:
            args.append(("align_corners", "True"))
        return "UpsampleLike", args
    if node.size is not None:
        args.append(("size", value(node, "size", node.size)))
    else:
        args.append(("scale_factor", value(node, "scale", node.scale)))
    if node.mode != "nearest":
        args.append(("mode", f'"{_MODES[(node.mode, rank(node))]}"'))
    if node.align:
        args.append(("align_corners", "True"))
    return "nn.Upsample", args


_PAD_CLASSES = {"zeros": "ZeroPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad",
                "circular": "CircularPad"}


def pad(node: ir.Pad, ch: E.Expr) -> Call:
    """PyTorch's padding tuple names the last dim first: (left, right, top, bottom, …)."""
    n = rank(node)
    padding: Value
    if node.size is not None and node.symbol("size") is not None:
        padding = node.symbol("size")      # one number on every side: the class takes it
    else:     # the numbers, last dim first; a block parameter here bakes the class
        before, after = pad_sides(node, n)
        sides = [v for b, a in zip(reversed(before), reversed(after)) for v in (b, a)]
        padding = "(" + ", ".join(str(v) for v in sides) + ")"
    if node.mode == "zeros" and node.value not in (None, 0.0):
        return f"nn.ConstantPad{n}d", [(None, padding), (None, repr(float(node.value)))]
    return f"nn.{_PAD_CLASSES[node.mode]}{n}d", [(None, padding)]


def factor(node: ir.PixelShuffle, ch: E.Expr) -> Call:
    return _torch(node), [(None, value(node, "factor", node.factor))]


def shuffle(node: ir.ChannelShuffle, ch: E.Expr) -> Call:
    return "ChannelShuffle", [(None, value(node, "groups", node.groups))]


def scale(node: ir.Scale, ch: E.Expr) -> Call:
    dims = len(node.info.input) - 1
    args: list[Arg] = [(None, ch)]
    _keyword(args, node, "init", node.init, 1.0)
    if dims:
        args.append(("dims", str(dims)))
    return "Scale", args


MODULES = {ir.Conv: conv, ir.ConvT: convt, ir.Pool: pool, ir.AdaptivePool: adaptive,
           ir.ChannelReduce: channel_reduce,
           ir.Linear: linear, ir.Flatten: plain, ir.Unflatten: unflatten, ir.Dropout: dropout,
           ir.Norm: norm, ir.Activation: activation, ir.Softmax: softmax, ir.Identity: plain,
           ir.Upsample: upsample, ir.Pad: pad, ir.PixelShuffle: factor, ir.ChannelShuffle: shuffle,
           ir.Scale: scale}


def module_for(node, ch: E.Expr) -> Call:
    """The constructor of one layer; fails loudly on an unknown node."""
    try:
        make = MODULES[type(node)]
    except KeyError:
        raise TypeError(f"no PyTorch module for {type(node).__name__}") from None
    return make(node, ch)


def out_channels(node, ch: E.Expr) -> E.Expr:
    """The output channel count of a layer, as a tree."""
    if isinstance(node, (ir.Conv, ir.ConvT, ir.Linear)):
        return _tree(value(node, "out", node.out))
    if isinstance(node, ir.Flatten):
        return features(ch, node.info.input)
    if isinstance(node, ir.PixelShuffle):
        r = _tree(value(node, "factor", node.factor))
        square = E.mul(r, r)
        return E.floordiv(ch, square) if node.op == "pixelshuffle" else E.mul(ch, square)
    if isinstance(node, ir.Unflatten):
        return E.Const(node.info.output[0])
    if isinstance(node, ir.ChannelReduce):
        return E.Const(1)
    return ch


def _tree(value: Value) -> E.Expr:
    if isinstance(value, str):
        raise TypeError(f"not a whole number: {value}")
    return value


def features(ch: E.Expr, shape) -> E.Expr:
    """`C*H*W`, with C possibly an expression."""
    return E.mul(ch, E.Const(math.prod(shape[1:])))


def channel_sum(channels: list[E.Expr]) -> E.Expr:
    """Concatenated channels: their sum, like terms collected."""
    return E.total(channels)


def channel_part(ch: E.Expr, parts: int) -> E.Expr:
    return E.floordiv(ch, E.Const(parts))
