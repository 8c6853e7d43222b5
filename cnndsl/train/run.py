"""The training loop: train/eval modes, per-epoch test metrics, AMP, seeds,
checkpoints, resume, progress, and DistributedDataParallel under torchrun."""

from __future__ import annotations

import csv
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from cnndsl.api import CheckResult
from cnndsl.train import checkpoint
from cnndsl.train import data as datasets
from cnndsl.train.devices import Placement, amp_dtype, memory_available, setup, teardown
from cnndsl.train.options import Settings, resolve_settings

COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds",
           "samples_per_s", "lr")
EVAL_BATCH = 1024


class TrainError(Exception):
    """A problem to report in one line, without a traceback."""


@dataclass
class Run:
    settings: Settings
    placement: Placement
    result: CheckResult
    model_cls: type
    code: str
    out: Path | None = None
    metrics: list[dict] = field(default_factory=list)
    best_acc: float = -1.0
    start_epoch: int = 1

    def say(self, text: str) -> None:
        if self.placement.main:
            print(text, file=sys.stderr, flush=True)


def train_from_result(result: CheckResult, args) -> int:
    """`cnndsl train SPEC`: compile the checked spec and train it."""
    from cnndsl.codegen.api import compile_result

    code = compile_result(result)
    namespace: dict = {"__name__": f"cnndsl_run_{result.network.model}"}
    exec(compile(code, f"<cnndsl:{result.source.name}>", "exec"), namespace)
    return train(namespace[result.network.model], result, args, code)


def train(model_cls: type, result: CheckResult, args, code: str) -> int:
    settings = resolve_settings(args, result.network.train)
    placement = setup(settings.device)
    run = Run(settings, placement, result, model_cls, code)
    try:
        return _train(run, args)
    except (TrainError, datasets.DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        teardown(placement)


def _seed(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def _train(run: Run, args) -> int:
    s, p = run.settings, run.placement
    generator = _seed(s.seed)
    _check_memory(run)
    data = _data(run)
    run.out = _run_folder(run)
    state = _resume_state(run) if s.resume else None
    if state is not None:
        s = run.settings = _resumed_settings(run, args)
    model = run.model_cls()
    _drop_training_softmax(run, model)
    model.to(p.device)
    optimizer = _optimizer(s, model)
    dtype = amp_dtype(p.device, s.amp)
    scaler = torch.amp.GradScaler(p.device.type, enabled=dtype == torch.float16)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        checkpoint.restore_rng(state["rng"], generator)
    net = nn.parallel.DistributedDataParallel(model, device_ids=[p.device.index]
                                              if p.device.type == "cuda" else None) \
        if p.distributed else model
    data = data.to(p.device)
    if run.start_epoch > s.epochs:
        run.say(f"already trained {s.epochs} epochs; pass --epochs N (N > {s.epochs}) to "
                "train on")
        return 0
    _write_run_files(run)
    where = f"{p.device}" + (f" x {p.world} processes" if p.distributed else "")
    amp = f", {str(dtype).replace('torch.', '')} autocast" if dtype else ""
    run.say(f"training {run.result.network.model} on {data.name} ({len(data.train_y):,} "
            f"train / {len(data.test_y):,} test) with {s.optimizer} lr={s.lr:g}, batch "
            f"{s.batch}, {s.epochs} epochs, on {where}{amp} -> {run.out}")
    epoch = run.start_epoch - 1
    try:
        for epoch in range(run.start_epoch, s.epochs + 1):
            row = _epoch(run, net, model, optimizer, scaler, dtype, data, generator, epoch)
            run.metrics.append(row)
            if p.main:
                _save(run, model, optimizer, scaler, generator, epoch, row)
    except KeyboardInterrupt:
        if p.main:
            if not (run.out / "last.pt").exists():
                _checkpoint(run, model, optimizer, scaler, generator, epoch, "last.pt")
            done = max(epoch - 1, 0)
            run.say(f"\ninterrupted in epoch {epoch}; {run.out / 'last.pt'} holds epoch "
                    f"{done}: continue with `--resume --out {run.out}`")
        return 130
    best = max(run.metrics, key=lambda r: r["test_acc"]) if run.metrics else None
    if best:
        run.say(f"best test accuracy {best['test_acc']:.2%} (epoch {best['epoch']}); "
                f"run saved in {run.out}")
    return 0


# ---- setup -----------------------------------------------------------------------------

def _check_memory(run: Run) -> None:
    params = run.result.summary.params
    states = {"sgd": 1, "adam": 2, "adamw": 2}[run.settings.optimizer]
    needed = params * 4 * (2 + states)
    free = memory_available(run.placement.device)
    if free is not None and needed > 0.9 * free:
        raise TrainError(f"the model's {params:,} parameters need {needed / 2**30:.1f} GiB "
                         f"for weights, gradients and {run.settings.optimizer} state, but "
                         f"only {free / 2**30:.1f} GiB is free on {run.placement.device}")


def _data(run: Run) -> datasets.Dataset:
    s = run.settings
    shape = run.result.network.input
    data = datasets.load(s.data, s.data_dir, download=s.download, path=s.data_path,
                         channels=shape[0], workers=s.workers)
    data = datasets.adapt(data, shape)
    if data.note:
        run.say(data.note)
    output = run.result.summary.output
    if len(output) != 1:
        raise TrainError(f"the network's output is {'x'.join(map(str, output))}, but "
                         "classification needs one score per class: end with `fc N`")
    if output[0] < data.classes:
        raise TrainError(f"the network outputs {output[0]} scores, but {data.name} has "
                         f"{data.classes} classes: end with `fc {data.classes}`")
    return data


def _run_folder(run: Run) -> Path:
    s = run.settings
    model = run.result.network.model
    if s.out:
        out = Path(s.out)
    elif s.resume:
        runs = sorted(Path("runs").glob(f"{model}-*"), key=_run_number)
        if not runs:
            raise TrainError(f"--resume: no run of {model} under runs/; pass --out DIR")
        out = runs[-1]
    else:
        taken = [_run_number(p) for p in Path("runs").glob(f"{model}-*")]
        out = Path("runs") / f"{model}-{max(taken, default=0) + 1}"
    if s.resume:
        if not (out / "last.pt").is_file():
            raise TrainError(f"--resume: `{out / 'last.pt'}` does not exist")
    elif out.exists() and any(out.iterdir()):
        raise TrainError(f"`{out}` already holds a run; pass --resume to continue it, or "
                         "another --out")
    if run.placement.main:
        out.mkdir(parents=True, exist_ok=True)
    return out


def _run_number(path: Path) -> int:
    tail = path.name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _resume_state(run: Run) -> dict:
    state = checkpoint.load(run.out / "last.pt")
    expected = checkpoint.spec_hash(run.result.source.text)
    if state.get("spec_hash") != expected:
        raise TrainError(f"the spec changed since this run was started: {run.out} was "
                         f"trained from another version of {run.result.source.name}; "
                         "start a new run instead of --resume")
    run.start_epoch = int(state["epoch"]) + 1
    run.metrics = list(state.get("metrics", []))
    run.best_acc = float(state.get("best_acc", -1.0))
    return state


def _resumed_settings(run: Run, args) -> Settings:
    """The settings the run was started with; --epochs, --device and --progress may change."""
    saved = json.loads((run.out / "config.json").read_text())["settings"]
    settings = Settings(**saved)
    for name in ("epochs", "progress", "workers"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(settings, name, value)
    if args.device != "auto":
        settings.device = args.device
    settings.resume = True
    return settings


def _drop_training_softmax(run: Run, model: nn.Module) -> None:
    """Cross-entropy applies log-softmax itself: train on the logits, keep the
    softmax in the saved module for inference (it has no parameters)."""
    top = [r for r in run.result.summary.rows if r.depth == 0]
    if top and top[-1].op == "softmax" and run.settings.loss == "crossentropy":
        setattr(model, top[-1].name, nn.Identity())
        run.say("warning: the spec ends in `softmax`; training on the logits before it "
                "(cross-entropy applies log-softmax itself)")


def _optimizer(s: Settings, model: nn.Module) -> torch.optim.Optimizer:
    options = dict(s.optimizer_args)
    if s.optimizer == "sgd":
        if "nesterov" in options:
            options["nesterov"] = bool(options["nesterov"])
        return torch.optim.SGD(model.parameters(), lr=s.lr, **options)
    betas = (options.pop("beta1", 0.9), options.pop("beta2", 0.999))
    cls = torch.optim.Adam if s.optimizer == "adam" else torch.optim.AdamW
    return cls(model.parameters(), lr=s.lr, betas=betas, **options)


def _write_run_files(run: Run) -> None:
    if not run.placement.main:
        return
    (run.out / "model.py").write_text(run.code, encoding="utf-8")
    config = {"spec": run.result.source.name, "model": run.result.network.model,
              "spec_hash": checkpoint.spec_hash(run.result.source.text),
              "input": list(run.result.network.input), "params": run.result.summary.params,
              "world_size": run.placement.world, "torch": torch.__version__,
              "settings": run.settings.to_json()}
    (run.out / "config.json").write_text(json.dumps(config, indent=2) + "\n")


# ---- one epoch ---------------------------------------------------------------------------

def _loss(name: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = out.float()
    if name == "crossentropy":
        return F.cross_entropy(out, y)
    if name == "nll":
        return F.nll_loss(out, y)
    return F.mse_loss(out, F.one_hot(y, out.shape[1]).float())


def _batches(run: Run, n: int, generator: torch.Generator):
    """Index batches of one epoch; under torchrun each process takes its slice of
    every global batch, so the processes together see the single-process batches."""
    order = torch.randperm(n, generator=generator)
    p = run.placement
    for start in range(0, n, run.settings.batch):
        idx = order[start:start + run.settings.batch]
        if p.distributed:
            idx = idx[: len(idx) - len(idx) % p.world][p.rank::p.world]
            if len(idx) == 0:
                continue
        yield idx


def _epoch(run: Run, net, model, optimizer, scaler, dtype, data, generator, epoch: int) -> dict:
    s, p = run.settings, run.placement
    net.train()
    device = p.device
    total = torch.zeros(3, device=device, dtype=torch.float64)  # loss sum, correct, count
    steps = math.ceil(len(data.train_y) / s.batch)
    bar = _progress(run, steps, epoch)
    start = time.perf_counter()
    for step, idx in enumerate(_batches(run, len(data.train_y), generator)):
        idx = idx.to(device, non_blocking=True)
        x, y = data.train_x[idx], data.train_y[idx]
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = net(x)
            loss = _loss(s.loss, out, y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        with torch.no_grad():
            total += torch.stack([loss.detach().double() * len(y),
                                  (out.argmax(1) == y).sum().double(),
                                  torch.tensor(float(len(y)), device=device,
                                               dtype=torch.float64)])
        if bar is not None and (step % 10 == 0 or step == steps - 1):
            seen = total.tolist()
            bar.set_postfix(loss=f"{seen[0] / seen[2]:.4f}", acc=f"{seen[1] / seen[2]:.2%}",
                            rate=f"{seen[2] * p.world / (time.perf_counter() - start):,.0f}/s")
        if bar is not None:
            bar.update(1)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    if p.distributed:
        dist.all_reduce(total)
    loss_sum, correct, count = total.tolist()
    test_loss, test_acc = evaluate(model, data.test_x, data.test_y, s.loss, dtype)
    row = {"epoch": epoch, "train_loss": loss_sum / count, "train_acc": correct / count,
           "test_loss": test_loss, "test_acc": test_acc, "seconds": seconds,
           "samples_per_s": count / seconds, "lr": optimizer.param_groups[0]["lr"]}
    if bar is not None:
        bar.close()
    run.say(f"epoch {epoch}/{s.epochs}  train loss {row['train_loss']:.4f} acc "
            f"{row['train_acc']:.2%}  test loss {test_loss:.4f} acc {test_acc:.2%}  "
            f"{seconds:.1f}s  {row['samples_per_s']:,.0f} samples/s")
    return row


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str,
             dtype: torch.dtype | None = None) -> tuple[float, float]:
    """Mean loss and accuracy on held-out data, in eval mode."""
    model.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(y), EVAL_BATCH):
        xb, yb = x[start:start + EVAL_BATCH], y[start:start + EVAL_BATCH]
        with torch.autocast(x.device.type, dtype=dtype or torch.float32,
                            enabled=dtype is not None):
            out = model(xb)
        loss_sum += float(_loss(loss, out, yb)) * len(yb)
        correct += int((out.argmax(1) == yb).sum())
    model.train()
    return loss_sum / len(y), correct / len(y)


def _progress(run: Run, steps: int, epoch: int):
    s = run.settings
    wanted = s.progress == "bar" or (s.progress == "auto" and sys.stderr.isatty())
    if not wanted or not run.placement.main:
        return None
    from tqdm import tqdm

    return tqdm(total=steps, desc=f"epoch {epoch}/{s.epochs}", leave=False, unit="step",
                dynamic_ncols=True)


# ---- what a run leaves behind ------------------------------------------------------------

def _checkpoint(run: Run, model, optimizer, scaler, generator, epoch: int, name: str) -> None:
    payload = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
               "scaler": scaler.state_dict(), "rng": checkpoint.rng_state(generator),
               "epoch": epoch, "metrics": run.metrics, "best_acc": run.best_acc,
               "spec_hash": checkpoint.spec_hash(run.result.source.text),
               "model_name": run.result.network.model, "settings": run.settings.to_json()}
    checkpoint.save(run.out / name, payload)


def _save(run: Run, model, optimizer, scaler, generator, epoch: int, row: dict) -> None:
    improved = row["test_acc"] > run.best_acc
    if improved:
        run.best_acc = row["test_acc"]
    _checkpoint(run, model, optimizer, scaler, generator, epoch, "last.pt")
    if improved:
        _checkpoint(run, model, optimizer, scaler, generator, epoch, "best.pt")
    _write_metrics(run.out / "metrics.csv", run.metrics)
    _plot(run.out / "curves.png", run.metrics, run.result.network.model)


def _write_metrics(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v)
                             for k, v in row.items()})
    tmp.replace(path)


def _plot(path: Path, rows: list[dict], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [r["train_loss"] for r in rows], "o-", label="train")
    left.plot(epochs, [r["test_loss"] for r in rows], "s--", label="test")
    left.set(xlabel="epoch", ylabel="loss", title="loss")
    right.plot(epochs, [100 * r["train_acc"] for r in rows], "o-", label="train")
    right.plot(epochs, [100 * r["test_acc"] for r in rows], "s--", label="test")
    right.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
