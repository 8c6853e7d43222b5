"""Diagnostics as data, and their renderers (rustc-style text, JSON).

A diagnostic is severity, code (registered in `cnndsl.diagnostics.codes`), message, a
primary span with its label, secondary labelled spans, notes, one help, and
the exact fixes, if any. The text renderer shows the user's own lines with
every character a terminal would interpret escaped, so nothing in a spec can
move the cursor or reorder what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cnndsl.files import printable
from cnndsl.front.source import Source, Span

Severity = Literal["error", "warning", "note"]

#: At most this many diagnostics are shown per file; the tally counts the rest.
MAX_SHOWN = 100
#: Source lines longer than this are shown clipped around the caret.
MAX_LINE = 120


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """A secondary span with a short label (`output is 16x4x4`)."""

    span: Span
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Fix:
    """An exact edit: replace the text under `span` by `replacement`."""

    span: Span
    replacement: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """One finding of the checker: where, what, why, and how to fix it.

    `fixes` lists exact edits; one fix is applied by `check --fix`, several are
    alternatives for the user to choose from. `suggestions` are edits that are
    only guesses (a word close in spelling): editors offer them to click, and
    `--fix` never applies them.
    """

    severity: Severity
    code: str
    message: str
    span: Span | None = None
    label: str = ""
    secondary: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    help: str | None = None
    fixes: tuple[Fix, ...] = ()
    suggestions: tuple[Fix, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def error(code: str, message: str, span: Span | None, label: str = "", **parts) -> Diagnostic:
    """Shorthand for an error diagnostic (`parts`: notes, help, secondary, fixes,
    suggestions)."""
    return _made("error", code, message, span, label, **parts)


def warning(code: str, message: str, span: Span | None, label: str = "",
            **parts) -> Diagnostic:
    """Shorthand for a warning diagnostic."""
    return _made("warning", code, message, span, label, **parts)


def _made(severity: Severity, code: str, message: str, span: Span | None, label: str, *,
          notes: tuple[str, ...] | list[str] = (), help: str | None = None,
          secondary: tuple[Label, ...] | list[Label] = (),
          fixes: tuple[Fix, ...] | list[Fix] = (),
          suggestions: tuple[Fix, ...] | list[Fix] = ()) -> Diagnostic:
    return Diagnostic(severity=severity, code=code, message=message, span=span, label=label,
                      notes=tuple(notes), help=help, secondary=tuple(secondary),
                      fixes=tuple(fixes), suggestions=tuple(suggestions))


def has_errors(diagnostics) -> bool:
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


class _Line:
    """One source line as displayed: clipped to MAX_LINE characters around a
    column, then escaped (tabs as one space); `col()` maps a 1-based column of
    the source line to the 0-based display column. Work is bounded by MAX_LINE,
    however long the line."""

    def __init__(self, raw: str, focus: int) -> None:
        self.low = 0
        if len(raw) > MAX_LINE:
            self.low = max(0, min(focus - 1 - MAX_LINE // 2, len(raw) - MAX_LINE))
        window = raw[self.low:self.low + MAX_LINE]
        self.prefix = "…" if self.low else ""
        suffix = "…" if self.low + MAX_LINE < len(raw) else ""
        pieces = window.replace("\t", " ")
        if pieces.isprintable():
            self.starts = None
        else:
            escaped = [printable(c) for c in pieces]
            self.starts = [0]
            for piece in escaped:
                self.starts.append(self.starts[-1] + len(piece))
            pieces = "".join(escaped)
        self.width = len(pieces)
        self.text = self.prefix + pieces + suffix

    def col(self, column: int) -> int:
        index = min(max(column - 1 - self.low, 0), self.width if self.starts is None
                    else len(self.starts) - 1)
        shown = index if self.starts is None else self.starts[index]
        return shown + len(self.prefix)


def render_text(diagnostic: Diagnostic, source: Source, *, colour: bool = False) -> str:
    """Render one diagnostic the way rustc does, with the user's own lines.

    >>> # error[E0301]: kernel does not fit its input
    >>> #   --> lenet.cnn:4:9
    """
    paint = _Paint(colour)
    head = paint(diagnostic.severity, f"{diagnostic.severity}[{diagnostic.code}]")
    out = [f"{head}{paint('bold', ': ' + printable(diagnostic.message))}"]
    span = diagnostic.span
    labels = sorted(diagnostic.secondary, key=lambda lab: lab.span.start)
    lines = sorted({lab.span.line for lab in labels} | ({span.line} if span else set()))
    gutter = len(str(max(lines))) if lines else 1
    pad = " " * gutter
    where = printable(source.name)
    if span is not None:
        out.append(f"{pad}{paint('secondary', '-->')} {where}:{span.line}:{span.column}")
        out.append(f"{pad} {paint('secondary', '|')}")
        previous = None
        for line in lines:
            if previous is not None and line > previous + 1:
                out.append(paint("secondary", "...") if line > previous + 2 else
                           _source_line(source, previous + 1, 1, gutter, paint)[0])
            focus = span.column if line == span.line else next(
                lab.span.column for lab in labels if lab.span.line == line)
            text, shown = _source_line(source, line, focus, gutter, paint)
            out.append(text)
            for lab in labels:
                if lab.span.line == line:
                    out.append(_marker(shown, lab.span, "-", lab.text, gutter, paint,
                                       "secondary"))
            if line == span.line:
                style = "primary_error" if diagnostic.is_error else "primary_warning"
                out.append(_marker(shown, span, "^", diagnostic.label, gutter, paint, style))
            previous = line
        out.append(f"{pad} {paint('secondary', '|')}")
    else:
        out.append(f"{pad}{paint('secondary', '-->')} {where}")
    for note in diagnostic.notes:
        out.append(f"{pad} {paint('secondary', '=')} {paint('bold', 'note')}: "
                   f"{printable(note)}")
    if diagnostic.help:
        out.append(f"{pad} {paint('secondary', '=')} {paint('bold', 'help')}: "
                   f"{printable(diagnostic.help)}")
    return "\n".join(out)


def render_all(diagnostics, source: Source, *, colour: bool = False) -> str:
    """Every diagnostic of a file (at most MAX_SHOWN), a blank line after each,
    and a tally line when there are errors or diagnostics left unshown."""
    diagnostics = list(diagnostics)
    shown = diagnostics
    if len(diagnostics) > MAX_SHOWN:
        # errors first, then warnings, each in file order; shown in file order
        chosen = sorted(range(len(diagnostics)),
                        key=lambda i: (not diagnostics[i].is_error, i))[:MAX_SHOWN]
        shown = [diagnostics[i] for i in sorted(chosen)]
    out = []
    for diagnostic in shown:
        out += [render_text(diagnostic, source, colour=colour), ""]
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    hidden = len(diagnostics) - MAX_SHOWN
    if errors or hidden > 0:
        parts = []
        if errors:
            parts.append(f"{errors:,} error{'s' if errors != 1 else ''}")
        if warnings:
            parts.append(f"{warnings:,} warning{'s' if warnings != 1 else ''}")
        tally = f"{printable(source.name)}: " + "; ".join(parts)
        if hidden > 0:
            tally += f" ({hidden:,} not shown; errors come first among the {MAX_SHOWN} above)"
        out.append(tally)
        return "\n".join(out)
    return "\n".join(out).rstrip("\n")


def _source_line(source: Source, line: int, focus: int, gutter: int,
                 paint: _Paint) -> tuple[str, _Line]:
    shown = _Line(source.line_text(line), focus)
    return f"{paint('secondary', str(line).rjust(gutter) + ' |')} {shown.text}".rstrip(), shown


def _marker(shown: _Line, span: Span, char: str, text: str, gutter: int,
            paint: _Paint, style: str) -> str:
    start = shown.col(span.column)
    end = shown.col(span.end_column + 1) if span.end_line == span.line else len(shown.text)
    width = max(1, end - start)
    marks = paint(style, char * width + (" " + printable(text) if text else ""))
    return f"{' ' * gutter} {paint('secondary', '|')} {' ' * start}{marks}"


# ---- JSON -------------------------------------------------------------------

def span_json(span: Span | None) -> dict | None:
    if span is None:
        return None
    return {"line": span.line, "column": span.column, "end_line": span.end_line,
            "end_column": span.end_column, "start": span.start, "end": span.end}


def to_json(diagnostic: Diagnostic) -> dict:
    """The JSON shape documented for `cnndsl check --format json`: everything
    the text shows, with spans for editors."""
    span = diagnostic.span
    return {
        "severity": diagnostic.severity,
        "code": diagnostic.code,
        "message": diagnostic.message,
        "line": span.line if span else None,
        "column": span.column if span else None,
        "end_line": span.end_line if span else None,
        "end_column": span.end_column if span else None,
        "span": span_json(span),
        "label": diagnostic.label,
        "secondary": [{"span": span_json(lab.span), "label": lab.text}
                      for lab in diagnostic.secondary],
        "notes": list(diagnostic.notes),
        "help": diagnostic.help,
        "fixes": [{"span": span_json(f.span), "replacement": f.replacement}
                  for f in diagnostic.fixes],
        "suggestions": [{"span": span_json(f.span), "replacement": f.replacement}
                        for f in diagnostic.suggestions],
    }
