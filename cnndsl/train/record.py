"""What a run leaves behind besides checkpoints: metrics.csv, curves.png, and
the confusion-matrix picture of `cnndsl evaluate`. Every file is written atomically."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cnndsl.files import guard, png_marked, printable, target_of, write_atomic

#: the `Software` text of the confusion-matrix PNG: a later `evaluate` replaces only such a file
CONFUSION_MARK = "cnndsl evaluate: confusion matrix"

COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds",
           "samples_per_s", "lr")


def columns(task: str, ema: bool) -> tuple[str, ...]:
    """metrics.csv's header for a run: the base columns, then what the run adds."""
    extra = ("test_miou",) if task == "segment" else ("test_top5",) if task == "classify" \
        else ()
    if ema:
        extra += tuple(f"ema_{name}" for name in ("test_loss", "test_acc") + extra)
    return COLUMNS + extra


def write_metrics(path: Path, rows: list[dict], header: tuple[str, ...]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    write_atomic(path, buffer.getvalue())


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(path: Path, rows: list[dict], title: str) -> None:
    """Loss, accuracy (and mean IoU) and the learning rate, by epoch."""
    plt = _pyplot()
    epochs = [r["epoch"] for r in rows]
    fig, (loss, acc, lr) = plt.subplots(1, 3, figsize=(14, 4))
    loss.plot(epochs, [r["train_loss"] for r in rows], "o-", label="train")
    loss.plot(epochs, [r["test_loss"] for r in rows], "s--", label="test")
    acc.plot(epochs, [100 * r["train_acc"] for r in rows], "o-", label="train")
    acc.plot(epochs, [100 * r["test_acc"] for r in rows], "s--", label="test")
    if rows and "test_miou" in rows[0]:
        acc.plot(epochs, [100 * r["test_miou"] for r in rows], "^-.", label="test mIoU")
    if rows and "ema_test_acc" in rows[0]:
        acc.plot(epochs, [100 * r["ema_test_acc"] for r in rows], "d:", label="EMA test")
    lr.plot(epochs, [r["lr"] for r in rows], "o-", color="tab:green", label="mean lr")
    loss.set(xlabel="epoch", ylabel="loss", title="loss")
    acc.set(xlabel="epoch", ylabel="%", title="accuracy")
    lr.set(xlabel="epoch", ylabel="learning rate", title="learning rate (mean of the epoch)")
    for ax in (loss, acc, lr):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path, plt)


def check_confusion_target(path: Path) -> None:
    """Refuse, before any work, a picture path that holds a file `evaluate` did not draw."""
    _confusion_guard()(target_of(path))


def _confusion_guard():
    return guard(lambda target: png_marked(target, CONFUSION_MARK), False,
                 hint="remove it, or pass `--confusion` with another path")


def plot_confusion(path: Path, confusion, classes: list[str], title: str) -> None:
    """Rows: true class; columns: predicted; each row scaled to its own total. An
    existing file at `path` is replaced only if it is an earlier confusion matrix."""
    plt = _pyplot()
    counts = confusion.double()
    share = counts / counts.sum(1, keepdim=True).clamp_min(1)
    n = len(classes)
    size = min(4 + 0.4 * n, 24)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(share.numpy(), cmap="Blues", vmin=0, vmax=1)
    if n <= 40:     # names as a terminal shows them: a non-UTF-8 folder name cannot be drawn
        names = [_drawable(c[:16]) for c in classes]
        ax.set_xticks(range(n), names, rotation=90)
        ax.set_yticks(range(n), names)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set(xlabel="predicted", ylabel="true", title=_drawable(title))
    fig.tight_layout()
    _save(fig, path, plt, CONFUSION_MARK, _confusion_guard())


def _drawable(text: str) -> str:
    """`text` as matplotlib draws it literally: escaped for a terminal (a non-UTF-8 name
    cannot be drawn) and with `$` escaped (a pair of them starts mathtext)."""
    return printable(text).replace("$", r"\$")


def _save(fig, path: Path, plt, mark: str | None = None, before=None) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": mark} if mark else None)
    plt.close(fig)
    write_atomic(path, buffer.getvalue(), before=before)
