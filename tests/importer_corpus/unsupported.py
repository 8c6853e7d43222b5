"""Modules `cnndsl import` must refuse with a located message, never a traceback.

Source: written for this corpus. Each fixture hides the unsupported step in a child module
named `gate`, so the message can name the module path (`body.gate`) and the line in this file
(each offending line carries an `# unsupported` comment); `hostile` names its modules with
terminal escapes, a newline and spec syntax, which must never reach the terminal or the
spec unescaped.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn


class DataDependentIf(nn.Module):
    """Takes one branch or the other on the value of the input: no fixed graph."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(8, 8, 3, padding=1), nn.Conv2d(8, 8, 1)

    def forward(self, x):
        if x.sum() > 0:  # unsupported
            return self.a(x)
        return self.b(x)


class ItemCall(nn.Module):
    """Reads a number out of the tensor (`.item()`) and scales by it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        scale = x.abs().mean().item()  # unsupported
        return self.conv(x) * scale


class _Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


class CustomFunction(nn.Module):
    """A hand-written `torch.autograd.Function`: the language has no word for it."""

    def forward(self, x):
        return _Square.apply(x)  # unsupported


class Fourier(nn.Module):
    """`torch.fft.fft2`'s magnitude: an op with no layer word."""

    def forward(self, x):
        return torch.fft.fft2(x).abs()  # unsupported


class Net(nn.Module):
    """conv 8 -> body (relu, gate) -> gap -> fc 10, with `gate` the unsupported step."""

    def __init__(self, gate: nn.Module):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.body = nn.Sequential()
        self.body.add_module("act", nn.ReLU())
        self.body.add_module("gate", gate)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))

    def forward(self, x):
        return self.head(self.body(self.stem(x)))


def data_dependent_if() -> Net:
    return Net(DataDependentIf())


def item_call() -> Net:
    return Net(ItemCall())


def custom_function() -> Net:
    return Net(CustomFunction())


def fourier() -> Net:
    return Net(Fourier())


class Tied(nn.Module):
    """One conv called twice (tied weights): imported either refused, located, or with the
    same parameter count and outputs, never with the weights silently doubled."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.shared = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))

    def forward(self, x):
        x = torch.relu(self.shared(torch.relu(self.stem(x))))
        x = torch.relu(self.shared(x))
        return self.head(x)


def tied() -> Tied:
    return Tied()


#: the fixtures above: factory name -> the module path of the offending step
FIXTURES = {"data_dependent_if": "body.gate", "item_call": "body.gate",
            "custom_function": "body.gate", "fourier": "body.gate"}
#: the fixtures above: factory name -> the classes whose `forward` a refusal must point into
GATES = {"data_dependent_if": (DataDependentIf,), "item_call": (ItemCall,),
         "custom_function": (CustomFunction, _Square), "fourier": (Fourier,)}


def gate_lines(factory: str) -> set[int]:
    """The line numbers, in this file, of the `forward` methods a refusal of the
    `factory` fixture must point into."""
    lines: set[int] = set()
    for cls in GATES[factory]:
        source, start = inspect.getsourcelines(cls.forward)
        lines |= set(range(start, start + len(source)))
    return lines


#: names a user's code may give modules (`add_module` takes any string without a dot)
HOSTILE_NAMES = ("a\x1b[2J", "b\nmodel Evil\ninput 1x1x1", "c # comment", "d\x07\x9b31m",
                 "e'\"); import os #")


def hostile() -> nn.Sequential:
    """A supported network whose module names are hostile: conv, relu, conv, gap, fc."""
    net = nn.Sequential()
    layers = (nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
              nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), nn.Linear(8, 10))
    for name, layer in zip(HOSTILE_NAMES, layers):
        net.add_module(name, layer)
    return net


def hostile_unsupported() -> nn.Sequential:
    """An unsupported step (fft2) under a module named with a terminal escape."""
    net = nn.Sequential()
    net.add_module("stem", nn.Conv2d(3, 8, 3, padding=1))
    net.add_module("x\x1b[2Jy", Fourier())
    return net
