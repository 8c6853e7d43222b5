"""Training settings: flags > the spec's `train { }` section > built-in defaults.

Every flag defaults to None, so that a run can tell what the user asked for from
what it chose (a resumed run compares the first with its record). Each value is
checked where it is read (the flags' type functions, `cnndsl.train.flags`) and the
combinations once all are known (`check_combinations`), before any work.
"""

from __future__ import annotations

import argparse

from cnndsl.ir.train_section import OPTIMIZERS, PATH_DATASETS, TrainConfig, sgd_refuses
from cnndsl.ir.training import AUGMENTS, AugmentAmounts, OptimizerOptions, Settings
from cnndsl.train.flags import add_train_arguments

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
