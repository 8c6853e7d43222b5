"""The summary table (torchinfo's layout) and the JSON report of `check`."""

from __future__ import annotations

from cnndsl.api import CheckResult
from cnndsl.diagnostics import to_json
from cnndsl.passes.infer import LayerInfo, Summary, fmt

_COLUMNS = (("Layer (as written)", 34, "<"), ("Name", 26, "<"), ("Output", 14, "<"),
            ("Params", 12, ">"), ("MACs", 15, ">"), ("RF", 9, ">"))


def human(n: float) -> str:
    """`658238` -> `658.24K`, as model tables print them."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return str(int(n))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _line(cells: list[str]) -> str:
    parts = []
    for (_, width, align), cell in zip(_COLUMNS, cells):
        cell = _clip(cell, width)
        parts.append(cell.ljust(width) if align == "<" else cell.rjust(width))
    return "  ".join(parts).rstrip()


def _row_text(row: LayerInfo) -> str:
    indent = "  " * row.depth
    if row.kind == "merge":
        text = "residual" if row.text.startswith("residual") else row.op
        return f"{indent}└ {text}"
    return indent + row.text


def render_summary(summary: Summary, filename: str) -> str:
    """The layer-by-layer table of one network, totals below."""
    width = sum(w for _, w, _ in _COLUMNS) + 2 * (len(_COLUMNS) - 1)
    rule = "=" * width
    out = [f"{summary.model}  ({filename})", rule, _line([c for c, _, _ in _COLUMNS]), rule]
    rank = len(summary.input) - 1
    ones = "x".join("1" for _ in range(rank)) if rank else "-"
    out.append(_line([f"input {fmt(summary.input)}", "", fmt(summary.input), "-", "-", ones]))
    for row in summary.rows:
        params = f"{row.params:,}" if row.params or row.kind != "merge" else "-"
        macs = f"{row.macs:,}" if row.macs or row.kind != "merge" else "-"
        rf = fmt(row.rf) if row.rf else "-"
        out.append(_line([_row_text(row), row.name, fmt(row.output), params, macs, rf]))
    out.append(rule)
    frozen = summary.params - summary.trainable
    buffers = sum(r.buffers for r in summary.layers)
    out += [f"Total params: {summary.params:,}",
            f"Trainable params: {summary.trainable:,}",
            f"Non-trainable params: {frozen:,}",
            f"Buffers (not trained): {buffers:,}",
            f"Multiply-adds: {human(summary.macs)} ({summary.macs:,})",
            f"Input: {fmt(summary.input)}   Output: {fmt(summary.output)}",
            f"Parameter memory: {_megabytes(summary.params + buffers)} (float32)",
            rule]
    return "\n".join(out)


def _megabytes(count: int) -> str:
    return f"{count * 4 / 2**20:.2f} MiB"


def summary_json(summary: Summary) -> dict:
    layers = []
    for index, row in enumerate((r for r in summary.rows if r.is_layer), start=1):
        layers.append({
            "index": index, "name": row.name, "op": row.op, "text": row.text,
            "line": row.span.line, "column": row.span.column,
            "output": list(row.output), "params": row.params, "macs": row.macs,
            "receptive_field": list(row.rf) if row.rf else None,
            "jump": list(row.jump) if row.jump else None,
        })
    return {"model": summary.model, "input": list(summary.input),
            "output": list(summary.output), "params": summary.params,
            "trainable_params": summary.trainable, "macs": summary.macs, "layers": layers}


def result_json(result: CheckResult) -> dict:
    """One file's entry in `check --format json`."""
    return {"file": result.source.name, "ok": result.ok,
            "diagnostics": [to_json(d) for d in result.diagnostics],
            "summary": summary_json(result.summary) if result.summary else None}


def unreadable_json(path: str, problem: str) -> dict:
    """The entry in `check --format json` for a file that could not be read."""
    return {"file": path, "ok": False, "error": problem, "diagnostics": [], "summary": None}
