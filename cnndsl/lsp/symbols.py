"""Rename checks, the outline, folding ranges, semantic tokens and quick fixes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types as T

from cnndsl.lsp import analysis as A
from cnndsl.lsp.hover import _plain
from cnndsl.lsp.positions import position, span_range
from cnndsl.lsp.publish import lsp_diagnostic

if TYPE_CHECKING:
    from cnndsl.lsp.server import CnnServer

#: Semantic tokens are computed for documents up to this many characters.
MAX_TOKENS_TEXT = 200_000

TOKEN_TYPES = ["keyword", "function", "class", "variable", "parameter", "number", "comment",
               "operator", "string", "property"]
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def rename_problem(sym: A.Symbol, new: str) -> str | None:
    from cnndsl.ir.layers import RESERVED

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

    from cnndsl.front.highlight import CnnLexer

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
