"""The optimizer, the learning-rate schedule and the weights' moving average.

The schedule is a pure function of the global step (no scheduler state to save
or restore), so a resumed run uses exactly the rates an uninterrupted one would.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

OPTIMIZER_STATES = {"sgd": 1, "adam": 2, "adamw": 2}   # tensors kept per parameter


def optimizer(s, model: nn.Module) -> torch.optim.Optimizer:
    """SGD/Adam/AdamW; weight decay skips norms and biases unless `--decay-all`."""
    options = dict(s.optimizer_args)
    groups = _groups(model, options.get("weight_decay", 0.0), s.decay_all)
    if s.optimizer == "sgd":
        if "nesterov" in options:
            options["nesterov"] = bool(options["nesterov"])
        return torch.optim.SGD(groups, lr=s.lr, **options)
    betas = (options.pop("beta1", 0.9), options.pop("beta2", 0.999))
    cls = torch.optim.Adam if s.optimizer == "adam" else torch.optim.AdamW
    return cls(groups, lr=s.lr, betas=betas, **options)


def _groups(model: nn.Module, decay: float, decay_all: bool) -> list[dict]:
    """Biases and norm scales (every parameter of one dimension or none) get no decay:
    decaying them pulls a normalisation's scale toward 0 for no gain."""
    params = [p for p in model.parameters() if p.requires_grad]
    if decay_all or not decay:
        return [{"params": params}]
    return [{"params": [p for p in params if p.ndim > 1]},
            {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}]


def lr_factor(s, step: int, steps_per_epoch: int) -> float:
    """The multiplier of the base learning rate at global step `step` (from 0)."""
    total = max(1, s.epochs * steps_per_epoch)
    warm = round(s.warmup * steps_per_epoch)
    if s.schedule == "onecycle":
        return _onecycle(step, total, warm)
    if step < warm:
        return (step + 1) / warm
    if s.schedule == "cosine":
        t = min(1.0, (step - warm) / max(1, total - warm))
        return 0.5 * (1 + math.cos(math.pi * t))
    if s.schedule == "step":
        return s.gamma ** ((step // steps_per_epoch) // s.step)
    return 1.0


def _onecycle(step: int, total: int, warm: int) -> float:
    """As torch's OneCycleLR: up from 1/25 (cosine) over the warm-up (default 30%
    of the run), then down (cosine) to 1/250,000 of the peak."""
    up = warm or max(1, round(0.3 * total))
    if step < up:
        t = step / up
        return 1 / 25 + (1 - 1 / 25) * (1 - math.cos(math.pi * t)) / 2
    low = 1 / 25 / 1e4
    t = min(1.0, (step - up) / max(1, total - up))
    return low + (1 - low) * (1 + math.cos(math.pi * t)) / 2


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


class EMA:
    """An exponential moving average of the weights (`--ema 0.999`), kept on the
    training device; buffers (batch norm's statistics) are copied as they are."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for mine, theirs in zip(self.model.parameters(), model.parameters()):
            mine.lerp_(theirs.detach(), 1.0 - self.decay)
        for mine, theirs in zip(self.model.buffers(), model.buffers()):
            mine.copy_(theirs)
