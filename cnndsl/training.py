"""The spec's `train { }` section as data, and the settings of a run: what
`cnndsl train` takes, with the range of every number.

Built by `cnndsl.passes.train_config` from the syntax tree; read by the
training harness (`cnndsl.train`). Kept apart from both so that the network IR
can hold it without depending on either. The vocabularies and the pydantic
models here (`Settings`, `OptimizerOptions`, `AugmentAmounts`, their `Field`
bounds) are the one place the checker, the command line and `config.json` take
their words and ranges from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "folder", "segmentation")
#: datasets that name a folder: `data folder PATH`, `data segmentation PATH`
PATH_DATASETS = ("folder", "segmentation")
OPTIMIZERS = {
    "sgd": ("lr", "momentum", "weight_decay", "dampening", "nesterov"),
    "adam": ("lr", "weight_decay", "eps", "beta1", "beta2"),
    "adamw": ("lr", "weight_decay", "eps", "beta1", "beta2"),
}
LOSSES = ("crossentropy", "nll", "mse")
#: other spellings of the words above, taken by the spec and the command line alike
ALIASES = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10",
           "cross-entropy": "crossentropy"}
SCHEDULES = ("constant", "cosine", "onecycle", "step")
PROGRESS = ("auto", "bar", "plain")
MILLION = 1_000_000

# The models are built on first validation (`defer_build`), not at import: `cnndsl
# check` reads only their fields' bounds, and building pydantic's validators costs
# start-up time. Every float is finite (`allow_inf_nan=False`).
_DEFERRED = ConfigDict(defer_build=True, extra="forbid", allow_inf_nan=False)


class OptimizerOptions(BaseModel):
    """The options of `optimizer NAME key=value` (and of `--momentum`, ...), each in range."""

    model_config = _DEFERRED

    lr: float | None = Field(None, gt=0, description="learning rate")
    momentum: float | None = Field(None, ge=0, lt=1)
    weight_decay: float | None = Field(None, ge=0)
    dampening: float | None = Field(None, ge=0, le=1)
    nesterov: float | None = Field(None, ge=0, le=1, description="1 for Nesterov momentum")
    eps: float | None = Field(None, gt=0)
    beta1: float | None = Field(None, ge=0, lt=1)
    beta2: float | None = Field(None, ge=0, lt=1)


class AugmentAmounts(BaseModel):
    """The augmentations that take a number (`crop=4`, `rrc=0.35`), each in range."""

    model_config = _DEFERRED

    crop: int | None = Field(None, ge=0, le=4096, description="pixels of padding (crop=4)")
    rrc: float | None = Field(None, gt=0, le=1,
                                 description="the smallest area kept, 0 < s <= 1 (rrc=0.35)")


#: augmentations and what their value is: None (a bare word) or a number
AUGMENTS = {"flip": None, **{name: info.description
                             for name, info in AugmentAmounts.model_fields.items()}}


class Settings(BaseModel):
    """Every resolved setting of a run (flags > the spec's `train { }` > these
    defaults); written to `config.json`, and read back from it by `from_json`."""

    model_config = _DEFERRED

    data: Literal[DATASETS] = "digits"
    data_path: str | None = None
    data_dir: str = "data"
    download: bool = False
    val: float | None = Field(None, gt=0, lt=1)
    augment: list[list] = Field(default_factory=list)   # [["flip", None], ["crop", 4]]
    mean: list[float] | None = None
    std: list[float] | None = None
    epochs: int = Field(10, ge=1, le=MILLION)
    batch: int = Field(32, ge=1, le=1 << 20)
    optimizer: Literal[tuple(OPTIMIZERS)] = "adam"
    lr: float = Field(1e-3, gt=0)
    optimizer_args: dict[str, float] = Field(default_factory=dict)
    decay_all: bool = False
    loss: Literal[LOSSES] = "crossentropy"
    schedule: Literal[SCHEDULES] = "constant"
    warmup: float = Field(0.0, ge=0, le=MILLION)
    step: int = Field(30, ge=1, le=MILLION)
    gamma: float = Field(0.1, gt=0, le=1)
    smoothing: float = Field(0.0, ge=0, lt=1)
    clip: float | None = Field(None, gt=0)
    ema: float | None = Field(None, gt=0, lt=1)
    patience: int | None = Field(None, ge=1, le=MILLION)
    device: str = "auto"
    amp: bool | None = None
    channels_last: bool = False
    compile: bool = False
    seed: int = Field(0, ge=0, le=2**63 - 1)
    out: str | None = None
    resume: bool = False
    workers: int | None = Field(None, ge=0, le=256)
    progress: Literal[PROGRESS] = "auto"

    def to_json(self) -> dict:
        return self.model_dump()


#: where the bounds of each number live: a setting, an optimizer option, an augmentation;
#: `schedule step every=N` is the setting `step`
_BOUNDED = (Settings, OptimizerOptions, AugmentAmounts)
_OTHER_NAMES = {"every": "step"}


def limits(name: str) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low included, high included) of the number `name`, from its `Field`.

    >>> limits("momentum")
    (0, 1, True, False)
    """
    name = _OTHER_NAMES.get(name, name)
    info = next(m.model_fields[name] for m in _BOUNDED if name in m.model_fields)
    low = high = None
    low_in = high_in = True
    for rule in info.metadata:
        for attr, is_low, included in (("ge", True, True), ("gt", True, False),
                                       ("le", False, True), ("lt", False, False)):
            value = getattr(rule, attr, None)
            if value is None:
                continue
            if is_low:
                low, low_in = value, included
            else:
                high, high_in = value, included
    return low, high, low_in, high_in


def settings_schema() -> dict:
    """The JSON Schema of a run's settings (`config.json`'s `settings`), with the
    optimizer options and augmentation amounts, each number with its bounds."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "cnndsl train settings", "$ref": "#/$defs/Settings",
            "$defs": {model.__name__: model.model_json_schema() for model in _BOUNDED}}


def canonical(word: str) -> str:
    """A dataset, optimizer, loss or schedule word as the vocabularies spell it: lower case,
    `-` for `_`, aliases resolved (`cross_entropy` -> `crossentropy`)."""
    word = word.lower().replace("_", "-")
    return ALIASES.get(word, word)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainConfig:
    """The spec's `train { }` defaults, validated; unset fields are None."""

    data: str | None = None
    data_path: str | None = None
    epochs: int | None = None
    batch: int | None = None
    optimizer: str | None = None
    optimizer_args: tuple[tuple[str, float], ...] = ()
    lr: float | None = None
    loss: str | None = None
    augment: tuple[tuple[str, float | None], ...] | None = None
    schedule: str | None = None
    warmup: float | None = None          # epochs of linear warm-up
    step: int | None = None              # `schedule step every=N`
    gamma: float | None = None           # `schedule step gamma=0.1`
    smoothing: float | None = None       # label smoothing
    clip: float | None = None            # gradient norm clipping
    ema: float | None = None             # decay of the weights' moving average
    patience: int | None = None          # early stopping
    val: float | None = None             # held-out fraction when there is no test split


def sgd_refuses(options: dict) -> str | None:
    """What PyTorch's SGD would refuse in these options (`momentum` or `dampening`
    beside `nesterov`), or None; the spec and the flags word it each their own way."""
    if options.get("nesterov") and not options.get("momentum"):
        return "momentum"
    if options.get("nesterov") and options.get("dampening"):
        return "dampening"
    return None


def out_of_range(value: float, name: str | None) -> str | None:
    """None when `value` is finite and within the bounds of the number `name` (None:
    any finite number), else what it must be.

    >>> out_of_range(float("nan"), "lr")
    'a finite number above 0'
    """
    low, high, low_in, high_in = limits(name) if name else (None, None, True, True)
    too_low = low is not None and (value < low or (value == low and not low_in))
    too_high = high is not None and (value > high or (value == high and not high_in))
    if math.isfinite(value) and not too_low and not too_high:
        return None
    finite = "" if math.isfinite(value) else "a finite number "
    if high is None:
        return f"{finite}{'at least' if low_in else 'above'} {_number(low)}"
    return (f"{finite}between {_number(low)} ({'included' if low_in else 'excluded'}) and "
            f"{_number(high)} ({'included' if high_in else 'excluded'})")


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"
