"""`cnndsl evaluate`: a trained run measured on held-out data, from its folder alone."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cnndsl.files import guard, read_head, show_path, target_of, write_atomic
from cnndsl.ir.train_section import PATH_DATASETS
from cnndsl.train import images
from cnndsl.train.data import Data, _Stream, open_data, split_folders
from cnndsl.train.datasets import DataError
from cnndsl.train.devices import pick_device
from cnndsl.train.inference import Trained, load_run
from cnndsl.train.loop import drop_final_softmax, evaluate
from cnndsl.train.options import Settings
from cnndsl.train.record import check_confusion_target, plot_confusion
from cnndsl.train.scores import Scores, scores
from cnndsl.train.streams import FolderDataset, SegmentationDataset

#: the per-class scores, written beside the confusion matrix
SCORES_CSV = "per_class.csv"
#: the start of that file's header: how a later `evaluate` recognises a file it may replace
SCORES_HEADER = "kind,class,precision,recall,f1"
#: classes listed on the terminal (the CSV has all of them)
SHOWN_CLASSES = 40


def evaluate_run(args, confusion_png: Path) -> list[str]:
    """Evaluate; returns the lines to print (the picture is written to `confusion_png`, the
    per-class scores to `per_class.csv` beside it)."""
    scores_csv = confusion_png.parent / SCORES_CSV
    check_confusion_target(confusion_png)   # before the work, not after it
    _scores_guard()(target_of(scores_csv))
    trained = load_run(args.run_dir, pick_device(args.device), args.weights)
    s = _settings(trained, args)
    # the loss as training measured it (this model serves evaluate alone, not predict)
    drop_final_softmax(trained.model, trained.facts, s.loss)
    data, every = _data(trained, s, args)
    if data.classes != trained.classes:
        raise DataError(f"{data.name}'s classes ({', '.join(data.classes[:6])}...) are not "
                        f"those the run was trained on ({', '.join(trained.classes[:6])}...)")
    figures = evaluate(trained.model, data.test_batches(), s.loss, trained.facts.output[0],
                       task=trained.task, problems=(problems := {}))
    plot_confusion(confusion_png, figures["confusion"], trained.classes,
                   f"{trained.facts.model} on {data.name} ({_measured(data.n_test, every)})")
    found = scores(figures["confusion"], trained.classes)
    write_atomic(scores_csv, _csv(found, trained, figures, data.n_test).encode(
        "utf-8", "surrogateescape"), before=_scores_guard())
    lines = _lines(Path(args.run_dir), trained, data, figures, problems, confusion_png, every)
    lines[2:2] = _table(found, trained) + [f"note: {n}" for n in found.notes]
    lines.append(f"per-class scores: {show_path(scores_csv)}")
    if args.all and not every:
        lines.insert(1, f"note: --all is for image folders; {data.name} was measured on its "
                        "held-out split")
    return lines


def _measured(n: int, every: bool) -> str:
    """What the figures were measured on, in words: `--all` includes the training images."""
    return f"{n:,} samples, training images included" if every else f"{n:,} held-out samples"


def _settings(trained: Trained, args) -> Settings:
    s = Settings.from_json(trained.record["settings"])
    s.data = args.data or s.data
    s.data_dir = os.path.abspath(args.data_dir) if args.data_dir else s.data_dir
    s.augment, s.batch, s.device = [], args.batch, args.device
    s.workers = args.workers if args.workers is not None else s.workers
    return s


def _data(trained: Trained, s: Settings, args) -> tuple[Data, bool]:
    """The data to measure on, and whether it is every image (`--all` on a folder)."""
    norm = trained.record["normalisation"]
    stats = (norm["mean"], norm["std"])
    origin = "given by --data-dir" if args.data_dir else \
        f"recorded in `{show_path(Path(args.run_dir) / 'config.json')}`"
    data = open_data(s, trained.facts, trained.device, stats=stats, origin=origin)
    if args.all and s.data in PATH_DATASETS:
        _every_file(data, s, trained)
        return data, True
    return data, False


def _every_file(data: Data, s: Settings, trained: Trained) -> None:
    """`--all`: the held-out set becomes every image of the folder, from each folder
    training read (`train/` and `test/`, or the root)."""
    folders = split_folders(Path(s.data_dir), trained.task)
    pre = trained.record["preprocess"]
    size = tuple(pre["size"])
    if s.data == "segmentation":
        pictures, masks = _joined(images.scan_pairs(folder) for folder in folders)
        dataset = SegmentationDataset(pictures, masks, pre["mode"], size, {},
                                      trained.facts.output[0])
    else:
        paths, labels = _joined(images.scan_classes(folder, trained.classes)
                                for folder in folders)
        dataset = FolderDataset(paths, labels, pre["mode"], size, {}, False)
    stream: _Stream = data.source
    data.source = _Stream(dataset, dataset, data.sampler, s.batch, stream.workers, s.seed,
                          trained.device)
    data.source.mean, data.source.std = stream.mean, stream.std
    data.n_test = len(dataset)


def _joined(scans) -> tuple[np.ndarray, np.ndarray]:
    """The (paths, labels-or-masks) arrays of several folders, one after the other."""
    firsts, seconds = zip(*scans)
    return np.concatenate(firsts), np.concatenate(seconds)


def _lines(run_dir: Path, trained: Trained, data: Data, figures: dict, problems: dict,
           png: Path, every: bool) -> list[str]:
    lines = [f"{trained.facts.model} ({show_path(run_dir)}) on {data.name}: "
             f"{_measured(data.n_test, every)}"]
    if trained.task == "segment":
        lines.append(f"pixel accuracy {figures['acc']:.2%}  mean IoU {figures['miou']:.2%}")
    else:
        top5 = f"  top-5 {figures['top5']:.2%}" if _top5(figures) else ""
        lines.append(f"top-1 {figures['acc']:.2%}{top5}  loss {figures['loss']:.4f}")
    if problems:
        first, why = next(iter(problems.items()))
        lines.append(f"skipped {len(problems):,} unreadable file(s); the first: {first}: {why}")
    lines.append(f"confusion matrix: {show_path(png)}")
    return lines


def _top5(figures: dict) -> bool:
    """Top-5 accuracy means something with more than five classes (with five it is 100%)."""
    return "top5" in figures and figures["confusion"].shape[0] > 5


def _scores_guard():
    def ours(target: Path) -> bool:
        head = read_head(target, 256) or b""
        return head.startswith(SCORES_HEADER.encode())
    return guard(ours, False, hint="remove it, or pass `--out` (or `--confusion`) with "
                                   "another folder")


def _table(found: Scores, trained: Trained) -> list[str]:
    """Per class, then the averages, as scikit-learn's `classification_report` shows them."""
    from cnndsl.files import printable

    names = [printable(c) for c in trained.classes]
    iou = trained.task == "segment"
    rows = [(names[i], *_row(found, i, iou)) for i in range(len(names))]
    if len(rows) > SHOWN_CLASSES:       # the worst by F1 first: those are worth reading
        order = sorted(range(len(rows)), key=lambda i: float(found.f1[i]))
        rows = [rows[i] for i in order[:SHOWN_CLASSES]]
    shown = len(rows)
    total = int(found.support.sum())
    for name, avg in (("macro avg", found.macro), ("weighted avg", found.weighted)):
        rows.append((name, *(f"{avg[k]:.3f}" for k in _keys(iou)), f"{total:,}"))
    width = max(len(r[0]) for r in rows)
    header = ("", "precision", "recall", "f1") + (("IoU",) if iou else ()) + ("support",)
    out = [_line(r, width).rstrip() for r in [header, *rows]]
    out.insert(1 + shown, "")
    if len(trained.classes) > SHOWN_CLASSES:
        out.append(f"({SHOWN_CLASSES} of {len(trained.classes):,} classes shown, the lowest "
                   "F1 first; the CSV has all)")
    return out


def _keys(iou: bool) -> tuple[str, ...]:
    return ("precision", "recall", "f1") + (("iou",) if iou else ())


def _row(found: Scores, i: int, iou: bool) -> list[str]:
    values = [getattr(found, k)[i] for k in _keys(iou)]
    return [f"{float(v):.3f}" for v in values] + [f"{int(found.support[i]):,}"]


def _line(cells, width: int) -> str:
    return f"{cells[0]:<{width}}" + "".join(f"  {c:>9}" for c in cells[1:])


def _csv(found: Scores, trained: Trained, figures: dict, n: int) -> str:
    """Every class, the averages and the accuracies, exact (the class names as they are)."""
    from cnndsl.files import csv_text

    iou = trained.task == "segment"
    header = ["kind", "class", "precision", "recall", "f1"] + (["iou"] if iou else []) + \
        ["support", "accuracy"]
    rows = [header]
    for i, name in enumerate(trained.classes):
        values = [float(getattr(found, k)[i]) for k in _keys(iou)]
        rows.append(["class", name, *(f"{v:.6f}" for v in values),
                     int(found.support[i]), ""])
    total = int(found.support.sum())
    for kind, avg in (("macro avg", found.macro), ("weighted avg", found.weighted)):
        rows.append([kind, "", *(f"{avg[k]:.6f}" for k in _keys(iou)), total, ""])
    blanks = [""] * len(_keys(iou))        # an accuracy has no precision, recall, F1
    accuracy = "pixel accuracy" if iou else "top-1 accuracy"
    rows.append([accuracy, "", *blanks, total, f"{figures['acc']:.6f}"])
    if _top5(figures):
        rows.append(["top-5 accuracy", "", *blanks, n, f"{figures['top5']:.6f}"])
    return csv_text(rows)
