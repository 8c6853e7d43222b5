"""The one place where the property tests read what `cnndsl` says about a spec.

Everything else in `tests/properties_*.py` and `tests/test_properties*.py` is black-box: spec
text goes in, and these functions turn a `CheckResult` or a built module into plain figures
(tuples and ints). When the summary's rows change shape, re-point this module only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cnndsl

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Row:
    """One layer of the summary, as plain data, in execution order."""

    op: str
    output: Shape
    params: int
    buffers: int
    macs: int


@dataclass(frozen=True)
class Located:
    """An error diagnostic's code and where it points (1-based line and column)."""

    code: str
    line: int
    column: int
    start: int
    end: int


def check(text: str):
    """`cnndsl.check` on spec text (the file name shows up in failure messages only)."""
    return cnndsl.check(text, "property.cnn")


def accepted(result) -> bool:
    return bool(result.ok)


def layer_rows(result) -> list[Row]:
    """The rows of leaf layers (no block headers, no merge rows), in execution order."""
    return [Row(r.op, tuple(r.output), r.params, r.buffers, r.macs)
            for r in result.summary.rows if r.kind == "layer"]


def total_params(result) -> int:
    return int(result.summary.params)


def outputs(result) -> tuple[Shape, ...]:
    """Every output's shape, in the order written: the JSON summary's `outputs` list
    (LANGUAGE.md), or the single `output` where a summary has no such list yet."""
    from cnndsl.backends.table.report import result_json

    summary = result_json(result)["summary"]
    shapes = summary.get("outputs") or [summary["output"]]
    return tuple(tuple(shape) for shape in shapes)


def located_errors(result) -> list[Located]:
    """The errors that carry a span; an error without a position is not in the list."""
    return [Located(d.code, d.span.line, d.span.column, d.span.start, d.span.end)
            for d in result.diagnostics if d.is_error and d.span is not None]


def describe(result) -> str:
    """The diagnostics, one line each, for an assertion message."""
    return "\n".join(f"{d.severity}[{d.code}] {d.message} at "
                     f"{d.span.line if d.span else '?'}:{d.span.column if d.span else '?'}"
                     for d in result.diagnostics)


def build(text: str):
    """The compiled module of a spec (`cnndsl.build`), in eval mode."""
    model = cnndsl.build(text)
    model.eval()
    return model
