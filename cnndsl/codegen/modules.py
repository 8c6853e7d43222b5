"""One small function per layer kind: the `nn` module that implements it.

Each returns the constructor call as Python text, e.g. `nn.Conv2d(3, 6, kernel_size=5)`.
`ch` is the input channel count as Python text (a number, or an expression over
block parameters); `shape` is the concrete input shape of this use.
"""

from __future__ import annotations

import math

from cnndsl import ir


def _value(node: ir.Element, field: str, value) -> str:
    sym = dict(node.sym)
    if field in sym:
        return sym[field]
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ")" if len(set(value)) > 1 \
            else str(value[0])
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _given(node: ir.Element, field: str, value, default) -> bool:
    """Emit an argument when it differs from PyTorch's default, or depends on a
    block parameter (so one class serves every use of the block)."""
    return value != default or field in dict(node.sym)


def _rank(shape: tuple[int, ...]) -> int:
    return max(1, len(shape) - 1)


def conv(node: ir.Conv, ch: str, shape) -> str:
    args = [ch, _value(node, "out", node.out), f"kernel_size={_value(node, 'kernel', node.kernel)}"]
    if _given(node, "stride", node.stride, 1):
        args.append(f"stride={_value(node, 'stride', node.stride)}")
    if node.padding == "same":
        args.append('padding="same"')
    elif _given(node, "padding", node.padding, 0):
        args.append(f"padding={_value(node, 'padding', node.padding)}")
    if _given(node, "dilation", node.dilation, 1):
        args.append(f"dilation={_value(node, 'dilation', node.dilation)}")
    if _given(node, "groups", node.groups, 1):
        args.append(f"groups={_value(node, 'groups', node.groups)}")
    if not node.bias:
        args.append("bias=False")
    if node.padding_mode != "zeros":
        args.append(f'padding_mode="{node.padding_mode}"')
    return f"nn.Conv{_rank(shape)}d({', '.join(args)})"


def pool(node: ir.Pool, ch: str, shape) -> str:
    kind = "MaxPool" if node.op == "maxpool" else "AvgPool"
    args = [_value(node, "kernel", node.kernel)]
    if _given(node, "stride", node.stride, node.kernel):
        args.append(f"stride={_value(node, 'stride', node.stride)}")
    if _given(node, "padding", node.padding, 0):
        args.append(f"padding={_value(node, 'padding', node.padding)}")
    if _given(node, "dilation", node.dilation, 1):
        args.append(f"dilation={_value(node, 'dilation', node.dilation)}")
    if node.ceil:
        args.append("ceil_mode=True")
    return f"nn.{kind}{_rank(shape)}d({', '.join(args)})"


def adaptive(node: ir.AdaptivePool, ch: str, shape) -> str:
    kind = "AdaptiveMaxPool" if node.op == "adaptivemaxpool" else "AdaptiveAvgPool"
    return f"nn.{kind}{_rank(shape)}d({_value(node, 'size', node.size)})"


def linear(node: ir.Linear, ch: str, shape) -> str:
    features = str(math.prod(shape)) if len(shape) > 1 else ch
    bias = ", bias=False" if not node.bias else ""
    return f"nn.Linear({features}, {_value(node, 'out', node.out)}{bias})"


def batchnorm(node: ir.BatchNorm, ch: str, shape) -> str:
    return f"nn.BatchNorm{_rank(shape)}d({ch})"


def dropout(node: ir.Dropout, ch: str, shape) -> str:
    return f"nn.Dropout(p={_value(node, 'p', node.p)})"


_ACTIVATIONS = {"relu": "ReLU", "relu6": "ReLU6", "sigmoid": "Sigmoid", "tanh": "Tanh",
                "gelu": "GELU", "silu": "SiLU", "elu": "ELU", "leakyrelu": "LeakyReLU"}
_DEFAULT_PARAM = {"elu": 1.0, "leakyrelu": 0.01}


def activation(node: ir.Activation, ch: str, shape) -> str:
    name = _ACTIVATIONS[node.op]
    if node.param is not None and node.param != _DEFAULT_PARAM.get(node.op):
        keyword = "alpha" if node.op == "elu" else "negative_slope"
        return f"nn.{name}({keyword}={_value(node, 'param', node.param)})"
    return f"nn.{name}()"


def softmax(node: ir.Softmax, ch: str, shape) -> str:
    return "nn.Softmax(dim=1)" if node.op == "softmax" else "nn.LogSoftmax(dim=1)"


def flatten(node: ir.Flatten, ch: str, shape) -> str:
    return "nn.Flatten()"


def identity(node: ir.Identity, ch: str, shape) -> str:
    return "nn.Identity()"


MODULES = {ir.Conv: conv, ir.Pool: pool, ir.AdaptivePool: adaptive, ir.Linear: linear,
           ir.BatchNorm: batchnorm, ir.Dropout: dropout, ir.Activation: activation,
           ir.Softmax: softmax, ir.Flatten: flatten, ir.Identity: identity}


def module_for(node, ch: str, shape) -> str:
    """The constructor call for one layer; fails loudly on an unknown node."""
    try:
        make = MODULES[type(node)]
    except KeyError:
        raise TypeError(f"no PyTorch module for {type(node).__name__}") from None
    return make(node, ch, shape)


def out_channels(node, ch: str) -> str:
    """The output channel count of a layer, as Python text."""
    if isinstance(node, ir.Conv):
        return _value(node, "out", node.out)
    if isinstance(node, ir.Linear):
        return _value(node, "out", node.out)
    return ch
