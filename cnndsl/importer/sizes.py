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
        with FakeTensorMode(allow_non_fake_inputs=True) as mode, _NormShapes():
            yield mode
    finally:
        logger.setLevel(level)


class _NormShapes(TorchFunctionMode):
    """Batch norm in eval mode by its shape. On fake tensors PyTorch runs batch norm's
    decomposition, a dozen fake operations a call (five times a convolution's time;
    importing a DenseNet-121 runs some 500 of them), for an output of the input's shape.
    A call PyTorch would refuse (features that do not match, no statistics) runs as
    before, so its error is PyTorch's own; so does one in training mode."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.batch_norm and _norm_fits(*args, **kwargs):
            return torch.empty_like(args[0] if args else kwargs["input"])
        return func(*args, **kwargs)


def _norm_fits(input, running_mean, running_var, weight=None, bias=None, training=False,
               *_rest, **_kwargs) -> bool:
    """True where `F.batch_norm` in eval mode takes these tensors (PyTorch's checks)."""
    if training or not isinstance(input, torch.Tensor) or input.dim() < 2:
        return False
    features = input.shape[1]
    stats = (running_mean, running_var, weight, bias)
    return running_mean is not None and running_var is not None and \
        all(t is None or (isinstance(t, torch.Tensor) and t.numel() == features) for t in stats)
