"""The shape pass: a traced graph run on fake tensors (sizes only), each node
noting the shape of what it made."""

from __future__ import annotations

import contextlib
import logging

import torch
from torch import fx, nn

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
        with FakeTensorMode(allow_non_fake_inputs=True) as mode:
            yield mode
    finally:
        logger.setLevel(level)
