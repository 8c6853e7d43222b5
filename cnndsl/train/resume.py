"""The run's record and `--resume`: what a checkpoint and `config.json` hold, and
how a resumed run takes its settings back.

A resumed run continues from its recorded configuration, data flags included.
A flag given again with the recorded value is fine; one of `RESUMABLE`
(`--epochs`, `--device`, ...) is applied, said in one line and recorded under
`resumes` in config.json; any other flag that contradicts the record is refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cnndsl.files import show_path
from cnndsl.train import checkpoint, runfolder
from cnndsl.train.folder import CONFIG, FolderError, RunFolder, latest_run
from cnndsl.train.options import (
    OPTION_FLAGS,
    RESUMABLE,
    OptionError,
    Settings,
    check_combinations,
)
from cnndsl.version import __version__

_NOT_COMPARED = {"out", "resume"}


def open_run(run, args) -> dict:
    """Lock the run folder, read its record and checkpoint (safely), check the spec,
    and take the recorded settings back; returns the checkpoint's state."""
    s = run.settings
    path = Path(s.out) if s.out else latest_run(run.facts.model)
    if run.placement.main:
        run.folder = RunFolder.open_existing(path)
        record = run.folder.read_config()
    else:
        record = RunFolder(path, False).read_config()
    checked = runfolder.check_record(record, path / CONFIG)
    state = checkpoint.load(path / "last.pt")
    _check_spec(run, state, path, record)
    runfolder.check_against(checked, run.facts, path / CONFIG)
    run.record = record
    run.settings, run.changes = reconcile(record["settings"], args, path)
    run.settings.resume, run.settings.out = True, str(path)
    _check_rows(state, checked.task, bool(run.settings.ema), path / "last.pt")
    run.start_epoch = state["epoch"] + 1
    run.saved_epoch = state["epoch"]
    run.metrics = list(state["metrics"])
    return state


def _check_rows(state: dict, task: str, ema: bool, path: Path) -> None:
    """Every recorded epoch holds the figure the run ranks epochs by (best.pt, --patience)."""
    key = ("ema_" if ema else "") + ("test_miou" if task == "segment" else "test_acc")
    if any(key not in row for row in state["metrics"]):
        raise checkpoint.CheckpointError(f"`{show_path(path)}`: its `metrics` have no `{key}`, "
                                         "which this run ranks its epochs by; the run folder "
                                         "is damaged")


def say_changes(run) -> None:
    """One line for each setting a resume changed; said once the run goes on (and records
    them), not when there is nothing left to train."""
    for name, (old, new) in run.changes.items():
        run.say(f"--{name.replace('_', '-')} {new}: changed from {old} on resume (recorded in "
                "config.json)")


def _check_spec(run, state: dict, path: Path, record: dict) -> None:
    if state["spec_hash"] != checkpoint.spec_hash(run.result.source.text):
        raise FolderError(f"the spec changed since this run was started: {path} was trained "
                          f"from another version of {run.result.source.name}; start a new run "
                          "instead of --resume")
    recorded = record.get("overrides")
    given = run.result.overrides.to_json() if run.result.overrides else None
    if recorded != given:
        said = run.result.overrides.command() if run.result.overrides else "no --set/--input"
        raise FolderError(f"{said} contradicts this run's recorded overrides "
                          f"({_flags(recorded)}): a resumed run rebuilds the model it "
                          "trained; leave them out, or start a new run with another --out")


def _flags(recorded) -> str:
    from cnndsl.ir.overrides import OverrideError, Overrides

    try:
        return Overrides.from_json(recorded).command() or "none"
    except OverrideError:
        return "unreadable"


def recorded_overrides(args, model: str):
    """The `--set`/`--input` values the run to resume recorded (`Overrides`, or None), to
    check the spec with again; `FolderError` when they cannot be read."""
    from cnndsl.ir.overrides import OverrideError, Overrides

    try:   # a folder that cannot be read is reported by `open_run`, as without overrides
        path = Path(args.out) if args.out else latest_run(model)
        record = RunFolder(path, False).read_config()
    except (FolderError, OSError):
        return None
    if not isinstance(record, dict):
        return None
    try:
        return Overrides.from_json(record.get("overrides")) or None
    except OverrideError as exc:
        raise FolderError(f"`{show_path(path / CONFIG)}`: {exc}") from None


def reconcile(recorded: dict, args, path: Path) -> tuple[Settings, dict]:
    """The recorded settings with the flags given now; (settings, changes)."""
    try:
        settings = Settings.from_json(recorded)
    except (OptionError, TypeError) as exc:
        raise FolderError(f"`{show_path(path / 'config.json')}`: {exc}") from None
    changes = {}
    names = set(settings.to_json()) | set(OPTION_FLAGS)
    for name, value in sorted(vars(args).items()):
        if value is None or name not in names or name in _NOT_COMPARED:
            continue
        old = _recorded(settings, name)
        new = _normalised(name, value)
        if _same(name, old, new):
            continue
        if name not in RESUMABLE:
            flag = "--" + name.replace("_", "-")
            raise OptionError(f"{flag} {_show(new)} contradicts this run's recorded "
                              f"{name.replace('_', ' ')} {_show(old)}: a resumed run keeps its "
                              f"settings (only {', '.join('--' + r for r in RESUMABLE)} may "
                              "change); start a new run with another --out to change it")
        setattr(settings, name, new)
        changes[name] = (old, new)
    check_combinations(settings)
    return settings, changes


def _recorded(settings: Settings, name: str):
    if name in OPTION_FLAGS:
        return settings.optimizer_args.get(name)
    return getattr(settings, name, None)


def _normalised(name: str, value):
    if name in OPTION_FLAGS:
        return float(value)
    if name in ("download", "decay_all", "channels_last", "compile"):
        return bool(value)
    return value


def _same(name: str, old, new) -> bool:
    if name == "data_dir" and old is not None:
        return Path(old).resolve() == Path(new).resolve()
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return float(old) == float(new)
    return old == new


def _show(value) -> str:
    return "none" if value is None else str(value)


def recorded_stats(record: dict):
    """The normalisation the run was started with (so a resumed run does not recompute)."""
    norm = record.get("normalisation")
    if not isinstance(norm, dict) or not all(isinstance(norm.get(k), list)
                                             for k in ("mean", "std")):
        raise FolderError("config.json has no normalisation record; the run folder is damaged")
    return norm["mean"], norm["std"]


# ---- what a run writes ------------------------------------------------------------------

def write_record(run, data, trainer) -> None:
    """config.json: everything inference and a later resume need, and what was used."""
    p = run.placement
    precision = str(trainer.dtype).replace("torch.", "") + " autocast" if trainer.dtype \
        else "float32"
    now = {"command": list(sys.argv), "device": str(p.device), "precision": precision,
           "world_size": p.world}
    if run.record:
        record = run.record
        record["settings"] = run.settings.to_json()
        record.setdefault("resumes", []).append(
            {**now, "from_epoch": run.start_epoch - 1,
             "changed": {k: [v[0], v[1]] for k, v in run.changes.items()}})
    else:
        record = _new_record(run, data, now)
    run.folder.write_config(record)
    run.record = record


def _new_record(run, data, now: dict) -> dict:
    import torch

    f = run.facts
    source = "--mean/--std" if run.settings.mean is not None else \
        "the training split, once"
    return {"cnndsl": __version__, "torch": torch.__version__, "spec": run.result.source.name,
            "spec_text": run.result.source.text,
            "spec_hash": checkpoint.spec_hash(run.result.source.text), "model": f.model,
            "input": list(f.input), "output": list(f.output), "params": f.params,
            "task": data.task, "data": data.name, "classes": data.classes,
            "normalisation": {"mean": data.mean, "std": data.std, "from": source},
            "preprocess": data.preprocess, **now, "settings": run.settings.to_json(),
            **({"init": run.init} if run.init is not None else {}),
            **({"overrides": run.result.overrides.to_json()} if run.result.overrides
               else {})}


def payload(run, data, t, epoch: int) -> dict:
    """A checkpoint's contents: tensors and plain data only."""
    return {"model": t.model.state_dict(), "optimizer": t.optimizer.state_dict(),
            "scaler": t.scaler.state_dict(),
            "ema": t.ema.model.state_dict() if t.ema is not None else None,
            "rng": checkpoint.rng_state(), "epoch": epoch, "metrics": run.metrics,
            "spec_hash": checkpoint.spec_hash(run.result.source.text),
            "model_name": run.facts.model, "settings": run.settings.to_json(),
            "classes": data.classes, "task": data.task,
            "normalisation": {"mean": data.mean, "std": data.std},
            "preprocess": data.preprocess, "cnndsl": __version__}


def load_state(state: dict, model, opt, scaler, ema) -> None:
    """Put a checkpoint's states back; a mismatch is a damaged run, said in words."""
    try:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        if ema is not None:
            if state.get("ema") is None:
                raise ValueError("it holds no EMA weights")
            ema.model.load_state_dict(state["ema"])
        checkpoint.restore_rng(state["rng"])
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise checkpoint.CheckpointError(f"last.pt does not fit this run ("
                                         f"{str(exc).splitlines()[0][:160]})") from None
