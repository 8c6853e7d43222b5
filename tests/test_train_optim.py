"""Optimisation pieces, by their numbers: schedules with warm-up, weight-decay
exclusions, clipping, label smoothing, the weights' moving average, early stopping."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnndsl.train.loop import Trainer, _step, loss_of, mean_iou
from cnndsl.train.optim import EMA, lr_factor, optimizer
from cnndsl.train.options import Settings
from cnndsl.train.run import _should_stop


def rates(schedule: str, **extra) -> list[float]:
    s = Settings(schedule=schedule, epochs=10, **extra)
    return [lr_factor(s, step, 5) for step in range(50)]


def test_warmup_then_cosine():
    lr = rates("cosine", warmup=2.0)
    assert lr[:10] == pytest.approx([(i + 1) / 10 for i in range(10)])
    assert lr[10] == pytest.approx(1.0) and lr[-1] < 0.01
    assert all(a >= b for a, b in zip(lr[10:], lr[11:]))


def test_step_and_onecycle():
    lr = rates("step", step=3, gamma=0.5)
    assert lr[0] == lr[14] == 1.0 and lr[15] == 0.5 and lr[30] == 0.25
    one = rates("onecycle")
    peak = one.index(max(one))
    assert one[0] == pytest.approx(1 / 25) and peak == 15 and one[-1] < 0.01


def test_weight_decay_skips_biases_and_norms():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    s = Settings(optimizer="sgd", lr=0.1, optimizer_args={"weight_decay": 0.5})
    groups = optimizer(s, model).param_groups
    shapes = [[tuple(p.shape) for p in g["params"]] for g in groups]
    assert shapes[0] == [(4, 1, 3, 3), (2, 4)] and groups[0]["weight_decay"] == 0.5
    assert sorted(shapes[1]) == [(2,), (4,), (4,), (4,)] and groups[1]["weight_decay"] == 0.0
    s.decay_all = True
    assert len(optimizer(s, model).param_groups) == 1


def test_clipping_bounds_the_update():
    torch.manual_seed(0)
    model = nn.Linear(10, 3)
    before = [p.detach().clone() for p in model.parameters()]
    s = Settings(optimizer="sgd", lr=1.0, clip=0.01, loss="crossentropy")
    opt = optimizer(s, model)
    t = Trainer(model, model, opt, torch.amp.GradScaler("cpu", enabled=False), None, s,
                torch.device("cpu"))
    _step(t, torch.randn(8, 10) * 100, torch.randint(0, 3, (8,)), may_ignore=False)
    moved = math.sqrt(sum(float(((p.detach() - b) ** 2).sum()) for p, b in
                          zip(model.parameters(), before)))
    assert moved == pytest.approx(0.01, rel=1e-3)


def test_label_smoothing_and_ignored_targets():
    out, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, -100, 1])
    expected = F.cross_entropy(out[[0, 1, 2, 3, 5]], y[[0, 1, 2, 3, 5]], label_smoothing=0.1)
    assert float(loss_of("crossentropy", out, y, 0.1)) == pytest.approx(float(expected))
    mse = loss_of("mse", out, y)
    keep = [0, 1, 2, 3, 5]
    target = F.one_hot(y[keep], 4).float()
    assert float(mse) == pytest.approx(float(((out[keep] - target) ** 2).mean(1).mean()))


def test_ema_follows_the_weights():
    model = nn.Linear(2, 1)
    ema = EMA(model, 0.9)
    with torch.no_grad():
        old = model.weight.clone()
        model.weight.add_(1.0)
    ema.update(model)
    assert torch.allclose(ema.model.weight, old * 0.9 + model.weight * 0.1)
    assert not ema.model.weight.requires_grad


def test_mean_iou_counts_present_classes():
    confusion = torch.tensor([[8, 2, 0], [1, 9, 0], [0, 0, 0]])
    assert mean_iou(confusion) == pytest.approx((8 / 11 + 9 / 12) / 2)


@pytest.mark.parametrize("history, stop", [([0.5, 0.6, 0.6, 0.6], True),
                                           ([0.5, 0.6, 0.55, 0.7], False),
                                           ([0.5, 0.4], False)])
def test_early_stopping(history, stop):
    run = SimpleNamespace(settings=Settings(patience=2),
                          metrics=[{"test_acc": v} for v in history], say=lambda text: None)
    assert _should_stop(run, "test_acc") is stop
