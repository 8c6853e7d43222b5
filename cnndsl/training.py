"""The spec's `train { }` section as data: what `cnndsl train` takes as defaults.

Built by `cnndsl.passes.train_config` from the syntax tree; read by the
training harness (`cnndsl.train`). Kept apart from both so that the network IR
can hold it without depending on either. The vocabularies here are the one
place both the checker and the command line take their words from.
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
#: the range each optimizer option may take: (low, high, low included, high included)
OPTION_RANGES = {
    "lr": (0.0, None, False, False), "momentum": (0.0, 1.0, True, False),
    "weight_decay": (0.0, None, True, False), "dampening": (0.0, 1.0, True, True),
    "nesterov": (0.0, 1.0, True, True), "eps": (0.0, None, False, False),
    "beta1": (0.0, 1.0, True, False), "beta2": (0.0, 1.0, True, False),
}
#: (low, high, low included, high included) of every numeric setting
RANGES = {"epochs": (1, 1_000_000, True, True), "batch": (1, 1 << 20, True, True),
          "smoothing": (0.0, 1.0, True, False),
          "clip": (0.0, None, False, False), "ema": (0.0, 1.0, False, False),
          "patience": (1, 1_000_000, True, True), "val": (0.0, 1.0, False, False),
          "warmup": (0.0, 1_000_000, True, True), "every": (1, 1_000_000, True, True),
          "gamma": (0.0, 1.0, False, True), "crop": (0, 4096, True, True),
          "rrc": (0.0, 1.0, False, True), "workers": (0, 256, True, True),
          "seed": (0, 2**63 - 1, True, True), **OPTION_RANGES}
LOSSES = ("crossentropy", "nll", "mse")
#: other spellings of the words above, taken by the spec and the command line alike
ALIASES = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10",
           "cross-entropy": "crossentropy"}
SCHEDULES = ("constant", "cosine", "onecycle", "step")
#: augmentations and what their value is: None (a bare word) or a number
AUGMENTS = {"flip": None, "crop": "pixels of padding (crop=4)",
            "rrc": "the smallest area kept, 0 < s <= 1 (rrc=0.35)"}


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


def out_of_range(value: float, bounds) -> str | None:
    """None when `value` is finite and within `bounds`, else what it must be.

    >>> out_of_range(float("nan"), RANGES["lr"])
    'a finite number above 0'
    """
    low, high, low_in, high_in = bounds
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
