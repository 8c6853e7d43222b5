"""The summary table for papers and READMEs: Markdown, CSV and a LaTeX `tabular`
(booktabs rules), optionally folded like the diagram (`collapse`: one row per
use of the model's own layers and blocks, a repeated use once, marked ×N).

Every cell holding the user's text is escaped for its format: Markdown's table
and inline characters, LaTeX's special characters, and a CSV cell that a
spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is quoted with `'`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from cnndsl.backends.table.report import human
from cnndsl.files import printable
from cnndsl.ir.shapes import fmt
from cnndsl.passes.summary import Row, Summary

HEADER = ("Layer (as written)", "Name", "Output", "Params", "MACs", "RF")
CSV_COLUMNS = ("index", "kind", "depth", "name", "op", "text", "line", "column", "input",
               "output", "params", "macs", "receptive_field", "jump")


@dataclass(frozen=True)
class Line:
    """One printed row: a summary row, or a run of `count` repeated uses of one."""

    row: Row
    count: int = 1
    params: int = 0
    macs: int = 0
    output: tuple[int, ...] = ()
    rf: tuple[int, ...] | None = None


def lines(summary: Summary, collapse: bool = False) -> list[Line]:
    """The rows to print; folded to the model's own rows (depth 0) with `collapse`."""
    if not collapse:
        return [Line(r, 1, r.params, r.macs, r.output, r.rf) for r in summary.rows]
    out: list[list[Row]] = []
    for row in summary.top:
        first = out[-1][0] if out else None
        if first is not None and first.span == row.span and first.text == row.text \
                and first.kind == row.kind:
            out[-1].append(row)
        else:
            out.append([row])
    return [Line(run[0], len(run), sum(r.params for r in run), sum(r.macs for r in run),
                 run[-1].output, run[-1].rf) for run in out]


def _dash(value: int, line: Line) -> str:
    return f"{value:,}" if value or line.row.kind != "merge" else "-"


# ---- Markdown -------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = "\\`*_[]<>|&~"


def md_escape(text: str) -> str:
    """`text` safe in a Markdown table cell: no column break, no markup, no HTML."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in printable(text))


def render_markdown(summary: Summary, filename: str, collapse: bool = False) -> str:
    """The layer table as a GitHub Markdown table, totals last."""
    out = [f"**{md_escape(summary.model)}** ({md_escape(filename)}): "
           f"{summary.params:,} parameters, {human(summary.macs)} multiply-adds", "",
           "| " + " | ".join(HEADER) + " |", "| :-- | :-- | :-- | --: | --: | --: |"]
    for name, shape in summary.inputs:
        label = "input" if len(summary.inputs) == 1 else f"input {name}"
        out.append(f"| {md_escape(label)} |  | {fmt(shape)} | - | - | - |")
    for line in lines(summary, collapse):
        row = line.row
        indent = "&nbsp;&nbsp;" * (row.depth if not collapse else 0)
        text = f"└ {row.op}" if row.kind == "merge" else row.text
        cells = [indent + md_escape(text) + (f" ×{line.count}" if line.count > 1 else ""),
                 md_escape(row.name), fmt(line.output), _dash(line.params, line),
                 _dash(line.macs, line), fmt(line.rf) if line.rf else "-"]
        out.append("| " + " | ".join(cells) + " |")
    out.append(f"| **Total** |  | {fmt(summary.output)} | {summary.params:,} | "
               f"{summary.macs:,} |  |")
    return "\n".join(out) + "\n"


# ---- CSV ------------------------------------------------------------------------------------

def csv_cell(value) -> str | int:
    """A cell a spreadsheet shows as text: one starting with `=`, `+`, `-`, `@`, a
    tab or a carriage return would be run as a formula, so it gets a leading `'`."""
    if isinstance(value, int):
        return value
    text = printable(str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _shape(value) -> str:
    return "x".join(str(v) for v in value) if value else ""


def render_csv(summary: Summary, collapse: bool = False) -> str:
    """One row per layer (per folded use with `collapse`, and a `count` column),
    numbers unformatted, the columns of `check --format json`'s rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    chosen = lines(summary, collapse) if collapse else \
        [Line(r, 1, r.params, r.macs, r.output, r.rf) for r in summary.layers]
    writer.writerow(CSV_COLUMNS + (("count",) if collapse else ()))
    for line in chosen:
        row = line.row
        cells = [row.index, row.kind, row.depth, row.name, row.op, row.text, row.span.line,
                 row.span.column, _shape(row.input), _shape(line.output), line.params,
                 line.macs, _shape(line.rf), _shape(row.jump)]
        writer.writerow([csv_cell(c) for c in cells] + ([line.count] if collapse else []))
    return buffer.getvalue()


# ---- LaTeX ----------------------------------------------------------------------------------

_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
          "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
          "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
          "|": r"\textbar{}", "×": r"$\times$", "→": r"$\to$", "·": r"$\cdot$"}


def tex_escape(text: str) -> str:
    """`text` as LaTeX prints it literally: every special character escaped, and
    nothing outside printable ASCII but Latin-1 letters and the few signs drawn
    above (others as `?`), so that any file compiles with plain pdflatex."""
    out = []
    for char in printable(text):
        if char in _LATEX:
            out.append(_LATEX[char])
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append(char if char.isalpha() and ord(char) < 256 else "?")
    return "".join(out)


def tex_shape(shape) -> str:
    return r"$\times$".join(str(n) for n in shape)


def render_latex(summary: Summary, filename: str, collapse: bool = False) -> str:
    """A `tabular` with booktabs rules (needs `\\usepackage{booktabs}`), totals last."""
    out = [f"% {tex_escape(summary.model)} ({tex_escape(filename)}), written by cnndsl; "
           r"needs \usepackage{booktabs}",
           r"\begin{tabular}{lllrrr}", r"\toprule",
           " & ".join(HEADER) + r" \\", r"\midrule"]
    for name, shape in summary.inputs:
        label = "input" if len(summary.inputs) == 1 else f"input {name}"
        out.append(f"{tex_escape(label)} & & {tex_shape(shape)} & -- & -- & -- \\\\")
    for line in lines(summary, collapse):
        row = line.row
        indent = r"\quad " * (row.depth if not collapse else 0)
        text = row.op if row.kind == "merge" else row.text
        count = f" $\\times{line.count}$" if line.count > 1 else ""
        cells = [indent + tex_escape(text) + count, tex_escape(row.name),
                 tex_shape(line.output), _dash(line.params, line).replace("-", "--"),
                 _dash(line.macs, line).replace("-", "--"),
                 tex_shape(line.rf) if line.rf else "--"]
        out.append(" & ".join(cells) + r" \\")
    out += [r"\midrule",
            f"\\textbf{{Total}} & & {tex_shape(summary.output)} & {summary.params:,} & "
            f"{human(summary.macs)} & \\\\", r"\bottomrule", r"\end{tabular}"]
    return "\n".join(out) + "\n"
