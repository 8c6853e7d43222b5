"""The original's tensors, keyed for the compiled spec.

Both modules run once on the same input; the modules holding parameters or
buffers are listed in the order their forward pre-hooks fire, and paired in that
order (a 1x1 conv from a linear layer is reshaped). Counts that disagree are a
bug of the importer, never a silent mismatch.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from cnndsl.importer.leaves import holds_state
from cnndsl.importer.levels import BATCH
from cnndsl.importer.sizes import fake_mode


def execution_order(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> list[nn.Module]:
    """The modules holding parameters or buffers, in the order they first run; a module
    with layers of its own besides its own weights (torchvision's `CNBlock` and its
    `layer_scale`) comes where its forward first reads one of them."""
    order: list[nn.Module] = []
    seen: set[int] = set()

    def hook(m, _args=None):
        if id(m) not in seen:
            seen.add(id(m))
            order.append(m)

    holders = [m for m in model.modules() if holds_state(m)]
    mixed = [m for m in holders if any(holds_state(c) for c in m.modules() if c is not m)]
    handles = [m.register_forward_pre_hook(hook) for m in holders if m not in mixed]
    try:
        with _FirstRead(mixed, hook) if mixed else contextlib.nullcontext():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return order


class _FirstRead(TorchFunctionMode):
    """Calls `hook(owner)` when a torch function first takes one of `owners`' own tensors."""

    def __init__(self, owners: list[nn.Module], hook) -> None:
        super().__init__()
        self.hook = hook
        self.owner = {id(t): m for m in owners
                      for t in [*m.parameters(recurse=False), *m.buffers(recurse=False)]}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        for value in [*args, *kwargs.values()]:
            if id(value) in self.owner:
                self.hook(self.owner[id(value)])
        return func(*args, **kwargs)


def _local(m: nn.Module) -> list[tuple[str, torch.Tensor]]:
    state = list(m.state_dict(keep_vars=False).items())
    return [(k, v) for k, v in state if "." not in k]


def keyed(original: nn.Module, text: str, pairs) -> tuple[dict[str, torch.Tensor], bool, int]:
    """The original's state keyed for `text`'s compiled module; whether the keys are the
    original's; the parameter count (checked equal on both sides)."""
    from cnndsl.backends.pytorch.build import build
    from cnndsl.importer.pipeline import ImportBug

    ours = build(text).eval()
    with fake_mode():
        inputs = tuple(torch.empty((BATCH, *shape)) for _, shape in pairs)
        theirs_order = execution_order(original, inputs)
        ours_order = execution_order(ours, inputs)
    ran = {id(m) for m in theirs_order}
    unused = [n for n, m in original.named_modules() if holds_state(m) and id(m) not in ran]
    if unused:
        from cnndsl.importer.unsupported import Unsupported

        raise Unsupported(f"`{unused[0]}` holds weights but its forward never uses it"
                          + (f" ({len(unused) - 1} more)" if len(unused) > 1 else ""),
                          module_path=unused[0],
                          hint="delete unused modules before importing, e.g. `del net.aux1`")
    if len(theirs_order) != len(ours_order):
        raise ImportBug(f"{len(theirs_order)} modules hold weights in the original, "
                        f"{len(ours_order)} in the imported spec")
    names = {id(m): n for n, m in ours.named_modules()}
    state: dict[str, torch.Tensor] = {}
    for a, b in zip(theirs_order, ours_order):
        la, lb = _local(a), _local(b)
        if [v.numel() for _, v in la] != [v.numel() for _, v in lb]:
            raise ImportBug(f"{type(a).__name__} {[tuple(v.shape) for _, v in la]} against "
                            f"{type(b).__name__} {[tuple(v.shape) for _, v in lb]}")
        prefix = names[id(b)]
        for (_, va), (kb, vb) in zip(la, lb):
            state[f"{prefix}.{kb}" if prefix else kb] = va.detach().clone().reshape(vb.shape)
    expected = ours.state_dict()
    if set(state) != set(expected):
        raise ImportBug("the imported weights do not cover the spec's state: "
                        f"{sorted(set(expected) ^ set(state))[:5]}")
    params = sum(p.numel() for p in ours.parameters())
    theirs = sum(p.numel() for p in original.parameters())
    if params != theirs:
        raise ImportBug(f"the imported spec has {params:,} parameters, the original {theirs:,}")
    kept = set(original.state_dict()) == set(expected)
    if kept:
        state = {k: state[k] for k in original.state_dict()}
    return state, kept, params
