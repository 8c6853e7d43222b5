"""One epoch of training, and evaluation: losses, accuracy, top-5, mean IoU.

Targets equal to `IGNORE` (an unreadable image, or a mask pixel of no class)
count for nothing: the losses skip them and the metrics leave them out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
import torch.nn.functional as F

from cnndsl.train.optim import lr_factor, set_lr
from cnndsl.train.streams import IGNORE


def loss_of(name: str, out: torch.Tensor, y: torch.Tensor, smoothing: float = 0.0):
    """The mean loss over the targets that are not `IGNORE`."""
    out = out.float()
    if name == "crossentropy":
        return F.cross_entropy(out, y, ignore_index=IGNORE, label_smoothing=smoothing)
    if name == "nll":
        return F.nll_loss(out, y, ignore_index=IGNORE)
    valid = (y != IGNORE)
    target = F.one_hot(y.clamp_min(0), out.shape[1]).movedim(-1, 1).float()
    errors = ((out - target) ** 2).mean(dim=1)
    return (errors * valid).sum() / valid.sum().clamp_min(1)


def drop_final_softmax(model: torch.nn.Module, facts, loss: str) -> bool:
    """Cross-entropy applies log-softmax itself, so a spec ending in `softmax` is
    trained, and measured, on the logits before it: that softmax (it has no
    parameters) becomes an identity on `model`. True when it did."""
    if facts.last_op == "softmax" and loss == "crossentropy" and facts.last_name:
        setattr(model, facts.last_name, torch.nn.Identity())
        return True
    return False


@dataclass
class Trainer:
    """What one training step needs (built once per run)."""

    net: torch.nn.Module          # what runs forward (DDP or compiled), sharing `model`'s weights
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    dtype: torch.dtype | None
    settings: object
    device: torch.device
    ema: object = None
    channels_last: bool = False
    problems: dict = field(default_factory=dict)   # file -> why, first seen first


def train_epoch(t: Trainer, data, epoch: int, progress=None, world: int = 1) -> dict:
    """Train one epoch; returns the row's training figures and the mean lr used."""
    s = t.settings
    t.net.train()
    total = torch.zeros(3, device=t.device, dtype=torch.float64)  # loss sum, correct, count
    steps, lr_sum, samples = data.steps, 0.0, 0
    start = time.perf_counter()
    masks = data.task == "segment"
    for step, (x, y, problems) in enumerate(data.train_batches(epoch)):
        _note(t.problems, problems)
        lr = s.lr * lr_factor(s, (epoch - 1) * steps + step, steps)
        set_lr(t.optimizer, lr)
        total += _step(t, x, y, may_ignore=masks or bool(problems))
        lr_sum, samples = lr_sum + lr, samples + len(y)
        if progress is not None:
            progress(step, steps)
    if t.device.type == "cuda":
        torch.cuda.synchronize(t.device)
    seconds = time.perf_counter() - start
    total = torch.cat([total, torch.tensor([lr_sum, samples], device=t.device,
                                           dtype=torch.float64)])
    if world > 1:
        dist.all_reduce(total)
    loss_sum, correct, count, lr_sum, samples = total.tolist()
    count, lr_steps = max(count, 1), max(steps * world, 1)
    return {"train_loss": loss_sum / count, "train_acc": correct / count, "seconds": seconds,
            "samples_per_s": samples / max(seconds, 1e-9), "lr": lr_sum / lr_steps}


def _step(t: Trainer, x: torch.Tensor, y: torch.Tensor, may_ignore: bool) -> torch.Tensor:
    """One optimizer step; returns (loss sum, correct, targets counted) of the batch.
    Only a batch that may hold `IGNORE` targets (a mask, an unreadable image) asks
    whether any target is left: on a GPU that question waits for the device."""
    if t.channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    valid = (y != IGNORE)
    with torch.autocast(t.device.type, dtype=t.dtype or torch.float32,
                        enabled=t.dtype is not None):
        out = t.net(x)
        loss = loss_of(t.settings.loss, out, y, t.settings.smoothing)
    count = valid.sum()
    if may_ignore and not bool(count):
        if not _distributed():
            return torch.zeros(3, device=t.device, dtype=torch.float64)
        # every process must join the gradients' all-reduce: this one adds zeros to it
        loss = out.float().sum() * 0.0
    t.optimizer.zero_grad(set_to_none=True)
    t.scaler.scale(loss).backward()
    if t.settings.clip:
        t.scaler.unscale_(t.optimizer)
        torch.nn.utils.clip_grad_norm_(t.model.parameters(), t.settings.clip)
    t.scaler.step(t.optimizer)
    t.scaler.update()
    if t.ema is not None:
        t.ema.update(t.model)
    with torch.no_grad():
        correct = ((out.argmax(1) == y) & valid).sum()
        return torch.stack([loss.detach().double() * count, correct.double(), count.double()])


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _note(into: dict, problems: list[str]) -> None:
    """Keep the first reason given for each unreadable file (`path: why`)."""
    for problem in problems:
        path, _, why = problem.partition(": ")
        into.setdefault(path, why)


@torch.no_grad()
def evaluate(model, batches, loss: str, classes: int, dtype=None, *, task: str = "classify",
             problems: dict | None = None) -> dict:
    """Loss, accuracy (top-1, top-5 with five classes or more; pixel accuracy and
    mean IoU for segmentation) and the confusion matrix, in eval mode."""
    was_training = model.training
    model.eval()
    loss_sum = count = top5 = 0.0
    confusion = torch.zeros(classes, classes, dtype=torch.int64)
    for x, y, batch_problems in batches:
        if problems is not None:
            _note(problems, batch_problems)
        with torch.autocast(x.device.type, dtype=dtype or torch.float32,
                            enabled=dtype is not None):
            out = model(x)
        valid = y != IGNORE
        n = int(valid.sum())
        if not n:
            continue
        loss_sum += float(loss_of(loss, out, y)) * n
        count += n
        pred = out.argmax(1)
        confusion += _confusion(y[valid], pred[valid], classes)
        if task == "classify" and classes >= 5:
            best5 = out.float().topk(5, dim=1).indices
            top5 += float(((best5 == y[:, None]).any(1) & valid).sum())
    model.train(was_training)
    return _figures(loss_sum, count, top5, confusion, task)


def _confusion(y: torch.Tensor, pred: torch.Tensor, classes: int) -> torch.Tensor:
    """Rows: the true class; columns: the predicted one."""
    pred = pred.clamp(0, classes - 1)
    flat = (y * classes + pred).cpu()
    return torch.bincount(flat, minlength=classes * classes).view(classes, classes)


def _figures(loss_sum: float, count: float, top5: float, confusion: torch.Tensor,
             task: str) -> dict:
    count = max(count, 1)
    correct = float(confusion.diag().sum())
    figures = {"loss": loss_sum / count, "acc": correct / count, "confusion": confusion}
    if task == "classify" and confusion.shape[0] >= 5:
        figures["top5"] = top5 / count
    if task == "segment":
        figures["miou"] = mean_iou(confusion)
    return figures


def mean_iou(confusion: torch.Tensor) -> float:
    """The mean over classes that occur (in truth or prediction) of TP / (TP + FP + FN)."""
    tp = confusion.diag().double()
    union = confusion.sum(0).double() + confusion.sum(1).double() - tp
    present = union > 0
    return float((tp[present] / union[present]).mean()) if bool(present.any()) else 0.0
