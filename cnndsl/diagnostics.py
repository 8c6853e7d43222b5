"""Diagnostics as data, and their renderers (rustc-style text, JSON)."""

from __future__ import annotations

from typing import Literal

from cnndsl.frozen import Frozen
from cnndsl.source import Source, Span

Severity = Literal["error", "warning", "note"]


class Label(Frozen):
    """A secondary span with a short label (`output is 16x4x4`)."""

    span: Span
    text: str


class Diagnostic(Frozen):
    """One finding of the checker: where, what, why, and how to fix it."""

    severity: Severity
    code: str
    message: str
    span: Span | None = None
    label: str = ""
    secondary: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    help: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def error(code: str, message: str, span: Span | None, label: str = "", *,
          notes: tuple[str, ...] | list[str] = (), help: str | None = None,
          secondary: tuple[Label, ...] | list[Label] = ()) -> Diagnostic:
    """Shorthand for an error diagnostic."""
    return Diagnostic(severity="error", code=code, message=message, span=span, label=label,
                      notes=tuple(notes), help=help, secondary=tuple(secondary))


def warning(code: str, message: str, span: Span | None, label: str = "", *,
            notes: tuple[str, ...] | list[str] = (), help: str | None = None,
            secondary: tuple[Label, ...] | list[Label] = ()) -> Diagnostic:
    """Shorthand for a warning diagnostic."""
    return Diagnostic(severity="warning", code=code, message=message, span=span, label=label,
                      notes=tuple(notes), help=help, secondary=tuple(secondary))


def has_errors(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> bool:
    return any(d.is_error for d in diagnostics)


# ---- text -------------------------------------------------------------------

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "note": "\033[1;36m",
            "primary_error": "\033[1;31m", "primary_warning": "\033[1;33m",
            "secondary": "\033[1;34m", "bold": "\033[1m", "reset": "\033[0m"}


class _Paint:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, style: str, text: str) -> str:
        if not self.colour or not text:
            return text
        return f"{_COLOURS[style]}{text}{_COLOURS['reset']}"


def render_text(diagnostic: Diagnostic, source: Source, *, colour: bool = False) -> str:
    """Render one diagnostic the way rustc does, with the user's own lines.

    >>> # error[E0301]: kernel does not fit its input
    >>> #   --> lenet.cnn:4:9
    """
    paint = _Paint(colour)
    head = paint(diagnostic.severity, f"{diagnostic.severity}[{diagnostic.code}]")
    out = [f"{head}{paint('bold', ': ' + diagnostic.message)}"]
    span = diagnostic.span
    labels = sorted(diagnostic.secondary, key=lambda lab: lab.span.start)
    lines = sorted({lab.span.line for lab in labels} | ({span.line} if span else set()))
    gutter = len(str(max(lines))) if lines else 1
    pad = " " * gutter
    if span is not None:
        out.append(f"{pad}{paint('secondary', '-->')} {source.name}:{span.line}:{span.column}")
        out.append(f"{pad} {paint('secondary', '|')}")
        previous = None
        for line in lines:
            if previous is not None and line > previous + 1:
                out.append(paint("secondary", "...") if line > previous + 2 else
                           _source_line(source, previous + 1, gutter, paint))
            out.append(_source_line(source, line, gutter, paint))
            for lab in labels:
                if lab.span.line == line:
                    out.append(_marker(source, lab.span, "-", lab.text, gutter, paint, "secondary"))
            if line == span.line:
                style = "primary_error" if diagnostic.is_error else "primary_warning"
                out.append(_marker(source, span, "^", diagnostic.label, gutter, paint, style))
            previous = line
        out.append(f"{pad} {paint('secondary', '|')}")
    else:
        out.append(f"{pad}{paint('secondary', '-->')} {source.name}")
    for note in diagnostic.notes:
        out.append(f"{pad} {paint('secondary', '=')} {paint('bold', 'note')}: {note}")
    if diagnostic.help:
        out.append(f"{pad} {paint('secondary', '=')} {paint('bold', 'help')}: {diagnostic.help}")
    return "\n".join(out)


def render_all(diagnostics, source: Source, *, colour: bool = False) -> str:
    """Every diagnostic of a file, a blank line after each, and a tally line."""
    out = []
    for diagnostic in diagnostics:
        out += [render_text(diagnostic, source, colour=colour), ""]
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    if errors:
        plural = "s" if errors > 1 else ""
        tail = f"; {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
        out.append(f"{source.name}: {errors} error{plural}{tail}")
    return "\n".join(out).rstrip("\n") if not errors else "\n".join(out)


def _source_line(source: Source, line: int, gutter: int, paint: _Paint) -> str:
    text = source.line_text(line).expandtabs(1)
    return f"{paint('secondary', str(line).rjust(gutter) + ' |')} {text}".rstrip()


def _marker(source: Source, span: Span, char: str, text: str, gutter: int,
            paint: _Paint, style: str) -> str:
    line_text = source.line_text(span.line)
    start = span.column - 1
    if span.end_line == span.line:
        width = max(1, span.end_column - span.column + 1)
    else:
        width = max(1, len(line_text) - start)
    marks = paint(style, char * width + (" " + text if text else ""))
    return f"{' ' * gutter} {paint('secondary', '|')} {' ' * start}{marks}"


# ---- JSON -------------------------------------------------------------------

def to_json(diagnostic: Diagnostic) -> dict:
    """The JSON shape documented for `cnndsl check --format json`."""
    span = diagnostic.span
    return {
        "severity": diagnostic.severity,
        "code": diagnostic.code,
        "message": diagnostic.message,
        "line": span.line if span else None,
        "column": span.column if span else None,
        "end_line": span.end_line if span else None,
        "end_column": span.end_column if span else None,
        "notes": list(diagnostic.notes),
        "help": diagnostic.help,
    }
