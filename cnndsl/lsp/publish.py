"""The library's diagnostics as LSP diagnostics: the message with its notes and
help, secondary spans as related information, the code linked to the docs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types as T

from cnndsl.lsp import analysis as A
from cnndsl.lsp.positions import span_range

if TYPE_CHECKING:
    from cnndsl.lsp.server import CnnServer

#: Unused things: the editor greys them out.
UNNECESSARY = frozenset({"W0104", "W0105", "W0106", "W0107"})


def _anchor(code: str) -> str:
    from cnndsl.diagnostics.codes import CODES

    title = CODES[code].title if code in CODES else ""
    slug = re.sub(r"[^\w\s-]", "", f"{code}: {title}".lower()).strip()
    return re.sub(r"[\s]+", "-", slug)


def lsp_diagnostic(ls: CnnServer, uri: str, an: A.Analysis, d) -> T.Diagnostic:
    span = d.span
    rng = span_range(an, span.start, span.end) if span is not None else \
        T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0))
    parts = [d.message + (f": {d.label}" if d.label else "")]
    parts += [f"note: {n}" for n in d.notes]
    if d.help:
        parts.append(f"help: {d.help}")
    related = [T.DiagnosticRelatedInformation(
        location=T.Location(uri=uri, range=span_range(an, lab.span.start, lab.span.end)),
        message=lab.text) for lab in d.secondary]
    return T.Diagnostic(
        range=rng, message="\n".join(parts), code=d.code, source="cnndsl",
        severity={"error": T.DiagnosticSeverity.Error, "warning": T.DiagnosticSeverity.Warning
                  }.get(d.severity, T.DiagnosticSeverity.Information),
        code_description=T.CodeDescription(href=f"{ls.docs_url.rstrip('/')}/errors/"
                                                f"#{_anchor(d.code)}") if ls.docs_url else None,
        related_information=related or None,
        tags=[T.DiagnosticTag.Unnecessary] if d.code in UNNECESSARY else None,
        data={"fixes": len(d.fixes)})


def lsp_diagnostics(ls: CnnServer, uri: str, an: A.Analysis) -> list[T.Diagnostic]:
    if an.result is None:
        return [T.Diagnostic(range=span_range(an, 0, 0), source="cnndsl",
                             severity=T.DiagnosticSeverity.Error,
                             message=f"this document is too large to check "
                                     f"({len(an.text):,} characters; at most "
                                     f"{A.MAX_TEXT:,})")]
    return [lsp_diagnostic(ls, uri, an, d) for d in an.result.diagnostics]
