"""Modules called with a list of tensors (torchvision's DenseNet layers): traced
through a wrapper, and recognised when they concatenate the list first."""

from __future__ import annotations

import torch
from torch import nn

from cnndsl.importer.leaves import _Tracer


class ListCall(nn.Module):
    """Calls `inner` with its input as a list of one: how a list-taking module is traced."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner([x])


class _ListOfTwo(ListCall):
    def forward(self, x, y):
        return self.inner([x, y])


def concatenates_first(m: nn.Module, count: int) -> bool:
    """Whether `m(list)` starts by concatenating the whole list on channels, in order,
    and reads the list no other way (tried with lists of one and of two tensors): then
    `m` is a block on that concatenation."""
    return all(_cat_of_inputs(wrapper) for wrapper in (ListCall(m), _ListOfTwo(m)))


def _cat_of_inputs(wrapper: nn.Module) -> bool:
    try:
        graph = _Tracer(wrapper, frozenset({"inner"})).trace(wrapper)
    except Exception:
        return False
    holders = [n for n in graph.nodes if n.op == "placeholder"]
    users = {u for p in holders for u in p.users}
    if len(users) != 1:
        return False
    (cat,) = users
    dim = cat.kwargs.get("dim", cat.args[1] if len(cat.args) > 1 else 0)
    return cat.target is torch.cat and list(cat.args[0]) == holders and dim == 1
