"""The run folder's schema: what `config.json` and a checkpoint (`last.pt`, `best.pt`) must
hold before `predict`, `evaluate` or `--resume` use any of it.

Both files are data a user can edit (or plant), so each is validated whole, once, as it
is read: every entry of its type and within its range (a size of at least one pixel and
at most `images.MAX_PIXELS`, a positive and finite deviation, an RNG state numpy and
Python accept), and then against the model compiled from the recorded spec (its task,
its number of scores, its input's channels and size). A problem is one sentence naming
the file and the entry; nothing downstream meets a value of the wrong kind.

The training settings recorded under `settings` are checked by `options.Settings`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

import torch
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from cnndsl.files import show_path
from cnndsl.train.folder import FolderError
from cnndsl.train.images import MAX_PIXELS

#: the columns every metrics row holds (record.COLUMNS; resume and --patience read them)
ROW_COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds",
               "samples_per_s", "lr")
MAX_CHANNELS = 4096
MAX_CLASSES = 1 << 20
MAX_SPEC_CHARS = 1 << 20

Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Side = Annotated[int, Field(ge=1, le=MAX_PIXELS)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class Normalisation(_Strict):
    mean: list[Finite] = Field(min_length=1, max_length=MAX_CHANNELS)
    std: list[Positive] = Field(min_length=1, max_length=MAX_CHANNELS)

    @model_validator(mode="after")
    def _same_length(self):
        if len(self.mean) != len(self.std):
            raise ValueError(f"{len(self.mean)} mean(s) but {len(self.std)} deviation(s)")
        return self


class Preprocess(_Strict):
    mode: Literal["L", "RGB"]
    size: list[Side] = Field(min_length=2, max_length=2)     # (height, width): 2-D images only

    @model_validator(mode="after")
    def _bounded(self):
        if math.prod(self.size) > MAX_PIXELS:
            raise ValueError(f"{'x'.join(map(str, self.size))} is over the limit of "
                             f"{MAX_PIXELS:,} pixels")
        return self


class RunRecord(_Strict):
    """`config.json`: what inference and a resume read from it."""

    spec: str = Field(max_length=4096)
    spec_text: str = Field(max_length=MAX_SPEC_CHARS)
    spec_hash: str = Field(max_length=128)
    task: Literal["classify", "segment"]
    classes: list[str] = Field(min_length=1, max_length=MAX_CLASSES)
    normalisation: Normalisation
    preprocess: Preprocess
    settings: dict


# ---- a checkpoint -----------------------------------------------------------------------

def _tensor(dtype: torch.dtype, shape: tuple[int, ...] | None = None):
    def check(value):
        if not isinstance(value, torch.Tensor) or value.dtype != dtype or \
                (shape is not None and tuple(value.shape) != shape):
            want = f"{'x'.join(map(str, shape))} " if shape else ""
            raise ValueError(f"expected a {want}tensor of {str(dtype).replace('torch.', '')}")
        return value
    return AfterValidator(check)


class _Tensors(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", arbitrary_types_allowed=True)


class NumpyRNG(_Tensors):
    keys: Annotated[object, _tensor(torch.int64, (624,))]
    pos: int = Field(ge=0, le=624)
    has_gauss: int = Field(ge=0, le=1)
    gauss: float


Word = Annotated[int, Field(ge=0, lt=1 << 32)]


class PythonRNG(_Tensors):
    version: Literal[3]
    state: list[Word] = Field(min_length=625, max_length=625)
    gauss: float | None

    @model_validator(mode="after")
    def _position(self):
        if self.state[-1] > 624:
            raise ValueError("the position (its last number) is past 624")
        return self


class RNG(_Tensors):
    torch: Annotated[object, _tensor(torch.uint8)]
    numpy: NumpyRNG
    python: PythonRNG
    cuda: list[Annotated[object, _tensor(torch.uint8)]] | None = None


Figure = int | float


class Checkpoint(_Tensors):
    """`last.pt` and `best.pt`: the states a resume puts back, and the record of epochs."""

    format: int
    model: dict
    optimizer: dict
    scaler: dict
    ema: dict | None = None
    rng: RNG
    epoch: int = Field(ge=1)
    metrics: list[dict[str, Figure]] = Field(max_length=1 << 20)
    spec_hash: str

    @model_validator(mode="after")
    def _one_row_an_epoch(self):
        if len(self.metrics) != self.epoch:
            raise ValueError(f"{len(self.metrics)} rows for {self.epoch} epochs")
        for number, row in enumerate(self.metrics, 1):
            missing = [c for c in ROW_COLUMNS if c not in row]
            if missing or row["epoch"] != number:
                raise ValueError(f"row {number} is not epoch {number}'s figures")
        return self


def checkpoint_problem(state) -> str | None:
    """What is wrong with a loaded checkpoint, in words (None: nothing)."""
    if not isinstance(state, dict):
        return "it is not a cnndsl checkpoint"
    try:
        Checkpoint.model_validate(state)
    except ValidationError as exc:
        return f"its `{_where(exc)}` is missing or damaged{_why(exc)}"
    return None


# ---- config.json ------------------------------------------------------------------------

def check_record(record: dict, path: Path) -> RunRecord:
    """`config.json`'s contents, validated; a `FolderError` naming the entry otherwise."""
    try:
        return RunRecord.model_validate(record)
    except ValidationError as exc:
        raise FolderError(f"`{show_path(path)}`: its `{_where(exc)}` is missing or damaged"
                          f"{_why(exc)}; the run folder is damaged or from an older "
                          "cnndsl") from None


def check_against(record: RunRecord, facts, path: Path) -> None:
    """The record agrees with the model its spec compiles to."""
    problem = _disagreement(record, facts)
    if problem:
        raise FolderError(f"`{show_path(path)}`: {problem}; the run folder is damaged")


def _disagreement(record: RunRecord, facts) -> str | None:
    channels, shape = facts.input[0], "x".join(map(str, facts.input))
    pre, norm = record.preprocess, record.normalisation
    if facts.task != record.task:
        return f"its `task` {record.task} is not what the recorded spec's model does"
    scores = facts.output[0]
    if (record.task == "classify" and len(record.classes) > scores) or \
            (record.task == "segment" and len(record.classes) != scores):
        return f"its `classes` name {len(record.classes):,}, but the model gives {scores:,} scores"
    if list(pre.size) != list(facts.input[1:]) or pre.mode != ("L" if channels == 1 else "RGB"):
        return f"its `preprocess` ({pre.mode} {'x'.join(map(str, pre.size))}) is not the " \
               f"model's input ({shape})"
    if len(norm.mean) not in (1, channels):
        return f"its `normalisation` has {len(norm.mean)} means for {channels} channel(s)"
    return None


def _where(exc: ValidationError) -> str:
    """The entry's dotted path, without pydantic's names for the members of a union."""
    parts = [str(p) for p in exc.errors()[0]["loc"] if p not in ("int", "float", "str")]
    return ".".join(parts) or "(the whole file)"


def _why(exc: ValidationError) -> str:
    """pydantic's reason, in parentheses; nothing for a missing entry (said already)."""
    first = exc.errors()[0]
    if first["type"] == "missing":
        return ""
    return f" ({first['msg'].removeprefix('Value error, ')[:160]})"
