"""The language server: `cnndsl lsp` speaks the Language Server Protocol over stdio.

Each feature reads one `Analysis` of the document (`cnndsl.lsp.analysis`) and
the library's own answers: diagnostics with their spans and exact fixes,
`cnndsl.backends.query` for a layer's arithmetic (what the playground shows),
`cnndsl.diagnostics.codes` for a code's explanation. Positions cross the protocol in UTF-16
code units; everything inside counts characters.

One module per part: `handlers` (each request, and what is registered),
`publish` (diagnostics), `hover` (hover and inlay hints), `completion`
(completion and signature help), `symbols` (rename, outline, folding, tokens,
quick fixes), `positions` (UTF-16 positions).
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer

from cnndsl.lsp import analysis as A
from cnndsl.lsp.completion import complete, signature
from cnndsl.lsp.handlers import FEATURES, format_edits
from cnndsl.lsp.hover import hover_at, inlay, layer_markdown
from cnndsl.lsp.positions import offset, position, span_range
from cnndsl.lsp.publish import UNNECESSARY, lsp_diagnostic, lsp_diagnostics
from cnndsl.lsp.symbols import (
    IDENTIFIER,
    MAX_TOKENS_TEXT,
    TOKEN_TYPES,
    folds,
    outline,
    quick_fixes,
    rename_problem,
    tokens,
)

__all__ = ["DEBOUNCE", "IDENTIFIER", "MAX_TOKENS_TEXT", "TOKEN_TYPES", "UNNECESSARY",
           "CnnServer", "build", "complete", "folds", "format_edits", "hover_at", "inlay",
           "layer_markdown", "lsp_diagnostic", "lsp_diagnostics", "main", "offset", "outline",
           "position", "quick_fixes", "rename_problem", "signature", "span_range", "tokens"]

#: Seconds a change waits for the next keystroke before the document is checked.
DEBOUNCE = 0.15


class CnnServer(LanguageServer):
    def __init__(self) -> None:
        from cnndsl.version import __version__

        super().__init__("cnndsl", __version__)
        self.analyses: dict[str, tuple[int | None, A.Analysis]] = {}
        self.pending: dict[str, asyncio.Task] = {}
        self.hints = "layer"        # "layer" | "line" | "off"
        self.docs_url: str | None = None

    # ---- documents -----------------------------------------------------------------

    def current(self, uri: str) -> A.Analysis:
        """The analysis of the document as it is now (checked again if it changed)."""
        doc = self.workspace.get_text_document(uri)
        known = self.analyses.get(uri)
        if known is not None and known[0] == doc.version and known[1].text == doc.source:
            return known[1]
        found = A.analyse(doc.source, _filename(uri))
        self.analyses[uri] = (doc.version, found)
        return found

    def publish(self, uri: str, an: A.Analysis, version: int | None) -> None:
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=lsp_diagnostics(self, uri, an)))

    def refresh(self, uri: str) -> None:
        doc = self.workspace.get_text_document(uri)
        self.publish(uri, self.current(uri), doc.version)

    async def later(self, uri: str, version: int | None) -> None:
        """Check after a pause; a newer change in between makes this one stale."""
        await asyncio.sleep(DEBOUNCE)
        doc = self.workspace.get_text_document(uri)
        if doc.version != version:
            return
        an = self.current(uri)
        if self.workspace.get_text_document(uri).version == version:
            self.publish(uri, an, version)


def _filename(uri: str) -> str:
    name = uri.rsplit("/", 1)[-1]
    return name if name.endswith(".cnn") else "<editor>"

def build() -> CnnServer:
    """A server with every feature of `handlers.FEATURES` registered."""
    server = CnnServer()
    for feature, options, handler in FEATURES:
        server.feature(feature, options)(handler)
    return server


class _Brief(logging.Formatter):
    """One line per problem on stderr: a client's broken message is its own
    business, not a traceback in the editor's log."""

    def format(self, record: logging.LogRecord) -> str:
        from cnndsl.files import printable

        text = f"cnndsl lsp: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f" ({type(exc).__name__}: {exc})"
        return printable(text.splitlines()[0] if text else text)


def main() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_Brief())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    build().start_io()
