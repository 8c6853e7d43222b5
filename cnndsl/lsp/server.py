"""The language server: `cnndsl lsp` speaks the Language Server Protocol over stdio.

Each feature reads one `Analysis` of the document (`cnndsl.lsp.analysis`) and
the library's own answers: diagnostics with their spans and exact fixes,
`cnndsl.query` for a layer's arithmetic (what the playground shows),
`cnndsl.codes` for a code's explanation. Positions cross the protocol in UTF-16
code units; everything inside counts characters.
"""

from __future__ import annotations

import asyncio
import logging
import re

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer

from cnndsl.files import printable
from cnndsl.lsp import analysis as A

#: Seconds a change waits for the next keystroke before the document is checked.
DEBOUNCE = 0.15
#: Semantic tokens are computed for documents up to this many characters.
MAX_TOKENS_TEXT = 200_000
#: Unused things: the editor greys them out.
UNNECESSARY = frozenset({"W0104", "W0105", "W0106", "W0107"})

TOKEN_TYPES = ["keyword", "function", "class", "variable", "parameter", "number", "comment",
               "operator", "string", "property"]
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


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


# ---- positions -------------------------------------------------------------------------

def position(an: A.Analysis, offset: int) -> T.Position:
    line, col = an.position(offset)
    start = an.line_starts[line]
    wide = sum(1 for ch in an.text[start:start + col] if ord(ch) > 0xFFFF)
    return T.Position(line=line, character=col + wide)


def offset(an: A.Analysis, pos: T.Position) -> int:
    line = min(max(pos.line, 0), len(an.line_starts) - 1)
    start = an.line_starts[line]
    col = units = 0
    end = an.offset(line, 10**9)
    while start + col < end and units < pos.character:
        units += 2 if ord(an.text[start + col]) > 0xFFFF else 1
        col += 1
    return start + col


def span_range(an: A.Analysis, start: int, end: int) -> T.Range:
    return T.Range(start=position(an, start), end=position(an, end))


# ---- diagnostics -------------------------------------------------------------------------

def _anchor(code: str) -> str:
    from cnndsl.codes import CODES

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


# ---- the server ---------------------------------------------------------------------------

def build() -> CnnServer:
    server = CnnServer()
    legend = T.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=[])

    @server.feature(T.INITIALIZE)
    def initialize(ls: CnnServer, params: T.InitializeParams) -> None:
        _configure(ls, params.initialization_options)

    @server.feature(T.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def configuration(ls: CnnServer, params: T.DidChangeConfigurationParams) -> None:
        _configure(ls, params.settings)

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CnnServer, params: T.DidOpenTextDocumentParams) -> None:
        ls.refresh(params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CnnServer, params: T.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        old = ls.pending.pop(uri, None)
        if old is not None:
            old.cancel()
        ls.pending[uri] = asyncio.ensure_future(ls.later(uri, params.text_document.version))

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CnnServer, params: T.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        ls.analyses.pop(uri, None)
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri,
                                                                        diagnostics=[]))

    @server.feature(T.TEXT_DOCUMENT_INLAY_HINT)
    def inlay_hints(ls: CnnServer, params: T.InlayHintParams) -> list[T.InlayHint]:
        if ls.hints == "off":
            return []
        return inlay(ls, ls.current(params.text_document.uri), params.range)

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(ls: CnnServer, params: T.HoverParams) -> T.Hover | None:
        an = ls.current(params.text_document.uri)
        return hover_at(an, offset(an, params.position))

    @server.feature(T.TEXT_DOCUMENT_COMPLETION,
                    T.CompletionOptions(trigger_characters=[">", "@", " ", "("]))
    def completion(ls: CnnServer, params: T.CompletionParams) -> T.CompletionList:
        an = ls.current(params.text_document.uri)
        return T.CompletionList(is_incomplete=False,
                                items=complete(an, offset(an, params.position)))

    @server.feature(T.TEXT_DOCUMENT_SIGNATURE_HELP,
                    T.SignatureHelpOptions(trigger_characters=["(", ","]))
    def signature_help(ls: CnnServer, params: T.SignatureHelpParams) -> T.SignatureHelp | None:
        an = ls.current(params.text_document.uri)
        return signature(an, offset(an, params.position))

    @server.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: CnnServer, params: T.DefinitionParams) -> T.Location | None:
        uri = params.text_document.uri
        an = ls.current(uri)
        sym = an.symbol_at(offset(an, params.position))
        return T.Location(uri=uri, range=span_range(an, sym.start, sym.end)) if sym else None

    @server.feature(T.TEXT_DOCUMENT_REFERENCES)
    def references(ls: CnnServer, params: T.ReferenceParams) -> list[T.Location]:
        uri = params.text_document.uri
        an = ls.current(uri)
        sym = an.symbol_at(offset(an, params.position))
        if sym is None:
            return []
        spans = ([(sym.start, sym.end)] if params.context.include_declaration else []) + \
            sym.uses
        return [T.Location(uri=uri, range=span_range(an, a, b)) for a, b in spans]

    @server.feature(T.TEXT_DOCUMENT_PREPARE_RENAME)
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

    @server.feature(T.TEXT_DOCUMENT_RENAME)
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

    @server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbols(ls: CnnServer, params: T.DocumentSymbolParams
                         ) -> list[T.DocumentSymbol]:
        return outline(ls.current(params.text_document.uri))

    @server.feature(T.TEXT_DOCUMENT_FOLDING_RANGE)
    def folding(ls: CnnServer, params: T.FoldingRangeParams) -> list[T.FoldingRange]:
        return folds(ls.current(params.text_document.uri))

    @server.feature(T.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, legend)
    def semantic_tokens(ls: CnnServer, params: T.SemanticTokensParams) -> T.SemanticTokens:
        return T.SemanticTokens(data=tokens(ls.current(params.text_document.uri)))

    @server.feature(T.TEXT_DOCUMENT_CODE_ACTION,
                    T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
    def code_action(ls: CnnServer, params: T.CodeActionParams) -> list[T.CodeAction]:
        uri = params.text_document.uri
        an = ls.current(uri)
        return quick_fixes(ls, uri, an, offset(an, params.range.start),
                           offset(an, params.range.end))

    @server.feature(T.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: CnnServer, params: T.DocumentFormattingParams) -> list[T.TextEdit]:
        return format_edits(ls, ls.current(params.text_document.uri))

    return server


def format_edits(ls: CnnServer, an: A.Analysis) -> list[T.TextEdit]:
    """`cnndsl fmt`'s layout as one edit over the whole document; none (and a
    message saying why) when the text does not parse or cannot be printed."""
    from cnndsl.fmt import FormatError, SyntaxProblem, format_source

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


# ---- inlay hints -------------------------------------------------------------------------

def inlay(ls: CnnServer, an: A.Analysis, rng: T.Range) -> list[T.InlayHint]:
    first, last = rng.start.line, rng.end.line
    found = []
    for end, label in A.inlay_labels(an, ls.hints):
        pos = position(an, end)
        if first <= pos.line <= last:
            found.append(T.InlayHint(position=pos, label=label, kind=T.InlayHintKind.Type,
                                     padding_left=True))
    return found


# ---- hover ------------------------------------------------------------------------------

def hover_at(an: A.Analysis, at: int) -> T.Hover | None:
    from cnndsl import query

    parts = []
    sym = an.symbol_at(at)
    if sym is not None:
        parts.append(_symbol_hover(an, sym, at))
    elif an.result is not None:
        line, col = an.position(at)
        try:
            found = query.layer_at(an.result, line + 1, col + 1)
        except (AttributeError, TypeError, ValueError, KeyError):
            found = None
        if found is not None:
            parts.append(layer_markdown(found))
    if an.result is not None:
        for d in an.result.diagnostics:
            if d.span is not None and d.span.start <= at <= d.span.end:
                parts.append(_code_markdown(d.code))
    if not parts:
        return None
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown,
                                            value="\n\n---\n\n".join(parts)))


def _code_markdown(code: str) -> str:
    from cnndsl.codes import CODES

    entry = CODES.get(code)
    if entry is None:
        return f"**{code}**"
    return f"**{entry.code}: {entry.title}** ({entry.severity})\n\n{entry.explanation}"


def _plain(text: str) -> str:
    """User text inside a Markdown code span: no backquote can close it."""
    return text.replace("`", "'")


def layer_markdown(found: dict) -> str:
    lines = [f"**{found['name']}** `{_plain(found['text'])}`", "",
             f"{A.shape(found['input'])} → **{A.shape(found['output'])}**  ",
             f"params {found['params']:,} · MACs {found['macs']:,}"
             + (f" · receptive field {A.shape(found['rf'])}" if found.get("rf") else "")]
    if found["steps"]:
        lines.append("")
        for step in found["steps"]:
            label = f" ({step['label']})" if step.get("label") else ""
            note = f" — {step['note']}" if step.get("note") else ""
            lines.append(f"- {step['topic']}{label}: `{step['text']}`{note}")
    if len(found.get("uses") or ()) > 1:
        lines += ["", "uses: " + ", ".join(found["uses"])]
    return "\n".join(lines)


def _symbol_hover(an: A.Analysis, sym: A.Symbol, at: int) -> str:
    line = sym.decl.line
    detail = _plain(sym.detail)     # the user's line: no backquote closes the fence
    text = f"**{sym.kind}** `{_plain(sym.name)}` — defined on line {line}"
    if sym.kind == "block":
        text += f"\n\n```cnn\nblock {detail}\n```"
        use = _block_use_row(an, at)
        if use is not None:
            text += (f"\n\nthis use, `{use.name}`: {A.shape(use.input)} → "
                     f"**{A.shape(use.output)}**, params {use.params:,}, MACs {use.macs:,}")
        text += f"\n\nused {len(sym.uses)} time(s)"
    elif sym.kind == "label":
        shape = A.label_shape(an, sym)
        text += f"\n\n`@{sym.name}`" + (f": **{shape}**" if shape else "")
    elif sym.kind in ("constant", "input"):
        text += f"\n\n```cnn\n{detail}\n```"
    else:
        text += f" ({detail})"
    return text


def _block_use_row(an: A.Analysis, at: int):
    from cnndsl import query

    if an.result is None:
        return None
    line, col = an.position(at)
    try:
        rows = query.rows_at(an.result, line + 1, col + 1)
        blocks = [r for r in rows if r.kind == "block"]
        return blocks[0] if blocks and blocks[0].output is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


# ---- completion ----------------------------------------------------------------------------

_SEGMENT = re.compile(r"->|[(,{]")


def _in_train(text: str, at: int) -> bool:
    before = text[:at]
    opened = [m.end() for m in re.finditer(r"\btrain\s*\{", before)]
    return bool(opened) and "}" not in before[opened[-1]:]


def complete(an: A.Analysis, at: int) -> list[T.CompletionItem]:
    text = an.text
    line_start = text.rfind("\n", 0, at) + 1
    before = text[line_start:at]
    word = re.search(r"[A-Za-z_0-9]*\Z", before).group()
    ahead = before[:len(before) - len(word)]
    items: list[T.CompletionItem] = []
    if ahead.endswith("@"):
        for sym in an.symbols:
            if sym.kind in ("label", "input"):
                items.append(T.CompletionItem(label=sym.name, kind=T.CompletionItemKind.Variable,
                                              detail=sym.detail))
        return items
    if _in_train(text, at):
        if not ahead.strip():
            items += [T.CompletionItem(label=k, kind=T.CompletionItemKind.Property)
                      for k in A.train_keys()]
        return items
    segment = _SEGMENT.split(ahead)[-1]
    words = segment.split()
    catalogue = A.layer_catalogue()
    if not words:       # the start of an item: after `->`, `(`, `,` or at a line's start
        for info in catalogue.values():
            items.append(T.CompletionItem(label=info.word, kind=T.CompletionItemKind.Function,
                                          detail=info.usage))
        for name in A.combinators():
            items.append(T.CompletionItem(label=name, kind=T.CompletionItemKind.Keyword,
                                          insert_text=f"{name}($0)",
                                          insert_text_format=T.InsertTextFormat.Snippet))
        for sym in an.symbols:
            if sym.kind == "block":
                params = sym.detail[len(sym.name) + 1:-1]
                names = [p.split("=")[0].strip() for p in params.split(",") if p.strip()]
                snippet = ", ".join(f"${{{i}:{n}}}" for i, n in enumerate(names, 1))
                items.append(T.CompletionItem(
                    label=sym.name, kind=T.CompletionItemKind.Class, detail=sym.detail,
                    insert_text=f"{sym.name}({snippet})",
                    insert_text_format=T.InsertTextFormat.Snippet))
        return items
    info = catalogue.get(words[0])
    if info is not None:
        for letter, what in info.flags:
            items.append(T.CompletionItem(label=letter, kind=T.CompletionItemKind.Field,
                                          detail=f"{what} (`{letter}N`)",
                                          insert_text=f"{letter}${{1}}",
                                          insert_text_format=T.InsertTextFormat.Snippet))
        for name, what in info.options:
            items.append(T.CompletionItem(label=f"{name}=", kind=T.CompletionItemKind.Property,
                                          detail=what))
        for switch in info.switches:
            items.append(T.CompletionItem(label=switch, kind=T.CompletionItemKind.EnumMember))
    for sym in an.symbols:
        if sym.kind == "constant" or (sym.kind == "parameter" and sym.scope
                                      and sym.scope[0] <= at <= sym.scope[1]):
            items.append(T.CompletionItem(label=sym.name, kind=T.CompletionItemKind.Constant,
                                          detail=sym.detail))
    return items


def signature(an: A.Analysis, at: int) -> T.SignatureHelp | None:
    depth, commas, i = 0, 0, at - 1
    low = max(0, at - 2000)
    while i >= low:
        ch = an.text[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            commas += 1
        elif ch in "{}" and depth == 0:
            return None
        i -= 1
    else:
        return None
    name = re.search(r"[A-Za-z_][A-Za-z0-9_]*\Z", an.text[max(0, i - 200):i])
    if name is None:
        return None
    sym = next((s for s in an.symbols if s.kind == "block" and s.name == name.group()), None)
    if sym is None:
        return None
    inner = sym.detail[len(sym.name) + 1:-1]
    params = [p.strip() for p in inner.split(",") if p.strip()]
    return T.SignatureHelp(
        signatures=[T.SignatureInformation(
            label=sym.detail, parameters=[T.ParameterInformation(label=p) for p in params])],
        active_signature=0, active_parameter=min(commas, max(len(params) - 1, 0)))


# ---- rename, outline, folding, tokens, fixes -------------------------------------------------

def rename_problem(sym: A.Symbol, new: str) -> str | None:
    from cnndsl.layers import RESERVED

    if not IDENTIFIER.match(new):
        return f"`{_plain(new)}` is not a name: letters, digits and `_`, not starting with a digit"
    if new in RESERVED:
        return f"`{new}` is a word of the language and cannot name a {sym.kind}"
    if sym.kind == "block" and not new[0].isupper():
        return "a block's name starts with a capital letter"
    return None


_SYMBOL_KINDS = {"block": T.SymbolKind.Class, "constant": T.SymbolKind.Constant,
                 "label": T.SymbolKind.Variable, "input": T.SymbolKind.Variable,
                 "parameter": T.SymbolKind.TypeParameter}


def outline(an: A.Analysis) -> list[T.DocumentSymbol]:
    def item(sym: A.Symbol, children=None) -> T.DocumentSymbol:
        return T.DocumentSymbol(name=sym.name, detail=sym.detail, kind=_SYMBOL_KINDS[sym.kind],
                                range=span_range(an, sym.decl.start, sym.decl.end),
                                selection_range=span_range(an, sym.start, sym.end),
                                children=children)

    found = []
    for sym in an.symbols:
        if sym.kind == "block":
            params = [item(p) for p in an.symbols if p.kind == "parameter"
                      and p.scope and sym.decl.start <= p.start < sym.decl.end]
            found.append(item(sym, params or None))
        elif sym.kind in ("constant", "input", "label"):
            found.append(item(sym))
    program = an.result.program if an.result is not None else None
    if program is not None:
        for span in program.train_spans:
            rng = span_range(an, span.start, span.end)
            found.append(T.DocumentSymbol(name="train", kind=T.SymbolKind.Namespace, range=rng,
                                          selection_range=rng))
    found.sort(key=lambda s: (s.range.start.line, s.range.start.character))
    return found


def folds(an: A.Analysis) -> list[T.FoldingRange]:
    """Brackets over several lines, and runs of comment lines (the text alone:
    a document that does not parse still folds)."""
    found, stack = [], []
    text = an.text
    for m in re.finditer(r"#[^\n]*|[{}()]", text):
        ch = m.group()
        if ch in "{(":
            stack.append(m.start())
        elif ch in "})" and stack:
            start = stack.pop()
            first, last = an.position(start)[0], an.position(m.start())[0]
            if last > first:
                found.append(T.FoldingRange(start_line=first, end_line=last - 1
                                            if text[an.line_starts[last]:m.start()].strip() == ""
                                            else last))
    lines = text.split("\n")
    run = None
    for number, line in enumerate([*lines, ""]):
        if line.lstrip().startswith("#"):
            run = number if run is None else run
        else:
            if run is not None and number - 1 > run:
                found.append(T.FoldingRange(start_line=run, end_line=number - 1,
                                            kind=T.FoldingRangeKind.Comment))
            run = None
    return [f for f in found if f.end_line > f.start_line]


def tokens(an: A.Analysis) -> list[int]:
    if len(an.text) > MAX_TOKENS_TEXT:
        return []
    from pygments.token import Comment, Keyword, Name, Number, Operator, String

    from cnndsl.lexer import CnnLexer

    kinds = [(Comment, "comment"), (Keyword, "keyword"), (Name.Builtin, "function"),
             (Name.Class, "class"), (Name.Label, "variable"), (Name.Attribute, "property"),
             (Number, "number"), (String, "string"), (Operator, "operator")]
    params = {(s.start, s.end) for s in an.symbols if s.kind == "parameter"}
    params |= {use for s in an.symbols if s.kind == "parameter" for use in s.uses}
    data, last_line, last_col = [], 0, 0
    for start, token, value in CnnLexer().get_tokens_unprocessed(an.text):
        kind = next((k for t, k in kinds if token in t), None)
        if kind is None and token is Name:
            kind = "parameter" if (start, start + len(value)) in params else "variable"
        if kind is None or "\n" in value or not value:
            continue
        pos = position(an, start)
        length = position(an, start + len(value)).character - pos.character
        delta_col = pos.character - last_col if pos.line == last_line else pos.character
        data += [pos.line - last_line, delta_col, length, TOKEN_TYPES.index(kind), 0]
        last_line, last_col = pos.line, pos.character
    return data


def quick_fixes(ls: CnnServer, uri: str, an: A.Analysis, start: int, end: int
                ) -> list[T.CodeAction]:
    if an.result is None:
        return []
    actions = []
    for d in an.result.diagnostics:
        if d.span is None or not d.fixes or d.span.end < start or d.span.start > end:
            continue
        shown = lsp_diagnostic(ls, uri, an, d)
        for fix in d.fixes:
            old = an.text[fix.span.start:fix.span.end]
            title = (f"insert `{_plain(fix.replacement)}`" if not old else
                     f"remove `{_plain(old)}`" if not fix.replacement else
                     f"replace `{_plain(old)}` with `{_plain(fix.replacement)}`")
            edit = T.TextEdit(range=span_range(an, fix.span.start, fix.span.end),
                              new_text=fix.replacement)
            actions.append(T.CodeAction(title=f"{d.code}: {title}",
                                        kind=T.CodeActionKind.QuickFix, diagnostics=[shown],
                                        is_preferred=len(d.fixes) == 1,
                                        edit=T.WorkspaceEdit(changes={uri: [edit]})))
    return actions


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
