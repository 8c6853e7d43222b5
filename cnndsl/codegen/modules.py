"""One small function per layer kind: the `nn` module that implements it.

Each returns the constructor as (callee, arguments) text, e.g.
`("nn.Conv2d", ["3", "6", "kernel_size=5"])`. `ch` is the input channel count
as Python text (a number, or an expression over `in_channels` and block
parameters); the node's `info` holds its concrete input shape. The class name
comes from the table in `cnndsl.layers`; where PyTorch has no module (a
channels-first layer norm, layer scale, drop path) it names a helper class
that `cnndsl.codegen.helpers` writes into the file.
"""

from __future__ import annotations

import math

from cnndsl import ir
from cnndsl.layers import LAYERS

Call = tuple[str, list[str]]


def value(node: ir.Element, field: str, raw) -> str:
    """A field's value as Python: its expression in a block class, else the literal."""
    symbol = node.symbol(field)
    if symbol is not None:
        return symbol
    if isinstance(raw, tuple):
        return "(" + ", ".join(str(v) for v in raw) + ")" if len(set(raw)) > 1 else str(raw[0])
    return repr(raw)


def _given(node: ir.Element, field: str, raw, default) -> bool:
    """Emit an argument when it differs from PyTorch's default, or depends on a
    block parameter (so one class serves every use of the block)."""
    return raw != default or node.symbol(field) is not None


def _keyword(args: list[str], node: ir.Element, field: str, raw, default) -> None:
    if _given(node, field, raw, default):
        args.append(f"{field}={value(node, field, raw)}")


def rank(node: ir.Element) -> int:
    return max(1, len(node.info.input) - 1)


def _torch(node: ir.Element) -> str:
    return "nn." + LAYERS[node.op].torch.format(n=rank(node))


def conv(node: ir.Conv, ch: str) -> Call:
    args = [ch, value(node, "out", node.out), f"kernel_size={value(node, 'kernel', node.kernel)}"]
    _keyword(args, node, "stride", node.stride, 1)
    if node.padding == "same":
        args.append('padding="same"')
    else:
        _keyword(args, node, "padding", node.padding, 0)
    _keyword(args, node, "dilation", node.dilation, 1)
    _keyword(args, node, "groups", node.groups, 1)
    if not node.bias:
        args.append("bias=False")
    if node.padding_mode != "zeros":
        args.append(f'padding_mode="{node.padding_mode}"')
    return _torch(node), args


def convt(node: ir.ConvT, ch: str) -> Call:
    args = [ch, value(node, "out", node.out), f"kernel_size={value(node, 'kernel', node.kernel)}"]
    _keyword(args, node, "stride", node.stride, 1)
    _keyword(args, node, "padding", node.padding, 0)
    _keyword(args, node, "output_padding", node.output_padding, 0)
    _keyword(args, node, "groups", node.groups, 1)
    if not node.bias:
        args.append("bias=False")
    _keyword(args, node, "dilation", node.dilation, 1)
    return _torch(node), args


def pool(node: ir.Pool, ch: str) -> Call:
    args = [value(node, "kernel", node.kernel)]
    if _given(node, "stride", node.stride, node.kernel):
        args.append(f"stride={value(node, 'stride', node.stride)}")
    _keyword(args, node, "padding", node.padding, 0)
    _keyword(args, node, "dilation", node.dilation, 1)
    if node.ceil:
        args.append("ceil_mode=True")
    return _torch(node), args


def adaptive(node: ir.AdaptivePool, ch: str) -> Call:
    return _torch(node), [value(node, "size", node.size)]


def linear(node: ir.Linear, ch: str) -> Call:
    """`ch` is the feature count: the emitter flattens a spatial input first."""
    args = [ch, value(node, "out", node.out)]
    if not node.bias:
        args.append("bias=False")
    return "nn.Linear", args


def unflatten(node: ir.Unflatten, ch: str) -> Call:
    shape = node.shape if isinstance(node.shape, tuple) else (node.shape,)
    return "nn.Unflatten", ["1", "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1
                                                                    else "") + ")"]


def dropout(node: ir.Dropout, ch: str) -> Call:
    if node.op == "droppath":
        return "DropPath", [value(node, "p", node.p)]
    return "nn.Dropout", [f"p={value(node, 'p', node.p)}"]


def norm(node: ir.Norm, ch: str) -> Call:
    spatial = len(node.info.input) > 1
    if node.op == "batchnorm":
        args = [ch]
        _keyword(args, node, "eps", node.eps, None)
        _keyword(args, node, "momentum", node.momentum, None)
        return _torch(node), args
    if node.op == "layernorm":
        args = [ch]
        _keyword(args, node, "eps", node.eps, None)
        return ("ChannelLayerNorm" if spatial else "nn.LayerNorm"), args
    if node.op == "groupnorm":
        args = [value(node, "groups", node.groups), ch]
        _keyword(args, node, "eps", node.eps, None)
        return "nn.GroupNorm", args
    args = [ch]
    _keyword(args, node, "eps", node.eps, None)
    if node.affine:
        args.append("affine=True")
    return _torch(node), args


_DEFAULT_PARAM = {"elu": 1.0, "leakyrelu": 0.01}
_PARAM_KEYWORD = {"elu": "alpha", "leakyrelu": "negative_slope"}


def activation(node: ir.Activation, ch: str) -> Call:
    if node.op == "prelu":
        return "nn.PReLU", [ch]
    if node.param is not None and node.param != _DEFAULT_PARAM.get(node.op):
        return _torch(node), [f"{_PARAM_KEYWORD[node.op]}={value(node, 'param', node.param)}"]
    return _torch(node), []


def softmax(node: ir.Softmax, ch: str) -> Call:
    return _torch(node), ["dim=1"]


def plain(node: ir.Element, ch: str) -> Call:
    return _torch(node), []


_MODES = {("linear", 1): "linear", ("linear", 2): "bilinear", ("linear", 3): "trilinear",
          ("cubic", 2): "bicubic"}


def upsample(node: ir.Upsample, ch: str) -> Call:
    args = []
    if node.size is not None:
        args.append(f"size={value(node, 'size', node.size)}")
    else:
        args.append(f"scale_factor={value(node, 'scale', node.scale)}")
    if node.mode != "nearest":
        args.append(f'mode="{_MODES[(node.mode, rank(node))]}"')
    if node.align:
        args.append("align_corners=True")
    return "nn.Upsample", args


def factor(node: ir.PixelShuffle, ch: str) -> Call:
    return _torch(node), [value(node, "factor", node.factor)]


def shuffle(node: ir.ChannelShuffle, ch: str) -> Call:
    return "ChannelShuffle", [value(node, "groups", node.groups)]


def scale(node: ir.Scale, ch: str) -> Call:
    dims = len(node.info.input) - 1
    args = [ch]
    _keyword(args, node, "init", node.init, 1.0)
    if dims:
        args.append(f"dims={dims}")
    return "Scale", args


MODULES = {ir.Conv: conv, ir.ConvT: convt, ir.Pool: pool, ir.AdaptivePool: adaptive,
           ir.Linear: linear, ir.Flatten: plain, ir.Unflatten: unflatten, ir.Dropout: dropout,
           ir.Norm: norm, ir.Activation: activation, ir.Softmax: softmax, ir.Identity: plain,
           ir.Upsample: upsample, ir.PixelShuffle: factor, ir.ChannelShuffle: shuffle,
           ir.Scale: scale}


def module_for(node, ch: str) -> Call:
    """The constructor of one layer; fails loudly on an unknown node."""
    try:
        make = MODULES[type(node)]
    except KeyError:
        raise TypeError(f"no PyTorch module for {type(node).__name__}") from None
    return make(node, ch)


def out_channels(node, ch: str) -> str:
    """The output channel count of a layer, as Python text."""
    if isinstance(node, (ir.Conv, ir.ConvT, ir.Linear)):
        return value(node, "out", node.out)
    if isinstance(node, ir.Flatten):
        return features(ch, node.info.input)
    if isinstance(node, ir.PixelShuffle):
        r = value(node, "factor", node.factor)
        op = "//" if node.op == "pixelshuffle" else "*"
        return _arith(ch, op, f"{r} * {r}" if not r.isdigit() else str(int(r) ** 2))
    if isinstance(node, ir.Unflatten):
        return str(node.info.output[0])
    return ch


def features(ch: str, shape) -> str:
    """`C*H*W` as Python text, with C possibly an expression."""
    return _arith(ch, "*", str(math.prod(shape[1:])))


def _arith(left: str, op: str, right: str) -> str:
    if left.isdigit() and right.isdigit():
        a, b = int(left), int(right)
        return str(a * b if op == "*" else a // b)
    if right == "1":
        return left
    left = f"({left})" if " " in left else left
    right = f"({right})" if " " in right else right
    return f"{left} {op} {right}"


def channel_sum(channels: list[str]) -> str:
    total = sum(int(c) for c in channels if c.isdigit())
    terms = [c for c in channels if not c.isdigit()]
    if total or not terms:
        terms.append(str(total))
    return " + ".join(terms)


def channel_part(ch: str, parts: int) -> str:
    return _arith(ch, "//", str(parts))
