"""`export`: a spec's network, or a trained run's, as ONNX, TorchScript or a
`torch.export` ExportedProgram, checked against the PyTorch module it came from.

>>> import cnndsl.backends.export
>>> done = cnndsl.backends.export.export("specs/lenet.cnn", "lenet.onnx")   # doctest: +SKIP
>>> done.max_difference < 1e-4                                     # doctest: +SKIP
True

Every format takes any batch size (the batch dimension is dynamic); the rest of
the input's shape is the spec's (or `input=`). Each file is reloaded (in
onnxruntime, `torch.jit.load`, `torch.export.load`) and run at two batch sizes
beside the PyTorch module: the largest difference is reported. Each file is
marked as cnndsl's (ONNX: its doc string; TorchScript and .pt2: an extra file,
`cnndsl.json`, which also holds a run's classes and preprocessing), so a later
export replaces it, and nothing else, without `force`.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from cnndsl.files import guard, is_directory, read_head, show_path, target_of, write_atomic
from cnndsl.version import __version__

#: format -> the extension its files get
FORMATS = {"onnx": ".onnx", "torchscript": ".pt", "exported-program": ".pt2"}
#: extensions that name a format (`-o net.onnx` needs no `--format`)
EXTENSIONS = {".onnx": "onnx", ".pt2": "exported-program", ".pt": "torchscript",
              ".ts": "torchscript", ".torchscript": "torchscript"}
#: the ONNX model's doc string: how an ONNX file cnndsl wrote is recognised
ONNX_MARK = "written by cnndsl export"
#: the extra file inside a TorchScript or .pt2 archive that marks it (and holds the facts)
ZIP_MARK = "cnndsl.json"
#: the batch sizes each export is checked at (the example has 2, so neither is the traced one)
CHECK_BATCHES = (1, 3)
ONNX_PACKAGES = ("onnx", "onnxruntime", "onnxscript")
NO_ONNX = ("`--format onnx` needs the packages {missing}, which are not installed: "
           "pip install 'cnndsl[export]'")
#: an ONNX protobuf is at most 2 GiB in one file
ONNX_LIMIT = (1 << 31) - 1


class ExportError(Exception):
    """An export that cannot be done, in one line."""


@dataclass(frozen=True)
class Exported:
    """What `export` wrote and how well the file agrees with PyTorch."""

    path: Path
    format: str
    model: str
    input: tuple[int, ...]          # one sample's shape; the batch is dynamic
    weights: str                    # where the weights came from, in words
    checked_with: str               # onnxruntime, torch.jit.load, torch.export.load
    max_difference: float           # the largest |file - PyTorch| over CHECK_BATCHES
    tolerance: float                # what is expected of float32 arithmetic

    @property
    def agrees(self) -> bool:
        return self.max_difference <= self.tolerance


# ---- the API ----------------------------------------------------------------------------

def export(source: str | Path, output: str | Path, fmt: str | None = None, *,
           weights: str | Path | None = None, input: str | None = None,
           force: bool = False) -> Exported:
    """Export a spec file (initial weights, or `weights`) or a run folder (its
    `best.pt`, or `weights="last.pt"`) to `output` in `fmt` (default: from the
    extension). Raises `ExportError` (and `SpecError` for a spec with errors)."""
    from cnndsl.api import check_file
    from cnndsl.backends.pytorch.build import SpecError

    if is_directory(source):
        return export_run(source, output, fmt, weights=weights, input=input, force=force)
    result = check_file(source)
    if not result.ok:
        raise SpecError(result)
    return export_result(result, output, fmt, weights=weights, input=input, force=force)


def export_result(result, output: str | Path, fmt: str | None = None, *,
                  weights: str | Path | None = None, input: str | None = None,
                  force: bool = False) -> Exported:
    """Export a checked spec (`cnndsl.check` result) with fresh weights (seed 0) or
    those in the file `weights` (a state_dict, a checkpoint; keys and shapes must match)."""
    from cnndsl.backends.pytorch.build import compiled_module
    from cnndsl.train import spec
    from cnndsl.train.weights import WeightsError, load_into

    fmt, out = _target(output, fmt, force)
    facts = spec.facts(result)
    _one_input(facts)
    _fits(facts, sample_shape(input, facts.input))
    torch.manual_seed(0)
    model = getattr(compiled_module(result), facts.model)()
    said = "initial weights (seed 0)"
    if weights is not None:
        try:
            load_into(model, weights, hint="export the spec these weights were trained from")
        except WeightsError as exc:
            raise ExportError(str(exc)) from None
        said = f"weights from {show_path(weights)}"
    facts_json = {"spec": result.source.name, "model": facts.model, "weights": said}
    return _export(model.eval(), facts, fmt, out, input, said, facts_json, force)


def export_run(folder: str | Path, output: str | Path, fmt: str | None = None, *,
               weights: str | Path | None = None, input: str | None = None,
               force: bool = False) -> Exported:
    """Export a run folder's model, compiled from the spec its `config.json`
    recorded, with its `best.pt` (or `last.pt`) weights; the recorded classes,
    normalisation and preprocessing go into the file's `cnndsl.json` / metadata."""
    from cnndsl.train.inference import load_run
    from cnndsl.train.run import ERRORS

    name = str(weights) if weights is not None else "best.pt"
    if name not in ("best.pt", "last.pt"):
        raise ExportError("for a run folder, --weights is best.pt or last.pt; to export other "
                          "weights, export the spec with --weights FILE")
    fmt, out = _target(output, fmt, force)
    try:
        trained = load_run(folder, torch.device("cpu"), name)
    except ERRORS as exc:
        raise ExportError(str(exc)) from None
    _one_input(trained.facts)
    _fits(trained.facts, sample_shape(input, trained.facts.input))
    record = trained.record
    said = f"{name} of the run {show_path(folder)}"
    facts_json = {"spec": record.get("spec"), "model": trained.facts.model, "weights": said,
                  **{k: record[k] for k in ("task", "classes", "normalisation", "preprocess")}}
    return _export(trained.model.eval(), trained.facts, fmt, out, input, said, facts_json,
                   force)


# ---- checks before any work ---------------------------------------------------------------

def output_format(output: str | Path, fmt: str | None) -> str:
    """`fmt`, else the one `output`'s extension names; the two must agree."""
    suffix = Path(output).suffix.lower()
    named = EXTENSIONS.get(suffix)
    if fmt is not None:
        if fmt not in FORMATS:
            raise ExportError(f"unknown format `{fmt}` (choose from {', '.join(FORMATS)})")
        if named is not None and named != fmt and suffix != ".pt":
            raise ExportError(f"`{show_path(output)}` has the extension `{suffix}` but "
                              f"--format {fmt} was asked for; make them agree")
        return fmt
    if named is None:
        raise ExportError(f"cannot tell the format from `{show_path(output)}`: give --format "
                          f"({', '.join(FORMATS)}) or an extension "
                          f"({', '.join(EXTENSIONS)})")
    return named


def _target(output: str | Path, fmt: str | None, force: bool) -> tuple[str, Path]:
    out = Path(output)
    if is_directory(out):
        raise ExportError(f"`{show_path(out)}` is a directory; give a file name")
    fmt = output_format(output, fmt)
    if fmt == "onnx":
        _need_onnx()
    _guard(force)(target_of(out))     # refused now, before minutes of exporting
    return fmt, out


def _need_onnx() -> None:
    import importlib.util

    missing = [name for name in ONNX_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise ExportError(NO_ONNX.format(missing=", ".join(missing)))


def _fits(facts, shape: tuple[int, ...]) -> None:
    """Refuse, before building anything, a network whose weights and activations at the
    largest check batch would not fit in memory."""
    from cnndsl import memory

    scale = math.prod(shape) / max(1, math.prod(facts.input))
    try:
        memory.check_fits(params=facts.params, activations=int(facts.activations * scale),
                          batch=max(CHECK_BATCHES), training=False, optimizer_states=0,
                          device="cpu")
    except memory.TooLarge as exc:
        raise ExportError(str(exc)) from None


def _one_input(facts) -> None:
    if facts.inputs != 1:
        raise ExportError(f"cnndsl export takes networks with one input; this one has "
                          f"{facts.inputs}")


def sample_shape(text: str | None, spec_input: tuple[int, ...]) -> tuple[int, ...]:
    """`--input 3x64x64` (one sample, no batch), checked against the spec's input."""
    if text is None:
        return tuple(spec_input)
    parts = text.lower().split("x")
    if not all(p.isdigit() and len(p) <= 6 for p in parts) or not all(int(p) for p in parts):
        raise ExportError(f"--input `{text}`: write one sample's shape as sizes joined by "
                          f"`x`, e.g. {'x'.join(map(str, spec_input))}")
    shape = tuple(int(p) for p in parts)
    if len(shape) != len(spec_input) or shape[0] != spec_input[0]:
        raise ExportError(f"--input {text}: the network takes "
                          f"{'x'.join(map(str, spec_input))} (channels first); give "
                          f"{spec_input[0]}x... with {len(spec_input) - 1} sizes")
    return shape


# ---- exporting -----------------------------------------------------------------------------

def _export(model, facts, fmt: str, out: Path, input: str | None, said: str,
            facts_json: dict, force: bool) -> Exported:
    shape = sample_shape(input, facts.input)
    example = torch.randn(2, *shape, generator=torch.Generator().manual_seed(0))
    _runs(model, example, shape)
    meta = {"cnndsl": __version__, "format": fmt, "input": ["batch", *shape], **facts_json}
    with _quiet():
        data, checker, run = EXPORTERS[fmt](model, example, meta)
        difference, tolerance = _compare(model, run, shape)
    written = write_atomic(out, data, before=_guard(force))
    return Exported(written, fmt, facts.model, shape, said, checker, difference, tolerance)


def _runs(model, example: torch.Tensor, shape: tuple[int, ...]) -> None:
    try:
        with torch.no_grad():
            model(example)
    except Exception as exc:   # a size the network's layers do not take
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ExportError(f"the network does not take input {'x'.join(map(str, shape))} "
                          f"({reason})") from None


@contextlib.contextmanager
def _quiet():
    """The exporters' progress lines, warnings and log records are not the user's."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _dynamic():
    return ({0: torch.export.Dim("batch", min=1, max=1 << 20)},)


def _failed(fmt: str, exc: Exception) -> ExportError:
    reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return ExportError(f"PyTorch cannot export this network to {fmt} ({reason})")


def _onnx(model, example, meta: dict):
    import onnxruntime

    try:
        program = torch.onnx.export(model, (example,), dynamo=True, dynamic_shapes=_dynamic(),
                                    input_names=["input"], verbose=False)
    except Exception as exc:
        raise _failed("ONNX", exc) from None
    proto = program.model_proto
    proto.doc_string = ONNX_MARK
    for key, value in (("cnndsl", json.dumps(meta, sort_keys=True)),):
        proto.metadata_props.add(key=key, value=value)
    if proto.ByteSize() > ONNX_LIMIT:
        raise ExportError("the ONNX model is over 2 GiB, the most one ONNX file holds")
    data = proto.SerializeToString()
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run(x: torch.Tensor) -> list[torch.Tensor]:
        return [torch.from_numpy(y) for y in session.run(None, {name: x.numpy()})]
    return data, "onnxruntime", run


def _torchscript(model, example, meta: dict):
    try:
        scripted = torch.jit.script(model)
    except Exception as exc:
        raise _failed("TorchScript", exc) from None
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer, _extra_files={ZIP_MARK: json.dumps(meta, sort_keys=True)})
    data = buffer.getvalue()
    loaded = torch.jit.load(io.BytesIO(data), map_location="cpu")
    return data, "torch.jit.load", lambda x: _tensors(loaded(x))


def _exported_program(model, example, meta: dict):
    try:
        program = torch.export.export(model, (example,), dynamic_shapes=_dynamic())
    except Exception as exc:
        raise _failed("an ExportedProgram", exc) from None
    buffer = io.BytesIO()
    torch.export.save(program, buffer,
                      extra_files={ZIP_MARK: json.dumps(meta, sort_keys=True)})
    data = buffer.getvalue()
    loaded = torch.export.load(io.BytesIO(data)).module()
    return data, "torch.export.load", lambda x: _tensors(loaded(x))


EXPORTERS = {"onnx": _onnx, "torchscript": _torchscript,
             "exported-program": _exported_program}


def _tensors(out) -> list[torch.Tensor]:
    return list(out) if isinstance(out, (tuple, list)) else [out]


@torch.no_grad()
def _compare(model, run, shape: tuple[int, ...]) -> tuple[float, float]:
    """The largest |file - PyTorch| over the check batches, and the tolerance float32
    rounding allows for outputs of that size."""
    worst, largest = 0.0, 0.0
    generator = torch.Generator().manual_seed(1)
    for batch in CHECK_BATCHES:
        x = torch.randn(batch, *shape, generator=generator)
        want, got = _tensors(model(x)), run(x)
        if len(want) != len(got) or any(a.shape != b.shape for a, b in zip(want, got)):
            raise ExportError(f"the exported model gives outputs of other shapes at batch "
                              f"{batch}; this is a bug in cnndsl or PyTorch")
        for a, b in zip(want, got):
            worst = max(worst, float((a.float() - b.float()).abs().max()))
            largest = max(largest, float(a.float().abs().max()))
    if not math.isfinite(worst):
        worst = math.inf
    return worst, 1e-4 + 1e-3 * largest


# ---- recognising our files ---------------------------------------------------------------

def exported_by_us(path: Path) -> bool:
    """True for an ONNX, TorchScript or .pt2 file `export` wrote (and may replace)."""
    head = read_head(path, 512)
    if head is None:
        return False
    if head.startswith(b"PK\x03\x04"):   # a zip: TorchScript or .pt2; the names are at the end
        tail = read_head(path, 1 << 16, tail=True) or b""
        return b"/extra/" + ZIP_MARK.encode() in tail
    mark = ONNX_MARK.encode()
    # ModelProto field 6 (doc_string), serialised after the short fields 1-5
    return b"\x32" + bytes([len(mark)]) + mark in head


def _guard(force: bool):
    return guard(exported_by_us, force)
