"""The settings of a run: what `cnndsl train` takes, with the range of every number.

The pydantic models here (`Settings`, `OptimizerOptions`, `AugmentAmounts`, their
`Field` bounds) are the one place the checker, the command line and `config.json`
take their ranges from; the words, and the spec's `train { }` section as data
(`TrainConfig`), are `cnndsl.ir.train_section`'s, which reads these
bounds only when it checks a number, so that checking a spec imports no pydantic.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cnndsl.ir.train_section import DATASETS, LOSSES, MILLION, OPTIMIZERS, PROGRESS, SCHEDULES

# The models are built on first validation (`defer_build`), not at import: `cnndsl
# check` reads only their fields' bounds (and only for a spec that sets a number in
# `train { }`), and building pydantic's validators costs start-up time. Every float
# is finite (`allow_inf_nan=False`).
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


#: where the bounds of each number live: a setting, an optimizer option, an augmentation
#: (read by `cnndsl.ir.train_section.limits`)
BOUNDED = (Settings, OptimizerOptions, AugmentAmounts)


def settings_schema() -> dict:
    """The JSON Schema of a run's settings (`config.json`'s `settings`), with the
    optimizer options and augmentation amounts, each number with its bounds."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "cnndsl train settings", "$ref": "#/$defs/Settings",
            "$defs": {model.__name__: model.model_json_schema() for model in BOUNDED}}
