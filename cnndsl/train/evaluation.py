"""`cnndsl evaluate`: a trained run measured on held-out data, from its folder alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnndsl.files import show_path
from cnndsl.train import images
from cnndsl.train.data import Data, _Stream, open_data, split_folders
from cnndsl.train.datasets import DataError
from cnndsl.train.devices import pick_device
from cnndsl.train.inference import Trained, load_run
from cnndsl.train.loop import drop_final_softmax, evaluate
from cnndsl.train.options import Settings
from cnndsl.train.record import check_confusion_target, plot_confusion
from cnndsl.train.streams import FolderDataset, SegmentationDataset
from cnndsl.training import PATH_DATASETS


def evaluate_run(args, confusion_png: Path) -> list[str]:
    """Evaluate; returns the lines to print (the picture is written to `confusion_png`)."""
    check_confusion_target(confusion_png)   # before the work, not after it
    trained = load_run(args.run_dir, pick_device(args.device), args.weights)
    s = _settings(trained, args)
    # the loss as training measured it (this model serves evaluate alone, not predict)
    drop_final_softmax(trained.model, trained.facts, s.loss)
    data, every = _data(trained, s, args.all)
    if data.classes != trained.classes:
        raise DataError(f"{data.name}'s classes ({', '.join(data.classes[:6])}...) are not "
                        f"those the run was trained on ({', '.join(trained.classes[:6])}...)")
    figures = evaluate(trained.model, data.test_batches(), s.loss, trained.facts.output[0],
                       task=trained.task, problems=(problems := {}))
    plot_confusion(confusion_png, figures["confusion"], trained.classes,
                   f"{trained.facts.model} on {data.name} ({_measured(data.n_test, every)})")
    lines = _lines(Path(args.run_dir), trained, data, figures, problems, confusion_png, every)
    if args.all and not every:
        lines.insert(1, f"note: --all is for image folders; {data.name} was measured on its "
                        "held-out split")
    return lines


def _measured(n: int, every: bool) -> str:
    """What the figures were measured on, in words: `--all` includes the training images."""
    return f"{n:,} samples, training images included" if every else f"{n:,} held-out samples"


def _settings(trained: Trained, args) -> Settings:
    s = Settings.from_json(trained.record["settings"])
    s.data, s.data_dir = args.data or s.data, args.data_dir or s.data_dir
    s.augment, s.batch, s.device = [], args.batch, args.device
    s.workers = args.workers if args.workers is not None else s.workers
    return s


def _data(trained: Trained, s: Settings, every: bool) -> tuple[Data, bool]:
    """The data to measure on, and whether it is every image (`--all` on a folder)."""
    norm = trained.record["normalisation"]
    stats = (norm["mean"], norm["std"])
    data = open_data(s, trained.facts, trained.device, stats=stats)
    if every and s.data in PATH_DATASETS:
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
        top5 = f"  top-5 {figures['top5']:.2%}" if "top5" in figures else ""
        lines.append(f"top-1 {figures['acc']:.2%}{top5}  loss {figures['loss']:.4f}")
    if problems:
        first, why = next(iter(problems.items()))
        lines.append(f"skipped {len(problems):,} unreadable file(s); the first: {first}: {why}")
    lines.append(f"confusion matrix: {show_path(png)}")
    return lines
