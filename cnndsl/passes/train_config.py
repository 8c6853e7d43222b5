"""The `train { }` section: validated into `TrainConfig`.

Every value `cnndsl train` would refuse is a located error here, so that
`check` and `train` agree: E0601 an unknown setting, E0602 a value of the wrong
form or an unknown word, E0603 a number out of its range (non-finite included),
E0604 settings that contradict each other.
"""

from __future__ import annotations

from cnndsl.diagnostics.diagnostic import Diagnostic, Label, error
from cnndsl.diagnostics.suggest import did_you_mean
from cnndsl.front import syntax as ast
from cnndsl.ir.train_section import (
    DATASETS,
    LOSSES,
    OPTIMIZERS,
    PATH_DATASETS,
    SCHEDULES,
    TrainConfig,
    augments,
    canonical,
    out_of_range,
    sgd_refuses,
)

SCHEDULE_OPTIONS = {"constant": ("warmup",), "cosine": ("warmup",), "onecycle": ("warmup",),
                    "step": ("warmup", "every", "gamma")}
Diagnostics = list[Diagnostic]


def train_config(program: ast.Program, diagnostics: Diagnostics) -> TrainConfig:
    """Validate the spec's training defaults; unknown keys and bad values are errors."""
    fields: dict[str, object] = {}
    seen: dict[str, ast.TrainItem] = {}
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
            diagnostics.append(error("E0601", f"unknown training setting `{item.key}`",
                                     item.key_span, "not a setting",
                                     notes=["settings: " + ", ".join(f"`{k}`" for k in KEYS)],
                                     help=_did_you_mean(item.key, KEYS)))
            continue
        handler(item, fields, diagnostics)
    _contradictions(fields, seen, diagnostics)
    return TrainConfig(**fields)


def _did_you_mean(word: str, choices, cutoff: float = 0.6) -> str | None:
    close = did_you_mean(word, choices, cutoff=cutoff)
    return f"did you mean `{close.word}`?" if close else None


def _only(item: ast.TrainItem, count: int, usage: str, diagnostics: Diagnostics) -> bool:
    if len(item.values) == count and all(v.key is None for v in item.values):
        return True
    diagnostics.append(error("E0602", f"`{item.key}` takes {usage}", item.span,
                             "unexpected values" if item.values else "missing value",
                             help=f"write `{item.key} {usage}`"))
    return False


def number(value: ast.TrainValue, what: str, name: str, diagnostics: Diagnostics, *,
           integer: bool) -> float | int | None:
    """The value as a number within the bounds of the number `name`
    (`cnndsl.ir.train_section.limits`), or None with a diagnostic."""
    try:
        parsed = int(value.value) if integer else float(value.value)
    except ValueError:
        diagnostics.append(error("E0602", f"{what} must be a {'whole ' if integer else ''}number",
                                 value.span, f"got `{value.text}`"))
        return None
    problem = out_of_range(parsed, name)
    if problem:
        diagnostics.append(error("E0603", f"{what} must be {problem}", value.span,
                                 f"got `{value.text}`"))
        return None
    return parsed


def _word(value: ast.TrainValue, what: str, choices, diagnostics: Diagnostics) -> str | None:
    name = canonical(value.value)
    if name in choices:
        return name
    diagnostics.append(error("E0602", f"unknown {what} `{value.text}`", value.span,
                             f"not a{'n' if what[0] in 'aeiou' else ''} {what}",
                             notes=[f"{what}s: " + ", ".join(choices)],
                             help=_did_you_mean(name, choices, 0.5)))
    return None


def _data(item, fields, diagnostics) -> None:
    if not item.values or item.values[0].key is not None:
        _only(item, 1, "a dataset: " + " | ".join(DATASETS), diagnostics)
        return
    name = _word(item.values[0], "dataset", DATASETS, diagnostics)
    if name is None:
        return
    usage = f"{name} PATH" if name in PATH_DATASETS else name
    if len(item.values) != (2 if name in PATH_DATASETS else 1) or \
            any(v.key is not None for v in item.values):
        hint = "write a relative path as `./data/x` or in quotes: `\"data/x\"`" \
            if name in PATH_DATASETS and len(item.values) > 2 else f"write `data {usage}`"
        diagnostics.append(error("E0602", f"`data {usage}` takes "
                                 + ("one path" if name in PATH_DATASETS else "no further values"),
                                 item.span, "here", help=hint))
        return
    fields["data"] = name
    if name in PATH_DATASETS:
        fields["data_path"] = item.values[1].value


def _numeric(key: str, *, integer: bool, what: str | None = None):
    def handle(item, fields, diagnostics) -> None:
        usage = "a whole number" if integer else "a number"
        if _only(item, 1, usage, diagnostics):
            value = number(item.values[0], what or f"`{key}`", key, diagnostics,
                           integer=integer)
            if value is not None:
                fields[key] = value
    return handle


def _loss(item, fields, diagnostics) -> None:
    if _only(item, 1, " | ".join(LOSSES), diagnostics):
        name = _word(item.values[0], "loss", LOSSES, diagnostics)
        if name is not None:
            fields["loss"] = name


def _optimizer(item, fields, diagnostics) -> None:
    if not item.values or item.values[0].key is not None:
        _only(item, 1, "sgd | adam | adamw, then options such as `lr=0.01`", diagnostics)
        return
    name = _word(item.values[0], "optimizer", tuple(OPTIMIZERS), diagnostics)
    if name is None:
        return
    options: list[tuple[str, float]] = []
    for value in item.values[1:]:
        if value.key is None or value.key not in OPTIMIZERS[name]:
            known = ", ".join(f"`{k}=`" for k in OPTIMIZERS[name])
            diagnostics.append(error("E0602", f"`{name}` takes no option "
                                     f"`{value.key or value.text}`", value.span,
                                     "not an option of " + name, notes=[f"its options: {known}"],
                                     help=_did_you_mean(value.key or "", OPTIMIZERS[name])))
            continue
        parsed = number(value, f"`{value.key}`", value.key, diagnostics,
                        integer=False)
        if parsed is None:
            continue
        if value.key == "lr":
            fields["lr"] = parsed
        else:
            options.append((value.key, parsed))
    fields["optimizer"] = name
    fields["optimizer_args"] = tuple(options)


def _augment(item, fields, diagnostics) -> None:
    chosen: list[tuple[str, float | None]] = []
    known = augments()
    for value in item.values:
        word = (value.key or value.value).lower()
        if word not in known:
            diagnostics.append(error("E0602", f"unknown augmentation `{value.text}`", value.span,
                                     "not an augmentation",
                                     notes=["augmentations: flip, crop=PAD, rrc=SCALE"],
                                     help=_did_you_mean(word, known)))
            continue
        if (known[word] is None) != (value.key is None):
            form = f"`{word}`" if known[word] is None else f"`{word}=N`, N {known[word]}"
            diagnostics.append(error("E0602", f"write {form}", value.span, "here"))
            continue
        amount = None if value.key is None else number(
            value, f"`{word}`", word, diagnostics, integer=word == "crop")
        if value.key is None or amount is not None:
            chosen.append((word, amount))
    fields["augment"] = tuple(chosen)


def _schedule(item, fields, diagnostics) -> None:
    if not item.values or item.values[0].key is not None:
        _only(item, 1, " | ".join(SCHEDULES) + ", then options such as `warmup=2`", diagnostics)
        return
    name = _word(item.values[0], "schedule", SCHEDULES, diagnostics)
    if name is None:
        return
    fields["schedule"] = name
    for value in item.values[1:]:
        if value.key not in SCHEDULE_OPTIONS[name]:
            known = ", ".join(f"`{k}=`" for k in SCHEDULE_OPTIONS[name])
            diagnostics.append(error("E0602", f"schedule `{name}` takes no option "
                                     f"`{value.key or value.text}`", value.span, "not an option",
                                     notes=[f"its options: {known}"]))
            continue
        parsed = number(value, f"`{value.key}`", value.key, diagnostics,
                        integer=value.key == "every")
        if parsed is not None:
            fields[{"every": "step"}.get(value.key, value.key)] = parsed


def _contradictions(fields: dict, seen: dict, diagnostics: Diagnostics) -> None:
    """E0604: `nesterov=1` without momentum, as PyTorch's SGD refuses it; label smoothing
    with a loss that has none."""
    refused = sgd_refuses(dict(fields.get("optimizer_args", ())))
    if refused == "momentum":
        diagnostics.append(error("E0604", "nesterov momentum needs a momentum above 0",
                                 seen["optimizer"].span, "nesterov=1 without momentum",
                                 help="add `momentum=0.9`, or drop `nesterov=1`"))
    elif refused == "dampening":
        diagnostics.append(error("E0604", "nesterov momentum needs dampening 0",
                                 seen["optimizer"].span, "nesterov=1 with dampening",
                                 help="drop `dampening=`"))
    loss = fields.get("loss", "crossentropy")
    if fields.get("smoothing") and loss != "crossentropy":
        diagnostics.append(error("E0604", f"label smoothing is for cross-entropy; the loss "
                                 f"here is {loss}", seen["smoothing"].span,
                                 f"not used by {loss}",
                                 help="drop `smoothing`, or use `loss crossentropy`"))


_HANDLERS = {"data": _data, "epochs": _numeric("epochs", integer=True),
             "batch": _numeric("batch", integer=True), "optimizer": _optimizer,
             "lr": _numeric("lr", integer=False, what="the learning rate"), "loss": _loss,
             "augment": _augment, "schedule": _schedule,
             "smoothing": _numeric("smoothing", integer=False, what="label smoothing"),
             "clip": _numeric("clip", integer=False, what="the gradient clip"),
             "ema": _numeric("ema", integer=False, what="the EMA decay"),
             "patience": _numeric("patience", integer=True),
             "val": _numeric("val", integer=False, what="the held-out fraction")}
KEYS = tuple(_HANDLERS)
