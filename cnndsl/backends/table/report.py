"""The summary table (torchinfo's layout), its HTML form for notebooks, and the
JSON report of `check`."""

from __future__ import annotations

import html

from cnndsl.diagnostics.diagnostic import span_json, to_json
from cnndsl.files import printable
from cnndsl.ir.shapes import fmt
from cnndsl.passes.summary import Row, Summary

_COLUMNS = (("Layer (as written)", 34, "<"), ("Name", 26, "<"), ("Output", 14, "<"),
            ("Params", 12, ">"), ("MACs", 15, ">"), ("RF", 9, ">"))


def human(n: float) -> str:
    """`658238` -> `658.24K`, as model tables print them."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return str(int(n))


def count(n: int | float, noun: str, plural: str | None = None) -> str:
    """`1 epoch`, `3 epochs`, `1,200 rows`: a number and its noun, agreeing.

    >>> count(1, "epoch"), count(2.5, "epoch"), count(1200, "row")
    ('1 epoch', '2.5 epochs', '1,200 rows')
    """
    shown = f"{n:,}" if isinstance(n, int) else f"{n:g}"
    return f"{shown} {noun if n == 1 else plural or noun + 's'}"


def clip(text: str, width: int) -> str:
    """`text` cut to `width` characters, the last one an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _line(cells: list[str]) -> str:
    parts = []
    for (_, width, align), cell in zip(_COLUMNS, cells):
        cell = clip(cell, width)
        parts.append(cell.ljust(width) if align == "<" else cell.rjust(width))
    return "  ".join(parts).rstrip()


def row_text(row: Row) -> str:
    """A row's first column: the user's text, indented by depth; `└ concat` for merges."""
    indent = "  " * row.depth
    if row.kind == "merge":
        return f"{indent}└ {row.op}"
    return indent + printable(row.text)


def _cells(row: Row) -> list[str]:
    merge = row.kind == "merge"
    return [row_text(row), row.name, fmt(row.output),
            f"{row.params:,}" if row.params or not merge else "-",
            f"{row.macs:,}" if row.macs or not merge else "-",
            fmt(row.rf) if row.rf else "-"]


def render_summary(summary: Summary, filename: str) -> str:
    """The layer-by-layer table of one network, totals below."""
    width = sum(w for _, w, _ in _COLUMNS) + 2 * (len(_COLUMNS) - 1)
    rule = "=" * width
    out = [f"{summary.model}  ({printable(filename)})", rule,
           _line([c for c, _, _ in _COLUMNS]), rule]
    for name, shape in summary.inputs:
        rank = len(shape) - 1
        ones = "x".join("1" for _ in range(rank)) if rank else "-"
        label = f"input {fmt(shape)}" if len(summary.inputs) == 1 else \
            f"input {name} {fmt(shape)}"
        out.append(_line([label, "", fmt(shape), "-", "-", ones]))
    out += [_line(_cells(row)) for row in summary.rows]
    out.append(rule)
    out += [f"Total params: {summary.params:,}",
            f"Trainable params: {summary.trainable:,}",
            f"Non-trainable params: {summary.params - summary.trainable:,}",
            f"Buffers (not trained): {summary.buffers:,}",
            f"Multiply-adds: {human(summary.macs)} ({summary.macs:,})",
            _io_line(summary),
            f"Parameter memory: {_megabytes(summary.params + summary.buffers)} (float32)",
            rule]
    return "\n".join(out)


def _io_line(summary: Summary) -> str:
    ins = ", ".join(fmt(s) for _, s in summary.inputs)
    outs = ", ".join(fmt(s) for s in summary.outputs)
    plural = len(summary.inputs) > 1 or len(summary.outputs) > 1
    return f"Input{'s' if plural else ''}: {ins}   Output{'s' if plural else ''}: {outs}"


def _megabytes(count: int) -> str:
    return f"{count * 4 / 2**20:.2f} MiB"


def render_html(result) -> str:
    """A check result as an HTML table (what notebooks show)."""
    if result.summary is None:
        from cnndsl.diagnostics.diagnostic import render_all

        text = render_all(result.diagnostics, result.source)
        return f"<pre>{html.escape(text)}</pre>"
    s = result.summary
    head = "".join(f"<th>{html.escape(c)}</th>" for c, _, _ in _COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in _cells(r)) + "</tr>"
                   for r in s.rows)
    return (f"<p><b>{html.escape(s.model)}</b>: {s.params:,} parameters, "
            f"{human(s.macs)} multiply-adds, {html.escape(_io_line(s))}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def summary_json(summary: Summary) -> dict:
    def row_json(row: Row) -> dict:
        return {"index": row.index, "kind": row.kind, "depth": row.depth, "name": row.name,
                "op": row.op, "text": row.text, "line": row.span.line,
                "column": row.span.column, "span": span_json(row.span),
                "input": list(row.input), "output": list(row.output), "params": row.params,
                "macs": row.macs, "receptive_field": list(row.rf) if row.rf else None,
                "jump": list(row.jump) if row.jump else None}

    return {"model": summary.model, "input": list(summary.input),
            "output": list(summary.output),
            "inputs": [{"name": n, "shape": list(s)} for n, s in summary.inputs],
            "outputs": [list(s) for s in summary.outputs],
            "params": summary.params, "trainable_params": summary.trainable,
            "buffers": summary.buffers, "macs": summary.macs,
            "layers": [row_json(r) for r in summary.layers],
            "rows": [row_json(r) for r in summary.rows]}


def result_json(result) -> dict:
    """One file's entry in `check --format json`."""
    return {"file": result.source.name, "ok": result.ok,
            "diagnostics": [to_json(d) for d in result.diagnostics],
            "summary": summary_json(result.summary) if result.summary else None}


def unreadable_json(path: str, problem: str) -> dict:
    """The entry in `check --format json` for a file that could not be read."""
    return {"file": printable(str(path)), "ok": False, "error": problem, "diagnostics": [],
            "summary": None}
