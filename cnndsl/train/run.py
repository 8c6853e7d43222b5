"""A training run from start to end: settings, checks before any work, the run
folder, the epochs, checkpoints, early stopping, and resume.

Everything a user can get wrong (flags, data, folders, checkpoints, devices,
memory) is refused with one line before the first epoch; nothing is written
until the run is ready to start, and a start that fails leaves no folder behind.
Only completed epochs are saved, so `--resume` always continues from a whole one.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from cnndsl import memory
from cnndsl.backends.table.report import count
from cnndsl.files import FileProblem, printable, printable_lines, show_path, write_atomic
from cnndsl.train import checkpoint, resume, spec
from cnndsl.train.checkpoint import CheckpointError
from cnndsl.train.data import Data, died, open_data, worker_report
from cnndsl.train.datasets import DataError
from cnndsl.train.devices import DeviceError, Placement, amp_dtype, setup, teardown
from cnndsl.train.folder import FolderError, RunFolder
from cnndsl.train.images import ScanError
from cnndsl.train.loop import Trainer, drop_final_softmax, evaluate, train_epoch
from cnndsl.train.optim import EMA, OPTIMIZER_STATES, optimizer
from cnndsl.train.options import OptionError, Settings, data_origin, resolve_settings
from cnndsl.train.record import columns, plot_curves, write_metrics


class TrainError(Exception):
    """A problem to report in one line, without a traceback."""


#: every failure that is the user's to fix, reported as `error: ...`
ERRORS = (TrainError, OptionError, DataError, ScanError, FolderError, CheckpointError,
          DeviceError, memory.TooLarge, FileProblem)


#: curves.png is drawn again after an epoch at most this often (and after the last one):
#: a drawing takes a few tenths of a second, which doubled the epochs of a small run
CURVES_EVERY_S = 10.0


@dataclass
class Run:
    settings: Settings
    placement: Placement
    result: object                  # the CheckResult
    facts: spec.SpecFacts
    model_cls: type
    code: str
    folder: RunFolder | None = None
    record: dict = field(default_factory=dict)
    metrics: list[dict] = field(default_factory=list)
    start_epoch: int = 1
    saved_epoch: int = 0            # the epoch last.pt holds
    changes: dict = field(default_factory=dict)
    init: dict | None = None        # --init: what config.json records of it
    init_state: dict | None = None  # --init: the tensors to load
    curves_at: float = field(default_factory=time.monotonic)   # curves.png last drawn
    curves_epoch: int = 0           # the last epoch curves.png shows

    @property
    def out(self) -> Path:
        return self.folder.path

    def shown(self) -> str:
        return show_path(self.folder.path) if self.folder is not None else "(rank 0's folder)"

    def say(self, text: str) -> None:
        if self.placement.main:
            print(printable_lines(text), file=sys.stderr, flush=True)


def train_from_result(result, args) -> int:
    """`cnndsl train SPEC`: compile the checked spec and train it."""
    from cnndsl.backends.pytorch.build import compiled_module

    module = compiled_module(result)
    return train(getattr(module, spec.facts(result).model), result, args,
                 module.__cnndsl_code__)


def train(model_cls: type, result, args, code: str) -> int:
    """Train `model_cls` (compiled from `result`) as the flags in `args` say."""
    placement = None
    run = None
    try:
        settings = resolve_settings(args, spec.train_config(result))
        placement = setup(settings.device)
        run = Run(settings, placement, result, spec.facts(result), model_cls, code)
        return _train(run, args)
    except ERRORS as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except RuntimeError as exc:    # torch's SIGCHLD handler reports a worker's death anywhere
        report = worker_report(exc)
        if report is None:
            raise
        print(f"error: {printable(str(died(report)))}", file=sys.stderr)
        return 1
    finally:
        if run is not None and run.folder is not None:
            run.folder.release()
        if placement is not None:
            teardown(placement)


# ---- before any work ---------------------------------------------------------------------

def _train(run: Run, args) -> int:
    check_shape(run.facts)
    if run.settings.batch < run.placement.world:
        world = run.placement.world
        raise TrainError(f"--batch {run.settings.batch} is the global batch, shared by {world} "
                         f"processes: give at least --batch {world} (each process takes "
                         f"batch / {world})")
    if run.settings.batch // run.placement.world == 1 and run.facts.lone_norm:
        each = " a process" if run.placement.world > 1 else ""
        raise TrainError(f"{run.facts.lone_norm} normalises one value per channel, which batch "
                         f"norm cannot do over one sample, and --batch {run.settings.batch} "
                         f"gives batches of one{each}: use --batch "
                         f"{2 * run.placement.world} or more")
    _read_init(run, args)
    state = resume.open_run(run, args) if run.settings.resume else None
    _warn_loss(run)
    _warn_warmup(run)
    _check_memory(run)
    stats = resume.recorded_stats(run.record) if state is not None else None
    data = open_data(run.settings, run.facts, run.placement.device, run.placement.rank,
                     run.placement.world, stats=stats, origin=_data_origin(run, args))
    _check_data(run, data)
    if state is None and run.placement.main:
        run.folder = RunFolder.open_new(run.settings.out, run.facts.model)
    try:
        return _start(run, data, state)
    except BaseException:
        if state is None and run.folder is not None:
            _discard_unstarted(run)
        raise


def _data_origin(run: Run, args) -> str:
    """Where the run's data folder came from, for a message saying it is missing."""
    if run.settings.resume and not args.data_dir:
        return f"recorded in `{show_path(Path(run.settings.out) / 'config.json')}`"
    return data_origin(args, spec.data_line(run.result), run.settings.data_path,
                       run.settings.data)


def check_shape(facts: spec.SpecFacts) -> None:
    """One input, one output, and an output that is scores or scores per pixel."""
    if facts.inputs != 1 or facts.outputs != 1:
        raise TrainError(f"cnndsl train takes networks with one input and one output; this "
                         f"one has {facts.inputs} and {facts.outputs}")
    if facts.task is None:
        shape = "x".join(map(str, facts.output))
        raise TrainError(f"the network's output is {shape}: cnndsl train trains classifiers "
                         "(one score per class: end with `fc N`) and segmenters (C scores per "
                         "pixel, at the input's size)")


def _read_init(run: Run, args) -> None:
    """--init WEIGHTS: read and match the file now, before any data or folder; strict
    unless --init-partial, which lists what it skips."""
    from cnndsl.train import weights

    path, partial = getattr(args, "init", None), bool(getattr(args, "init_partial", None))
    if path is None:
        if partial:
            raise TrainError("--init-partial goes with --init WEIGHTS")
        return
    if run.settings.resume:
        raise TrainError("--init starts a new run from weights, --resume continues a run "
                         "from its last.pt: use one of them")
    with torch.device("meta"):      # names and shapes only: nothing allocated
        probe = run.model_cls()
    try:
        found = weights.match(weights.read_state_dict(path), probe)
        if not partial and (found.missing or found.unexpected or found.reshaped):
            raise weights.WeightsError(weights.refusal(
                path, found, "pass --init-partial to load only what matches"))
    except weights.WeightsError as exc:
        raise TrainError(f"--init: {exc}") from None
    if not found.state:
        raise TrainError(f"--init: `{show_path(path)}` has no tensor of the network's names "
                         "and shapes; nothing to load")
    run.init_state = found.state
    run.init = {"path": str(path), "sha256": weights.digest(path), "partial": partial,
                "loaded": len(found.state), "skipped": found.skipped}
    total = len(found.state) + len(found.missing) + len(found.reshaped)
    run.say(f"--init: {len(found.state)} of the network's {total} tensors from "
            f"`{show_path(path)}`")
    if found.skipped:
        shown = found.skipped[:20]
        more = f"; and {len(found.skipped) - 20} more" if len(found.skipped) > 20 else ""
        run.say("--init-partial skipped " + "; ".join(shown) + more)


def _warn_loss(run: Run) -> None:
    if run.settings.loss == "nll" and run.facts.last_op != "logsoftmax":
        run.say("warning: --loss nll expects log-probabilities, but the network does not end "
                "in `logsoftmax`: its losses can go below 0 and mean nothing; end the spec "
                "with `-> logsoftmax`, or use --loss crossentropy")


def _warn_warmup(run: Run) -> None:
    s = run.settings
    if s.warmup and s.warmup >= s.epochs:
        run.say(f"warning: the warm-up ({count(s.warmup, 'epoch')}) is as long as the run "
                f"({count(s.epochs, 'epoch')}): the learning rate never reaches {s.lr:g}; "
                "shorten --warmup or train for more --epochs")


def _check_memory(run: Run) -> None:
    s, f = run.settings, run.facts
    states = OPTIMIZER_STATES[s.optimizer] + (1 if s.ema else 0)
    memory.check_fits(params=f.params, activations=f.activations,
                      batch=max(1, s.batch // run.placement.world), training=True,
                      optimizer_states=states, device=run.placement.device)


def _check_data(run: Run, data: Data) -> None:
    f = run.facts
    if f.task == "segment" and data.task != "segment":
        raise TrainError(f"the network's output keeps its spatial size (a segmenter), but "
                         f"{data.name} is a classification dataset: use `--data segmentation "
                         "--data-dir PATH`")
    if f.task == "classify" and data.task == "segment":
        raise TrainError("`segmentation` data needs a network whose output keeps the input's "
                         "spatial size (C scores per pixel); this one ends in "
                         + "x".join(map(str, f.output)))
    if f.task == "classify" and f.output[0] < len(data.classes):
        raise TrainError(f"the network outputs {f.output[0]} scores, but {data.name} has "
                         f"{len(data.classes)} classes: end with `fc {len(data.classes)}`")
    extra = f.output[0] - len(data.classes) if f.task == "classify" else 0
    if extra > 0:
        run.say(f"warning: the network outputs {f.output[0]} scores, but {data.name} has "
                f"{len(data.classes)} class(es): {extra} of the scores are never a target "
                f"(end with `fc {len(data.classes)}`)")
    if len(data.classes) < 2 and f.task == "classify":
        run.say(f"warning: {data.name} has one class: every answer is right, nothing is "
                "learned")
    if data.n_train < 2 or data.n_test < 1:
        raise TrainError(f"{data.name} has {data.n_train} training and {data.n_test} held-out "
                         "samples; training needs at least 2 and 1")


def _discard_unstarted(run: Run) -> None:
    """A start that failed, or was interrupted before an epoch completed, leaves
    nothing that `--resume` could mistake for a run."""
    if (run.out / "last.pt").exists():
        return
    for name in ("config.json", "model.py", "metrics.csv", "curves.png"):
        (run.out / name).unlink(missing_ok=True)
    run.folder.abandon()


# ---- the run ----------------------------------------------------------------------------

def _start(run: Run, data: Data, state: dict | None) -> int:
    s, p = run.settings, run.placement
    if run.folder is not None:
        removed = checkpoint.clean_temporaries(run.out)
        if removed:
            run.say(f"removed {len(removed)} temporary file(s) a killed save left: "
                    + ", ".join(removed[:3]))
    trainer = _trainer(run, state)
    if run.start_epoch > s.epochs:
        done = run.start_epoch - 1
        run.say(f"already trained {count(done, 'epoch')}; pass --epochs N (N > {done}) to train on")
        return 0
    if state is not None:
        resume.say_changes(run)
    if p.main:
        resume.write_record(run, data, trainer)
        write_atomic(run.out / "model.py", run.code)
    _announce(run, data, trainer)
    return _epochs(run, data, trainer)


def _trainer(run: Run, state: dict | None) -> Trainer:
    s, p = run.settings, run.placement
    torch.manual_seed(s.seed)
    model = run.model_cls()
    if run.init_state is not None:
        model.load_state_dict(run.init_state, strict=False)
    _drop_training_softmax(run, model)
    model.to(p.device)
    channels_last = s.channels_last and p.device.type == "cuda"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = optimizer(s, model)
    dtype = amp_dtype(p.device, s.amp)
    scaler = torch.amp.GradScaler(p.device.type, enabled=dtype == torch.float16)
    ema = EMA(model, s.ema) if s.ema else None
    if state is not None:
        resume.load_state(state, model, opt, scaler, ema)
    net = nn.parallel.DistributedDataParallel(
        model, device_ids=[p.device.index] if p.device.type == "cuda" else None) \
        if p.distributed else model
    if s.compile and p.device.type == "cuda":
        net = torch.compile(net)
    return Trainer(net, model, opt, scaler, dtype, s, p.device, ema, channels_last)


def _drop_training_softmax(run: Run, model: nn.Module) -> None:
    """Cross-entropy applies log-softmax itself: train on the logits, keep the
    softmax in the saved module for inference (it has no parameters)."""
    if drop_final_softmax(model, run.facts, run.settings.loss):
        run.say("warning: the spec ends in `softmax`; training on the logits before it "
                "(cross-entropy applies log-softmax itself)")


def _announce(run: Run, data: Data, t: Trainer) -> None:
    s, p = run.settings, run.placement
    for note in data.notes:
        run.say(note)
    for flag, wanted in (("--channels-last", s.channels_last), ("--compile", s.compile)):
        if wanted and p.device.type != "cuda":
            run.say(f"note: {flag} is for CUDA; not used on {p.device}")
    where = f"{p.device}" + (f" x {p.world} processes" if p.distributed else "")
    amp = f", {str(t.dtype).replace('torch.', '')} autocast" if t.dtype else ""
    run.say(f"training {run.facts.model} on {data.name} ({data.n_train:,} train / "
            f"{data.n_test:,} test) with {s.optimizer} lr={s.lr:g} ({s.schedule}), batch "
            f"{s.batch}, {count(s.epochs, 'epoch')}, on {where}{amp} -> {run.shown()}")


def _epochs(run: Run, data: Data, t: Trainer) -> int:
    s = run.settings
    header = columns(data.task, bool(s.ema))
    key = ("ema_" if s.ema else "") + ("test_miou" if data.task == "segment" else "test_acc")
    epoch = run.start_epoch
    since = _stalled(run, key)
    if since is not None:        # resumed after an early stop: it stays stopped
        run.say(f"this run stopped early at epoch {len(run.metrics)}: the validation "
                f"{key.replace('_', ' ')} has not improved for {count(since, 'epoch')} (--patience "
                f"{s.patience}); pass a larger --patience to train on")
        _summary(run, key)
        return 0
    try:
        for epoch in range(run.start_epoch, s.epochs + 1):
            row = _one_epoch(run, data, t, epoch)
            run.metrics.append(row)
            if run.placement.main:
                _save(run, data, t, epoch, key, header)
            if _should_stop(run, key):
                break
    except KeyboardInterrupt:
        done = run.saved_epoch
        if run.placement.main:
            _draw_curves(run, final=True)
        epoch = max(epoch, done + 1)
        run.say(f"\ninterrupted in epoch {epoch}; "
                + (f"{show_path(run.out / 'last.pt')} holds epoch {done}: continue with "
                   f"`--resume --out {show_path(run.out)}`" if done else "no epoch was completed"))
        if done == 0 and run.folder is not None:
            _discard_unstarted(run)
        return 130
    if run.placement.main:
        _draw_curves(run, final=True)
    _summary(run, key)
    return 0


def _one_epoch(run: Run, data: Data, t: Trainer, epoch: int) -> dict:
    s = run.settings
    known = len(t.problems)
    row = {"epoch": epoch, **train_epoch(t, data, epoch, _progress(run, epoch),
                                         run.placement.world)}
    classes = run.facts.output[0]
    test = evaluate(t.model, data.test_batches(), s.loss, classes, t.dtype, task=data.task,
                    problems=t.problems)
    row.update(_named("test_", test))
    if t.ema is not None:
        row.update(_named("ema_test_", evaluate(t.ema.model, data.test_batches(), s.loss,
                                                classes, t.dtype, task=data.task)))
    _report_problems(run, t, known)
    run.say(_epoch_line(row, s.epochs, data.task))
    return row


def _named(prefix: str, figures: dict) -> dict:
    return {prefix + k: v for k, v in figures.items() if k != "confusion"}


def _report_problems(run: Run, t: Trainer, known: int) -> None:
    if len(t.problems) > known:
        first, why = next(iter(t.problems.items()))
        run.say(f"skipped {len(t.problems):,} unreadable file(s) so far; the first: "
                f"{first}: {why}")


def _epoch_line(row: dict, epochs: int, task: str) -> str:
    extra = f" mIoU {row['test_miou']:.2%}" if task == "segment" else ""
    ema = f"  EMA acc {row['ema_test_acc']:.2%}" if "ema_test_acc" in row else ""
    return (f"epoch {row['epoch']}/{epochs}  lr {row['lr']:.3g}  train loss "
            f"{row['train_loss']:.4f} acc {row['train_acc']:.2%}  test loss {row['test_loss']:.4f}"
            f" acc {row['test_acc']:.2%}{extra}{ema}  {row['seconds']:.1f}s  "
            f"{row['samples_per_s']:,.0f} samples/s")


def _progress(run: Run, epoch: int):
    s = run.settings
    wanted = s.progress == "bar" or (s.progress == "auto" and sys.stderr.isatty())
    if not wanted or not run.placement.main:
        return None
    from tqdm import tqdm

    bar = {"bar": None}

    def show(step: int, steps: int) -> None:
        if bar["bar"] is None:
            bar["bar"] = tqdm(total=steps, desc=f"epoch {epoch}/{s.epochs}", leave=False,
                              unit="step", dynamic_ncols=True)
        bar["bar"].update(1)
        if step == steps - 1:
            bar["bar"].close()
    return show


def _save(run: Run, data: Data, t: Trainer, epoch: int, key: str, header) -> None:
    # best.pt holds the first epoch with the best figure, as the summary and --patience count
    before = max((r[key] for r in run.metrics[:-1]), default=-math.inf)
    payload = resume.payload(run, data, t, epoch)
    checkpoint.save(run.out / "last.pt", payload)
    run.saved_epoch = epoch
    if run.metrics[-1][key] > before:
        weights = t.ema.model.state_dict() if t.ema is not None else payload["model"]
        checkpoint.save(run.out / "best.pt", {**payload, "model": weights,
                                              "weights": "ema" if t.ema else "model"})
    write_metrics(run.out / "metrics.csv", run.metrics, header)
    _draw_curves(run, final=epoch == run.settings.epochs)


def _draw_curves(run: Run, final: bool) -> None:
    """curves.png, up to the epoch last.pt holds: after the last epoch (`final`), or
    when the drawing is CURVES_EVERY_S old; drawing takes as long as a small run's epoch."""
    stale = run.curves_epoch < run.saved_epoch
    if stale and (final or time.monotonic() - run.curves_at >= CURVES_EVERY_S):
        plot_curves(run.out / "curves.png", run.metrics[:run.saved_epoch], run.facts.model)
        run.curves_at, run.curves_epoch = time.monotonic(), run.saved_epoch


def _should_stop(run: Run, key: str) -> bool:
    since = _stalled(run, key)
    if since is None:
        return False
    run.say(f"early stop: the validation {key.replace('_', ' ')} has not improved for "
            f"{count(since, 'epoch')} (--patience {run.settings.patience})")
    return True


def _stalled(run: Run, key: str) -> int | None:
    """The epochs since the best one, when --patience says that is enough to stop."""
    patience = run.settings.patience
    if not patience or not run.metrics:
        return None
    values = [r[key] for r in run.metrics]
    since = len(values) - 1 - values.index(max(values))
    return since if since >= patience else None


def _summary(run: Run, key: str) -> None:
    if not run.metrics:
        return
    best = max(run.metrics, key=lambda r: r[key])
    run.say(f"best {key.replace('_', ' ')} {best[key]:.2%} (epoch {best['epoch']}); run "
            f"saved in {run.shown()}")
