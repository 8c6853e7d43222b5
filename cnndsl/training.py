"""The spec's `train { }` section as data: what `cnndsl train` takes as defaults.

Built by `cnndsl.passes.train_config` from the syntax tree; read by the
training harness (`cnndsl.train`). Kept apart from both so that the network IR
can hold it without depending on either.
"""

from __future__ import annotations

from cnndsl.frozen import Frozen

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "folder")
OPTIMIZERS = {
    "sgd": ("lr", "momentum", "weight_decay", "dampening", "nesterov"),
    "adam": ("lr", "weight_decay", "eps", "beta1", "beta2"),
    "adamw": ("lr", "weight_decay", "eps", "beta1", "beta2"),
}
LOSSES = ("crossentropy", "nll", "mse")


class TrainConfig(Frozen):
    """The spec's `train { }` defaults, validated; unset fields are None."""

    data: str | None = None
    data_path: str | None = None
    epochs: int | None = None
    batch: int | None = None
    optimizer: str | None = None
    optimizer_args: tuple[tuple[str, float], ...] = ()
    lr: float | None = None
    loss: str | None = None
