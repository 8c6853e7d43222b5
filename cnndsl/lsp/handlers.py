"""The protocol's requests and notifications, each a small function of the server
and its parameters over the analysis of the document; `FEATURES` is what the
server registers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types as T

from cnndsl.files import printable
from cnndsl.lsp import analysis as A
from cnndsl.lsp.completion import complete, signature
from cnndsl.lsp.hover import hover_at, inlay
from cnndsl.lsp.positions import offset, span_range
from cnndsl.lsp.symbols import TOKEN_TYPES, folds, outline, quick_fixes, rename_problem, tokens

if TYPE_CHECKING:
    from cnndsl.lsp.server import CnnServer

LEGEND = T.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=[])


def initialize(ls: CnnServer, params: T.InitializeParams) -> None:
    _configure(ls, params.initialization_options)


def configuration(ls: CnnServer, params: T.DidChangeConfigurationParams) -> None:
    _configure(ls, params.settings)


def did_open(ls: CnnServer, params: T.DidOpenTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


def did_change(ls: CnnServer, params: T.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    old = ls.pending.pop(uri, None)
    if old is not None:
        old.cancel()
    ls.pending[uri] = asyncio.ensure_future(ls.later(uri, params.text_document.version))


def did_close(ls: CnnServer, params: T.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.analyses.pop(uri, None)
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri,
                                                                    diagnostics=[]))


def inlay_hints(ls: CnnServer, params: T.InlayHintParams) -> list[T.InlayHint]:
    if ls.hints == "off":
        return []
    return inlay(ls, ls.current(params.text_document.uri), params.range)


def hover(ls: CnnServer, params: T.HoverParams) -> T.Hover | None:
    an = ls.current(params.text_document.uri)
    return hover_at(an, offset(an, params.position))


def completion(ls: CnnServer, params: T.CompletionParams) -> T.CompletionList:
    an = ls.current(params.text_document.uri)
    return T.CompletionList(is_incomplete=False,
                            items=complete(an, offset(an, params.position)))


def signature_help(ls: CnnServer, params: T.SignatureHelpParams) -> T.SignatureHelp | None:
    an = ls.current(params.text_document.uri)
    return signature(an, offset(an, params.position))


def definition(ls: CnnServer, params: T.DefinitionParams) -> T.Location | None:
    uri = params.text_document.uri
    an = ls.current(uri)
    sym = an.symbol_at(offset(an, params.position))
    return T.Location(uri=uri, range=span_range(an, sym.start, sym.end)) if sym else None


def references(ls: CnnServer, params: T.ReferenceParams) -> list[T.Location]:
    uri = params.text_document.uri
    an = ls.current(uri)
    sym = an.symbol_at(offset(an, params.position))
    if sym is None:
        return []
    spans = ([(sym.start, sym.end)] if params.context.include_declaration else []) + \
        sym.uses
    return [T.Location(uri=uri, range=span_range(an, a, b)) for a, b in spans]


def prepare_rename(ls: CnnServer, params: T.PrepareRenameParams) -> T.Range | None:
    an = ls.current(params.text_document.uri)
    at = offset(an, params.position)
    sym = an.symbol_at(at)
    if sym is None:
        return None
    for a, b in [(sym.start, sym.end), *sym.uses]:
        if a <= at <= b:
            return span_range(an, a, b)
    return None


def rename(ls: CnnServer, params: T.RenameParams) -> T.WorkspaceEdit | None:
    uri = params.text_document.uri
    an = ls.current(uri)
    sym = an.symbol_at(offset(an, params.position))
    if sym is None:
        return None
    problem = rename_problem(sym, params.new_name)
    if problem:
        raise ValueError(problem)
    edits = [T.TextEdit(range=span_range(an, a, b), new_text=params.new_name)
             for a, b in [(sym.start, sym.end), *sym.uses]]
    return T.WorkspaceEdit(changes={uri: edits})


def document_symbols(ls: CnnServer, params: T.DocumentSymbolParams
                     ) -> list[T.DocumentSymbol]:
    return outline(ls.current(params.text_document.uri))


def folding(ls: CnnServer, params: T.FoldingRangeParams) -> list[T.FoldingRange]:
    return folds(ls.current(params.text_document.uri))


def semantic_tokens(ls: CnnServer, params: T.SemanticTokensParams) -> T.SemanticTokens:
    return T.SemanticTokens(data=tokens(ls.current(params.text_document.uri)))


def code_action(ls: CnnServer, params: T.CodeActionParams) -> list[T.CodeAction]:
    uri = params.text_document.uri
    an = ls.current(uri)
    return quick_fixes(ls, uri, an, offset(an, params.range.start),
                       offset(an, params.range.end))


def formatting(ls: CnnServer, params: T.DocumentFormattingParams) -> list[T.TextEdit]:
    return format_edits(ls, ls.current(params.text_document.uri))


def format_edits(ls: CnnServer, an: A.Analysis) -> list[T.TextEdit]:
    """`cnndsl fmt`'s layout as one edit over the whole document; none (and a
    message saying why) when the text does not parse or cannot be printed."""
    from cnndsl.backends.cnn import FormatError, SyntaxProblem, format_source

    try:
        text = format_source(an.text, "<editor>")
    except SyntaxProblem:
        why = "the spec does not parse: fix the errors first"
    except FormatError as exc:
        why = printable(str(exc))
    else:
        if text == an.text:
            return []
        return [T.TextEdit(range=span_range(an, 0, len(an.text)), new_text=text)]
    ls.window_show_message(T.ShowMessageParams(
        type=T.MessageType.Info, message=f"cnndsl fmt left the document as it is: {why}"))
    return []


def _configure(ls: CnnServer, settings) -> None:
    if not isinstance(settings, dict):
        return
    settings = settings.get("cnndsl", settings)
    if not isinstance(settings, dict):
        return
    hints = settings.get("inlayHints")
    if hints in ("layer", "line", "off"):
        ls.hints = hints
    elif isinstance(hints, bool):
        ls.hints = "layer" if hints else "off"
    url = settings.get("docsUrl")
    if isinstance(url, str) and url.startswith(("https://", "http://", "file://")):
        ls.docs_url = url


#: (feature, its options, its handler), in the order they are registered
FEATURES = [
    (T.INITIALIZE, None, initialize),
    (T.WORKSPACE_DID_CHANGE_CONFIGURATION, None, configuration),
    (T.TEXT_DOCUMENT_DID_OPEN, None, did_open),
    (T.TEXT_DOCUMENT_DID_CHANGE, None, did_change),
    (T.TEXT_DOCUMENT_DID_CLOSE, None, did_close),
    (T.TEXT_DOCUMENT_INLAY_HINT, None, inlay_hints),
    (T.TEXT_DOCUMENT_HOVER, None, hover),
    (T.TEXT_DOCUMENT_COMPLETION,
     T.CompletionOptions(trigger_characters=[">", "@", " ", "("]), completion),
    (T.TEXT_DOCUMENT_SIGNATURE_HELP,
     T.SignatureHelpOptions(trigger_characters=["(", ","]), signature_help),
    (T.TEXT_DOCUMENT_DEFINITION, None, definition),
    (T.TEXT_DOCUMENT_REFERENCES, None, references),
    (T.TEXT_DOCUMENT_PREPARE_RENAME, None, prepare_rename),
    (T.TEXT_DOCUMENT_RENAME, None, rename),
    (T.TEXT_DOCUMENT_DOCUMENT_SYMBOL, None, document_symbols),
    (T.TEXT_DOCUMENT_FOLDING_RANGE, None, folding),
    (T.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, LEGEND, semantic_tokens),
    (T.TEXT_DOCUMENT_CODE_ACTION,
     T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]), code_action),
    (T.TEXT_DOCUMENT_FORMATTING, None, formatting),
]
