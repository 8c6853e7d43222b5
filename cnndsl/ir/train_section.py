"""The spec's `train { }` section as data (`TrainConfig`), the words it takes, and
the range of every number it sets.

Built by `cnndsl.passes.train_config` from the syntax tree; held by the network IR.
Kept free of pydantic, so that `cnndsl check` of a spec imports none of it: the
ranges are the `Field` bounds of the run's settings models (`cnndsl.ir.training`),
read from them only when a number is checked (`limits`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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

#: `schedule step every=N` is the setting `step`
_OTHER_NAMES = {"every": "step"}


def augments() -> dict[str, str | None]:
    """The augmentations and what their value is: None (a bare word) or a number,
    described (`cnndsl.ir.training.AUGMENTS`, read from `AugmentAmounts`)."""
    from cnndsl.ir.training import AUGMENTS

    return AUGMENTS


def limits(name: str) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low included, high included) of the number `name`, from its `Field`
    in `Settings`, `OptimizerOptions` or `AugmentAmounts`.

    >>> limits("momentum")
    (0, 1, True, False)
    """
    from cnndsl.ir.training import BOUNDED

    name = _OTHER_NAMES.get(name, name)
    info = next(m.model_fields[name] for m in BOUNDED if name in m.model_fields)
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
