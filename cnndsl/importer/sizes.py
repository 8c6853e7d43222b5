"""The shape pass: a traced graph run on fake tensors (sizes only), each node
noting the shape of what it made."""

from __future__ import annotations

import contextlib
import logging

import torch
from torch import fx, nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from cnndsl.importer.steps import _Meta


class _Failed(Exception):
    def __init__(self, target: str, exc: Exception) -> None:
        super().__init__(target)
        self.target, self.exc = target, exc


class _Shapes(fx.Interpreter):
    """Runs a traced graph on the module itself (whatever its attribute names), noting
    each tensor's shape on its node."""

    def __init__(self, module: nn.Module, graph: fx.Graph) -> None:
        super().__init__(module, garbage_collect_values=True, graph=graph)

    def call_module(self, target, args, kwargs):
        try:
            return super().call_module(target, args, kwargs)
        except _Failed:
            raise
        except Exception as exc:   # the submodule's own forward failed: say which
            raise _Failed(str(target), exc) from exc

    def run_node(self, n: fx.Node):
        result = super().run_node(n)
        if isinstance(result, torch.Tensor):
            n.meta["tensor_meta"] = _Meta(-1, "shape")
            n.meta["shape"] = tuple(int(v) for v in result.shape)
        elif isinstance(result, (tuple, list)):
            n.meta["shapes"] = [tuple(int(v) for v in r.shape) if isinstance(r, torch.Tensor)
                                else None for r in result]
        return result


@contextlib.contextmanager
def fake_mode():
    """Shapes without arithmetic: every tensor is a fake one (sizes only). Torch's own
    log of a failing operation is held back: the failure reaches the user as one line."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    logger = logging.getLogger("torch._subclasses.fake_tensor")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with FakeTensorMode(allow_non_fake_inputs=True) as mode, _ByShape():
            yield mode
    finally:
        logger.setLevel(level)


class _ByShape(TorchFunctionMode):
    """Batch norm (eval mode), layer norm and linear layers by their output's shape. On
    fake tensors PyTorch runs their decompositions, a dozen fake operations a call (several
    times a convolution's time; importing a DenseNet-121 runs some 500 batch norms, a
    ConvNeXt-T 180 linears and 130 layer norms). A call PyTorch would refuse (sizes or
    types that do not match, no statistics) runs as before, so its error is PyTorch's
    own; so does a batch norm in training mode."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        shape_of = _SHAPES.get(func)
        found = shape_of(*args, **kwargs) if shape_of is not None else None
        if found is not None:
            return found[0].new_empty(found[1])
        return func(*args, **kwargs)


def _alike(input, *tensors) -> bool:
    """`input` is a tensor; each of `tensors` is None or a tensor of its type and device."""
    return isinstance(input, torch.Tensor) and all(
        t is None or (isinstance(t, torch.Tensor) and t.dtype == input.dtype
                      and t.device == input.device) for t in tensors)


def _batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
                *_rest, **_kwargs):
    """(input, output shape) where `F.batch_norm` in eval mode takes these, else None."""
    stats = (running_mean, running_var, weight, bias)
    if training or running_mean is None or running_var is None or not _alike(input, *stats) \
            or input.dim() < 2:
        return None
    fits = all(t is None or tuple(t.shape) == (input.shape[1],) for t in stats)
    return (input, input.shape) if fits else None


def _layer_norm(input, normalized_shape, weight=None, bias=None, *_rest, **_kwargs):
    """(input, output shape) where `F.layer_norm` takes these, else None."""
    if not _alike(input, weight, bias) or not isinstance(normalized_shape, (tuple, list)):
        return None
    last = tuple(normalized_shape)
    fits = 0 < len(last) <= input.dim() and tuple(input.shape[-len(last):]) == last and \
        all(t is None or tuple(t.shape) == last for t in (weight, bias))
    return (input, input.shape) if fits else None


def _linear(input, weight, bias=None, *_rest, **_kwargs):
    """(input, output shape) where `F.linear` takes these, else None."""
    if weight is None or not _alike(input, weight, bias) or weight.dim() != 2 \
            or input.dim() < 1:
        return None
    fits = input.shape[-1] == weight.shape[1] and \
        (bias is None or tuple(bias.shape) == (weight.shape[0],))
    return (input, (*input.shape[:-1], weight.shape[0])) if fits else None


_SHAPES = {F.batch_norm: _batch_norm, F.layer_norm: _layer_norm, F.linear: _linear}
