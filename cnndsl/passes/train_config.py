"""The `train { }` section: validated into `TrainConfig`."""

from __future__ import annotations

import difflib

from cnndsl import syntax as ir
from cnndsl.diagnostics import Diagnostic, Label, error
from cnndsl.training import DATASETS, LOSSES, OPTIMIZERS, TrainConfig

KEYS = ("data", "epochs", "batch", "optimizer", "lr", "loss")


def train_config(program: ir.Program, diagnostics: list[Diagnostic]) -> TrainConfig:
    """Validate the spec's training defaults; unknown keys and bad values are errors."""
    fields: dict[str, object] = {}
    seen: dict[str, ir.TrainItem] = {}
    for item in program.trains:
        if item.key in seen:
            diagnostics.append(error("E0405", f"`{item.key}` is set twice in `train`",
                                     item.key_span, "set again here", secondary=[
                                         Label(span=seen[item.key].key_span,
                                               text="first set here")]))
            continue
        seen[item.key] = item
        handler = _HANDLERS.get(item.key)
        if handler is None:
            close = difflib.get_close_matches(item.key, KEYS, n=1, cutoff=0.6)
            diagnostics.append(error("E0601", f"unknown training setting `{item.key}`",
                                     item.key_span, "not a setting",
                                     notes=["settings: " + ", ".join(f"`{k}`" for k in KEYS)],
                                     help=f"did you mean `{close[0]}`?" if close else None))
            continue
        handler(item, fields, diagnostics)
    return TrainConfig(**fields)


def _only(item: ir.TrainItem, count: int, usage: str, diagnostics: list[Diagnostic]) -> bool:
    if len(item.values) == count and all(v.key is None for v in item.values):
        return True
    diagnostics.append(error("E0602", f"`{item.key}` takes {usage}", item.span,
                             "unexpected values" if item.values else "missing value",
                             help=f"write `{item.key} {usage}`"))
    return False


def _number(value: ir.TrainValue, what: str, diagnostics: list[Diagnostic], *,
            integer: bool) -> float | None:
    try:
        number = int(value.value) if integer else float(value.value)
    except ValueError:
        diagnostics.append(error("E0602", f"{what} must be a {'whole ' if integer else ''}number",
                                 value.span, f"got `{value.text}`"))
        return None
    if number <= 0:
        diagnostics.append(error("E0404", f"{what} must be above 0", value.span,
                                 f"got `{value.text}`"))
        return None
    return number


def _data(item, fields, diagnostics) -> None:
    if not item.values:
        _only(item, 1, "a dataset: " + " | ".join(DATASETS), diagnostics)
        return
    name = item.values[0].value.replace("_", "-").lower()
    name = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}.get(name, name)
    if name not in DATASETS:
        close = difflib.get_close_matches(name, DATASETS, n=1, cutoff=0.5)
        diagnostics.append(error("E0602", f"unknown dataset `{item.values[0].text}`",
                                 item.values[0].span, "not a dataset",
                                 notes=["datasets: " + ", ".join(DATASETS)],
                                 help=f"did you mean `{close[0]}`?" if close else None))
        return
    expected = 2 if name == "folder" else 1
    usage = "folder PATH" if name == "folder" else name
    if len(item.values) != expected:
        diagnostics.append(error("E0602", f"`data {usage}` takes "
                                 + ("a path" if name == "folder" else "no further values"),
                                 item.span, "here", help=f"write `data {usage}`"))
        return
    fields["data"] = name
    if name == "folder":
        fields["data_path"] = item.values[1].value


def _integer(key: str):
    def handle(item, fields, diagnostics) -> None:
        if _only(item, 1, "a whole number", diagnostics):
            number = _number(item.values[0], f"`{key}`", diagnostics, integer=True)
            if number is not None:
                fields[key] = number
    return handle


def _lr(item, fields, diagnostics) -> None:
    if _only(item, 1, "a number", diagnostics):
        number = _number(item.values[0], "the learning rate", diagnostics, integer=False)
        if number is not None:
            fields["lr"] = number


def _loss(item, fields, diagnostics) -> None:
    if _only(item, 1, " | ".join(LOSSES), diagnostics):
        name = item.values[0].value.lower().replace("_", "")
        if name not in LOSSES:
            close = difflib.get_close_matches(name, LOSSES, n=1, cutoff=0.5)
            diagnostics.append(error("E0602", f"unknown loss `{item.values[0].text}`",
                                     item.values[0].span, "not a loss",
                                     notes=["losses: " + ", ".join(LOSSES)],
                                     help=f"did you mean `{close[0]}`?" if close else None))
            return
        fields["loss"] = name


def _optimizer(item, fields, diagnostics) -> None:
    if not item.values or item.values[0].key is not None:
        _only(item, 1, "sgd | adam | adamw, then options such as `lr=0.01`", diagnostics)
        return
    name = item.values[0].value.lower()
    if name not in OPTIMIZERS:
        close = difflib.get_close_matches(name, OPTIMIZERS, n=1, cutoff=0.5)
        diagnostics.append(error("E0602", f"unknown optimizer `{item.values[0].text}`",
                                 item.values[0].span, "not an optimizer",
                                 notes=["optimizers: sgd, adam, adamw"],
                                 help=f"did you mean `{close[0]}`?" if close else None))
        return
    options: list[tuple[str, float]] = []
    for value in item.values[1:]:
        if value.key is None or value.key not in OPTIMIZERS[name]:
            known = ", ".join(f"`{k}=`" for k in OPTIMIZERS[name])
            diagnostics.append(error("E0602", f"unknown option for `{name}`", value.span,
                                     "not an option", notes=[f"its options: {known}"]))
            continue
        try:
            number = float(value.value)
        except ValueError:
            diagnostics.append(error("E0602", f"`{value.key}` must be a number", value.span,
                                     f"got `{value.value}`"))
            continue
        if value.key == "lr":
            fields["lr"] = number
        else:
            options.append((value.key, number))
    fields["optimizer"] = name
    fields["optimizer_args"] = tuple(options)


_HANDLERS = {"data": _data, "epochs": _integer("epochs"), "batch": _integer("batch"),
             "optimizer": _optimizer, "lr": _lr, "loss": _loss}
