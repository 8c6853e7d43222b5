"""The JSON answers of the playground's API, built from the library's own data:
`check --format json`'s entry, `check`'s table (`cnndsl.backends.query.table`), the
diagram as SVG text, the compiled module, a layer's arithmetic."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import PurePath

from cnndsl.backends import query
from cnndsl.backends.table.report import result_json


def encode(data: dict) -> bytes:
    """Compact JSON; non-ASCII stays UTF-8 (the page sets it as text, never as HTML)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def checked(result) -> dict:
    """Diagnostics, summary and table of one spec, and the explanation of each
    diagnostic's code (`cnndsl explain CODE`) for the problems list."""
    from cnndsl.diagnostics import codes

    report = result_json(result)
    found = sorted({d["code"] for d in report["diagnostics"]})
    return {"report": report, "table": query.table(result),
            "explanations": {code: codes.explain(code) for code in found},
            "hints": hints(result)}


def hints(result, mode: str = "layer") -> list[dict]:
    """The editor's inlay hints, the language server's own (`lsp.analysis.inlay_labels`):
    each a label and the 1-based line and code-point column it stands before."""
    from cnndsl.lsp import analysis

    text = result.source.text
    an = analysis.Analysis(text, result, [], analysis.line_starts(text))
    found = []
    for offset, label in analysis.inlay_labels(an, mode):
        line, column = an.position(offset)
        found.append({"line": line + 1, "column": column + 1, "label": label})
    return found


def diagram(result, drawings=None, collapse: bool = False) -> dict:
    """The network drawn as SVG text, or why not (`drawings`: a `work.Drawings` cache;
    `collapse`: each block use drawn as one node, as `draw --collapse`)."""
    from cnndsl.backends.diagram import DrawProblem, draw

    if result.summary is None:   # a failed `assert` alone leaves the network to draw
        summary = query.assert_only_summary(result)
        if summary is None:
            return {"svg": None, "problem": "the spec has errors"}
        result = dataclasses.replace(result, summary=summary)
    if shutil.which("dot") is None:
        return {"svg": None, "problem": "drawing needs Graphviz's `dot` program, which is "
                                        "not installed"}
    try:
        source = draw(result, collapse=collapse).source
        svg = drawings.svg(source, render) if drawings is not None else render(source)
    except DrawProblem as exc:
        return {"svg": None, "problem": str(exc)}
    return {"svg": svg, "problem": None}


def render(dot: str) -> str:
    """SVG text from DOT source, by Graphviz's `dot`, within the drawing's time and
    memory bounds (`cnndsl.backends.diagram.render`, shared with `cnndsl diagram`)."""
    from cnndsl.backends.diagram import render as render_bytes

    return render_bytes(dot, "svg").decode("utf-8", "replace")


def compiled(result) -> dict:
    """The generated PyTorch module and the file name to save it under."""
    from cnndsl.backends.pytorch.build import SpecError, compile_result

    if not result.ok or result.summary is None:
        return {"code": None, "filename": None, "problem": "the spec has errors"}
    name = PurePath(result.source.name).stem or "model"
    try:
        code = compile_result(result)
    except SpecError as exc:   # a bound on the generated code (E0417): say which
        found = exc.result.diagnostics[-1]
        return {"code": None, "filename": None, "problem": f"{found.code}: {found.message}"}
    return {"code": code, "filename": f"{name}.py", "problem": None}


def explained(result, data: dict) -> dict:
    """A layer's arithmetic, by module path (`name`) or by `line` and `column`."""
    if "name" in data:
        return {"layer": query.explain(result, data["name"])}
    if "line" in data and "column" in data:
        return {"layer": query.layer_at(result, data["line"], data["column"])}
    return {"layer": None}
