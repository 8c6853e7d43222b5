"""The library API; the command line is a thin layer over these functions.

>>> import cnndsl
>>> result = cnndsl.check("input 1x28x28\\nconv 6 k5 -> relu -> fc 10")
>>> result.ok, result.summary.params
(True, 34726)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from cnndsl.diagnostics import suggest
from cnndsl.diagnostics.diagnostic import Diagnostic, error, has_errors
from cnndsl.files import printable, read_bytes, show_path
from cnndsl.front import syntax as ast
from cnndsl.front.parser import parse
from cnndsl.front.source import Source
from cnndsl.ir import nodes as ir
from cnndsl.ir.overrides import Overrides
from cnndsl.passes.allow import allowed
from cnndsl.passes.declare import overridden, override_notes, unsafe_name
from cnndsl.passes.lint import lint, unused
from cnndsl.passes.resolve import resolve
from cnndsl.passes.summary import Summary, summarize


@dataclass(frozen=True, repr=False)
class CheckResult:
    """Everything `check` learnt about one file: `ok`, `diagnostics`, the
    annotated `network` and its `summary` (None when the file has errors).

    `str(result)` is the summary table (or the diagnostics), as `cnndsl check`
    prints it; notebooks show it as an HTML table.
    """

    source: Source
    diagnostics: tuple[Diagnostic, ...]
    network: ir.Network | None = None
    summary: Summary | None = None
    program: ast.Program | None = field(default=None)
    #: the `--set`/`--input` values it was checked with (`cnndsl.ir.overrides.Overrides`)
    overrides: Overrides | None = field(default=None)

    @property
    def ok(self) -> bool:
        """True when the file has no errors (warnings are allowed)."""
        return not has_errors(self.diagnostics)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    def __repr__(self) -> str:
        errors = len(self.errors)
        warnings = len(self.diagnostics) - errors
        what = (f"{self.summary.model}, {self.summary.params:,} params"
                if self.summary is not None else "no summary")
        return (f"<CheckResult {self.source.name!r}: {'ok' if self.ok else 'errors'}, "
                f"{errors} error(s), {warnings} warning(s), {what}>")

    def __str__(self) -> str:
        from cnndsl.backends.table.report import render_summary
        from cnndsl.diagnostics.diagnostic import render_all

        parts = []
        if self.summary is not None:
            parts.append(render_summary(self.summary, self.source.name))
        if self.diagnostics:
            parts.append(render_all(self.diagnostics, self.source))
        return "\n".join(parts)

    def to_markdown(self, collapse: bool = False) -> str:
        """The layer table as a Markdown table (paste it into a README); `collapse`
        folds it to the model's own rows, a repeated block use once, marked ×N."""
        from cnndsl.backends.table.markup import render_markdown

        return render_markdown(self._summary(), self.source.name, collapse)

    def to_csv(self, collapse: bool = False) -> str:
        """One CSV row per layer, numbers unformatted (the JSON summary's columns)."""
        from cnndsl.backends.table.markup import render_csv

        return render_csv(self._summary(), collapse)

    def to_latex(self, collapse: bool = False) -> str:
        """The layer table as a LaTeX `tabular` with booktabs rules and a totals row."""
        from cnndsl.backends.table.markup import render_latex

        return render_latex(self._summary(), self.source.name, collapse)

    def _summary(self) -> Summary:
        if self.summary is None:
            raise ValueError(f"{self.source.name} has errors; there is no table to write")
        return self.summary

    def _repr_html_(self) -> str:
        from cnndsl.backends.table.report import render_html

        return render_html(self)


class SpecError(ValueError):
    """A spec with errors; `.result` holds the diagnostics."""

    def __init__(self, result: CheckResult, given: str = "") -> None:
        from cnndsl.diagnostics.diagnostic import render_text

        self.result = result
        text = "\n\n".join(render_text(d, result.source) for d in result.errors)
        super().__init__(f"{result.source.name}{given} has errors:\n{text}")


def model_name_for(filename: str) -> str:
    """The default class name for a spec file: `lenet.cnn` -> `Lenet`,
    `resnet_50.cnn` -> `Resnet50`."""
    stem = Path(filename).name.split(".")[0] if filename and not filename.startswith("<") \
        else "model"
    words = [w for w in re.split(r"[^A-Za-z0-9]+", stem) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Model"
    if not name[0].isalpha():
        name = "Net" + name
    return name if not unsafe_name(name) else name[:60] + "Net"


def check(source: str, filename: str = "<string>", allow: tuple[str, ...] = (),
          overrides: Overrides | None = None) -> CheckResult:
    """Check a spec given as text: parse, resolve and infer, lint. The warnings whose
    codes are in `allow` are silenced (as `--allow` does); `overrides` replace `let`
    values and input sizes (as `--set` and `--input` do)."""
    return _checked(Source(source, printable(filename)), model_name_for(filename), allow,
                    overrides)


def _checked(src: Source, default_model: str, allow: tuple[str, ...] = (),
             overrides: Overrides | None = None) -> CheckResult:
    try:
        with suggest.budget():
            return _check(src, default_model, tuple(allow), overrides or None)
    except RecursionError:
        return CheckResult(src, (error("E0005", "the spec nests too deeply to check", None,
                                       help="name inner parts as blocks"),))


def _check(src: Source, default_model: str, allow: tuple[str, ...] = (),
           overrides: Overrides | None = None) -> CheckResult:
    program, diagnostics = parse(src)
    if program is None:
        return CheckResult(src, tuple(diagnostics), overrides=overrides)
    checked, notes = program, ()
    if overrides:   # applied where `let` and `input` are declared; spans stay the user's
        checked = overridden(program, overrides, diagnostics)
        notes = override_notes(program, checked, overrides)
    network, more = resolve(checked, src, default_model)
    diagnostics += _noted(more, notes)
    if network is not None:
        diagnostics += _noted(unused(checked, network), notes)
    summary = None
    if network is not None and not has_errors(diagnostics):
        summary = summarize(network)
        diagnostics += _noted(lint(network, summary, checked), notes)
    diagnostics = allowed(checked, src, diagnostics, allow)
    ordered = _unique_sorted(diagnostics)
    if has_errors(ordered):
        summary = None
    return CheckResult(src, ordered, network, summary, checked, overrides)


def _noted(diagnostics: list[Diagnostic], notes: tuple[str, ...]) -> list[Diagnostic]:
    """Every diagnostic of a check under overrides says which values were in effect:
    any of them may have caused or changed it."""
    if not notes:
        return diagnostics
    return [replace(d, notes=(*d.notes, *notes)) for d in diagnostics]


def _unique_sorted(diagnostics: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    """In file order; a block used twice reports an error in its body once."""
    seen = set()
    out = []
    for d in diagnostics:
        key = (d.code, d.message, d.span.start if d.span else -1, d.label)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return tuple(sorted(out, key=lambda d: (d.span.start if d.span else -1)))


def read_source(path: str | Path) -> tuple[Source, Diagnostic | None]:
    """Read a spec file (a regular file of at most `files.MAX_SPEC_BYTES`) as
    UTF-8; undecodable or binary text becomes a diagnostic. Raises
    `files.UnreadableFile` when it cannot be read at all."""
    data = read_bytes(path, what="spec file")
    name = show_path(path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        src = Source(data[:exc.start].decode("utf-8", "replace") + "?", name)
        span = src.span(len(src.text) - 1, len(src.text))
        return src, error("E0004", "the file is not valid UTF-8 text", span,
                          f"byte 0x{data[exc.start]:02x} cannot be decoded",
                          help="save the file as UTF-8")
    src = Source(text, name)
    if "\x00" in text:
        at = text.index("\x00")
        return src, error("E0004", "this is a binary file, not a `.cnn` spec",
                          src.span(at, at + 1), "a NUL byte", help="pass the `.cnn` text file")
    return src, None


def check_file(path: str | Path, allow: tuple[str, ...] = (),
               overrides: Overrides | None = None) -> CheckResult:
    """Check a spec file. Raises `cnndsl.files.UnreadableFile` when it cannot be read."""
    src, problem = read_source(path)
    if problem is not None:
        return CheckResult(src, (problem,), overrides=overrides)
    # the model's default name comes from the file's real name, not its printable form
    return _checked(src, model_name_for(os.fsdecode(path)), allow, overrides)


def check_spec(path_or_source: str | Path, overrides: Overrides | None = None) -> CheckResult:
    """Check a spec given either way: a `Path`, or one line ending in `.cnn`, is a
    file (`check_file`); other text is the spec itself (`check`)."""
    text = str(path_or_source)
    if isinstance(path_or_source, Path) or ("\n" not in text and text.endswith(".cnn")):
        return check_file(path_or_source, overrides=overrides)
    return check(text, overrides=overrides)
