"""The flags of `cnndsl train` (and of a compiled module's `__main__`), each checked
where it is read: a type function refuses `--lr nan` in argparse's words.

Free of pydantic (the words and ranges are `cnndsl.ir.train_section`'s), so that
building the `cnndsl` command line, as every command does, imports none of it.
"""

from __future__ import annotations

import argparse

from cnndsl.ir.train_section import (
    DATASETS,
    LOSSES,
    OPTIMIZERS,
    PROGRESS,
    SCHEDULES,
    augments,
    canonical,
    out_of_range,
)


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `cnndsl train` (and of a compiled module's `__main__`)."""
    _data_flags(p.add_argument_group("data"))
    _optimisation_flags(p.add_argument_group("optimisation"))
    _run_flags(p.add_argument_group("run"))


def _data_flags(data) -> None:
    data.add_argument("--data", type=_choice("dataset", DATASETS),
                      help=" | ".join(DATASETS) + " (folder and segmentation read --data-dir)")
    data.add_argument("--data-dir", help="where dataset files are read from, relative to the "
                      "working directory (default: the spec's `data folder PATH`, relative to "
                      "the spec's folder; else ./data)")
    data.add_argument("--download", action="store_true", default=None,
                      help="fetch mnist/fashion-mnist/cifar10 with torchvision if missing")
    data.add_argument("--val", type=_ranged("val", float), metavar="FRACTION",
                      help="hold out this fraction of the training data when there is no "
                           "test split (deterministic by --seed)")
    data.add_argument("--augment", type=_augment, metavar="LIST",
                      help="flip,crop=PAD,rrc=SCALE (or none)")
    data.add_argument("--mean", type=_floats, help="per-channel mean, `0.5,0.5,0.5` "
                      "(default: computed once from the training split)")
    data.add_argument("--std", type=_floats, help="per-channel standard deviation")
    data.add_argument("--workers", type=_ranged("workers", int),
                      help="data-loading processes for image folders (default: from the "
                           "core count)")


def _optimisation_flags(opt) -> None:
    opt.add_argument("--epochs", type=_ranged("epochs", int))
    opt.add_argument("--batch", type=_ranged("batch", int),
                     help="samples per step (all processes)")
    opt.add_argument("--optimizer", type=_choice("optimizer", tuple(OPTIMIZERS)),
                     help=" | ".join(OPTIMIZERS))
    opt.add_argument("--lr", type=_ranged("lr", float), help="learning rate")
    opt.add_argument("--momentum", type=_ranged("momentum", float), help="sgd only")
    opt.add_argument("--weight-decay", type=_ranged("weight_decay", float))
    opt.add_argument("--nesterov", action="store_true", default=None,
                     help="sgd with --momentum only")
    opt.add_argument("--decay-all", action="store_true", default=None,
                     help="apply weight decay to norms and biases too (default: weights only)")
    opt.add_argument("--loss", type=_choice("loss", LOSSES), help=" | ".join(LOSSES))
    opt.add_argument("--schedule", type=_choice("schedule", SCHEDULES),
                     help=" | ".join(SCHEDULES) + " (default constant)")
    opt.add_argument("--warmup", type=_ranged("warmup", float), metavar="EPOCHS",
                     help="linear warm-up, in epochs (fractions allowed)")
    opt.add_argument("--step-every", dest="step", type=_ranged("every", int), metavar="N",
                     help="`--schedule step`: multiply the lr by --gamma every N epochs")
    opt.add_argument("--gamma", type=_ranged("gamma", float))
    opt.add_argument("--smoothing", type=_ranged("smoothing", float), help="label smoothing")
    opt.add_argument("--clip", type=_ranged("clip", float), metavar="NORM",
                     help="clip the gradients' norm")
    opt.add_argument("--ema", type=_ranged("ema", float), metavar="DECAY",
                     help="keep a moving average of the weights (0.999), evaluated and saved")
    opt.add_argument("--patience", type=_ranged("patience", int), metavar="EPOCHS",
                     help="stop when the validation accuracy has not improved for N epochs")


def _run_flags(run) -> None:
    run.add_argument("--device", type=_device, help="auto | cpu | cuda | cuda:N | mps")
    run.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                     help="mixed precision (default: on for CUDA, off elsewhere)")
    run.add_argument("--channels-last", action="store_true", default=None,
                     help="channels-last memory format (CUDA)")
    run.add_argument("--compile", action="store_true", default=None,
                     help="torch.compile the model (CUDA)")
    run.add_argument("--seed", type=_ranged("seed", int),
                     help="seed of every random draw: weights, shuffling, augmentation (default 0)")
    run.add_argument("--out", help="run folder (default: runs/<model>-<n>/)")
    run.add_argument("--resume", action="store_true", default=None,
                     help="continue the run in --out (default: the latest run) from last.pt")
    run.add_argument("--progress", type=_choice("progress", PROGRESS),
                     help="auto | bar | plain: a bar per epoch (auto: only on a terminal), "
                          "or one line per epoch alone")
    run.add_argument("--init", metavar="WEIGHTS",
                     help="start from these weights: a state_dict, a run's best.pt, or any "
                          "PyTorch checkpoint whose names and shapes match")
    run.add_argument("--init-partial", action="store_true", default=None,
                     help="with --init: load what matches, list what is skipped (a new head)")


def _ranged(name: str, kind: type):
    def parse(text: str):
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(
                f"`{text}` is not a {'whole ' if kind is int else ''}number") from None
        problem = out_of_range(value, name)
        if problem:
            raise argparse.ArgumentTypeError(f"must be {problem}, got `{text}`")
        return value
    return parse


def _choice(what: str, choices: tuple[str, ...]):
    def parse(text: str) -> str:
        word = canonical(text)
        if word not in choices:
            raise argparse.ArgumentTypeError(f"unknown {what} `{text}` (choose from "
                                             f"{', '.join(choices)})")
        return word
    return parse


def _device(text: str) -> str:
    kind, _, index = text.partition(":")
    if kind in ("auto", "cpu", "mps") and not index or kind == "cuda" and \
            (not index or index.isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"`{text}` is not a device cnndsl trains on "
                                     "(auto | cpu | cuda | cuda:N | mps)")


def _floats(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}`: write numbers separated by commas") \
            from None
    if not values or any(out_of_range(v, None) for v in values):
        raise argparse.ArgumentTypeError(f"`{text}`: every value must be a finite number")
    return values


def _augment(text: str) -> list[list]:
    if text.lower() == "none":
        return []
    chosen = []
    known = augments()
    for part in filter(None, text.split(",")):
        word, _, amount = part.partition("=")
        word = word.strip().lower()
        if word not in known or (known[word] is None) != (amount == ""):
            raise argparse.ArgumentTypeError(f"`{part}`: augmentations are flip, crop=PAD, "
                                             "rrc=SCALE (or none)")
        value = None if known[word] is None else \
            _ranged(word, int if word == "crop" else float)(amount)
        chosen.append([word, value])
    return chosen
