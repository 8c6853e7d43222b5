"""Training settings: flags > the spec's `train { }` section > built-in defaults.

Every flag defaults to None, so that a run can tell what the user asked for from
what it chose (a resumed run compares the first with its record). Each value is
checked where it is read (a type function: `--lr nan` is refused by argparse)
and the combinations once all are known (`check_combinations`), before any work.
"""

from __future__ import annotations

import argparse

from cnndsl.training import (
    AUGMENTS,
    DATASETS,
    LOSSES,
    OPTIMIZERS,
    PATH_DATASETS,
    PROGRESS,
    SCHEDULES,
    AugmentAmounts,
    OptimizerOptions,
    Settings,
    TrainConfig,
    canonical,
    out_of_range,
    sgd_refuses,
)

#: the optimizer options that are also flags (`--momentum`), kept in `optimizer_args`
OPTION_FLAGS = ("momentum", "weight_decay", "nesterov")
DEFAULT_LR = {"sgd": 0.01, "adam": 1e-3, "adamw": 1e-3}
#: flags a resumed run may change (applied, recorded in config.json, and said)
RESUMABLE = ("epochs", "device", "progress", "workers", "patience")

__all__ = ["OPTION_FLAGS", "RESUMABLE", "OptionError", "Settings", "add_train_arguments",
           "check_combinations", "data_folder", "data_origin", "read_settings",
           "resolve_settings"]


class OptionError(Exception):
    """A flag or a combination of flags the harness refuses, in words."""


def read_settings(data: dict) -> Settings:
    """Settings from a `config.json` record: the same keys, each value of its type,
    every word one cnndsl knows and every number in its range (the `Field` bounds
    of `Settings` and `OptimizerOptions`); else `OptionError`."""
    from pydantic import ValidationError

    if not isinstance(data, dict) or set(data) != set(Settings.model_fields):
        raise OptionError("its `settings` are not those of this version of cnndsl")
    if not _plain_json(data):
        raise OptionError("its `settings` are damaged")
    where = None
    try:
        settings = Settings.model_validate(data, strict=True)
        where = "optimizer_args"
        OptimizerOptions.model_validate(settings.optimizer_args, strict=True)
        where = "augment"
        _augment_record(settings.augment)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise OptionError(f"its setting `{where or first['loc'][0]}` "
                          f"{_fault(first['type'])}") from None
    return settings


def _augment_record(chosen: list[list]) -> None:
    """Each recorded augmentation is a known word with a value of its kind, in range."""
    for pair in chosen:
        word, value = pair if len(pair) == 2 else (None, None)
        if word not in AUGMENTS or (AUGMENTS[word] is None) != (value is None):
            raise OptionError("its setting `augment` is damaged")
        if value is not None:
            AugmentAmounts.model_validate({word: value}, strict=True)


def _plain_json(value) -> bool:
    """Only what JSON holds (so strict validation reads a record as JSON would be read)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def _fault(kind: str) -> str:
    if kind == "literal_error":
        return "is not one this cnndsl knows"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal",
                "finite_number"):
        return "is out of range"
    return "is damaged"


Settings.from_json = staticmethod(read_settings)


#: what a setting is when neither the flags nor the spec's section give it
BUILT_IN = Settings.model_construct()


# ---- flags -------------------------------------------------------------------------------

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
    for part in filter(None, text.split(",")):
        word, _, amount = part.partition("=")
        word = word.strip().lower()
        if word not in AUGMENTS or (AUGMENTS[word] is None) != (amount == ""):
            raise argparse.ArgumentTypeError(f"`{part}`: augmentations are flip, crop=PAD, "
                                             "rrc=SCALE (or none)")
        value = None if AUGMENTS[word] is None else \
            _ranged(word, int if word == "crop" else float)(amount)
        chosen.append([word, value])
    return chosen


# ---- resolving ---------------------------------------------------------------------------

def resolve_settings(args: argparse.Namespace, spec: TrainConfig) -> Settings:
    """Flags win over the spec's section, which wins over the built-ins."""
    # the spec's warm-up, step and gamma belong to its schedule, not to another one a flag names
    own_schedule = args.schedule is None or spec.schedule in (None, args.schedule)

    def pick(name: str, flag: str | None = None):
        value = getattr(args, flag or name, None)
        if value is None and (own_schedule or name not in ("warmup", "step", "gamma")):
            value = getattr(spec, name, None)
        return value if value is not None else getattr(BUILT_IN, name)

    optimizer = pick("optimizer")
    lr, options = _optimizer_options(args, spec, optimizer)
    data = pick("data")
    data_path = spec.data_path if data in PATH_DATASETS and args.data is None else None
    augment = args.augment if args.augment is not None else \
        [list(pair) for pair in spec.augment or ()]
    settings = Settings(
        data=data, data_path=data_path, data_dir=data_folder(args, data_path),
        download=bool(args.download), val=pick("val"), augment=augment, mean=args.mean,
        std=args.std, epochs=pick("epochs"), batch=pick("batch"), optimizer=optimizer,
        lr=float(lr), optimizer_args=options, decay_all=bool(args.decay_all),
        loss=pick("loss"), schedule=pick("schedule"), warmup=float(pick("warmup")),
        step=pick("step"), gamma=pick("gamma"), smoothing=pick("smoothing"),
        clip=pick("clip"), ema=pick("ema"), patience=pick("patience"),
        device=args.device or "auto", amp=args.amp, channels_last=bool(args.channels_last),
        compile=bool(args.compile), seed=pick("seed"), out=args.out,
        resume=bool(args.resume), workers=args.workers, progress=pick("progress"))
    if not settings.resume:    # a resumed run checks its recorded settings, with the flags
        check_combinations(settings)
    return settings


def data_folder(args, data_path: str | None) -> str:
    """Where the data is, as an absolute path (a run records it, so that `evaluate` and
    `--resume` find it from any folder): `--data-dir` relative to the working directory,
    the spec's `data folder PATH` relative to the spec's folder (`args.spec_dir`; the
    working directory for a spec given as text), else `./data`."""
    import os

    if args.data_dir:
        return os.path.abspath(args.data_dir)
    if data_path:
        return os.path.abspath(os.path.join(getattr(args, "spec_dir", None) or os.getcwd(),
                                            data_path))
    return os.path.abspath("data")


def data_origin(args, line: int | None, data_path: str | None, data: str) -> str:
    """Where `data_folder`'s answer came from, in words, for a message that names it."""
    import os

    if args.data_dir:
        return "given by --data-dir"
    if data_path:
        where = f" at line {line}" if line else ""
        relative = "" if os.path.isabs(data_path) else ", relative to the spec's folder"
        return f"named by `train {{ data {data} {data_path} }}`{where}{relative}"
    return "the default, `data` in the working directory; pass --data-dir to read another"


def _optimizer_options(args, spec: TrainConfig, optimizer: str) -> tuple[float, dict]:
    """The learning rate and options: flags, then the spec's (for its own optimizer)."""
    same = spec.optimizer in (None, optimizer)
    options = dict(spec.optimizer_args) if same else {}
    for name in OPTION_FLAGS:
        if getattr(args, name, None) is not None:
            options[name] = float(getattr(args, name))
    lr = args.lr if args.lr is not None else spec.lr if spec.lr is not None and same \
        else DEFAULT_LR[optimizer]
    return lr, options


def check_combinations(s: Settings) -> None:
    """Refuse what the optimizer or the data would not take, before any work."""
    taken = OPTIMIZERS[s.optimizer]
    for name in OPTION_FLAGS:
        if name in s.optimizer_args and name not in taken:
            flag = "--" + name.replace("_", "-")
            raise OptionError(f"{flag}: {s.optimizer} takes no {name.replace('_', ' ')} "
                              f"(it takes {', '.join(t for t in taken if t != 'lr')}); "
                              f"use --optimizer sgd, or drop {flag}")
    refused = sgd_refuses(s.optimizer_args)
    if refused == "momentum":
        raise OptionError("--nesterov needs a momentum above 0: add --momentum 0.9")
    if refused == "dampening":
        raise OptionError("--nesterov needs dampening 0: drop the spec's `dampening=`")
    if s.smoothing and s.loss != "crossentropy":
        raise OptionError(f"label smoothing ({s.smoothing:g}) is for cross-entropy; --loss "
                          f"{s.loss} has none: drop --smoothing (or the spec's `smoothing`), "
                          "or use --loss crossentropy")
    if s.mean is not None and s.std is not None and len(s.mean) != len(s.std):
        raise OptionError(f"--mean has {len(s.mean)} values but --std {len(s.std)}")
    if s.std is not None and any(v <= 0 for v in s.std):
        raise OptionError("--std: every value must be above 0")
    if (s.mean is None) != (s.std is None):
        raise OptionError("give --mean and --std together")
