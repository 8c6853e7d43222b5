"""Completion (layer words and their flags, options and switches; combinators;
blocks as snippets; labels after `@`; train keys) and signature help for block uses."""

from __future__ import annotations

import re

from lsprotocol import types as T

from cnndsl.lsp import analysis as A

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
    if ahead.endswith("@"):
        return _labels(an)
    if _in_train(text, at):
        return _train_keys() if not ahead.strip() else []
    words = _SEGMENT.split(ahead)[-1].split()
    catalogue = A.layer_catalogue()
    if not words:       # the start of an item: after `->`, `(`, `,` or at a line's start
        return _item_starts(an, catalogue)
    return _arguments(catalogue.get(words[0])) + _constants(an, at)


def _labels(an: A.Analysis) -> list[T.CompletionItem]:
    """After `@`: the labels and inputs."""
    return [T.CompletionItem(label=sym.name, kind=T.CompletionItemKind.Variable,
                             detail=sym.detail)
            for sym in an.symbols if sym.kind in ("label", "input")]


def _train_keys() -> list[T.CompletionItem]:
    return [T.CompletionItem(label=k, kind=T.CompletionItemKind.Property)
            for k in A.train_keys()]


def _item_starts(an: A.Analysis, catalogue: dict) -> list[T.CompletionItem]:
    """What may start an item: layer words, combinators, the file's blocks."""
    items = [T.CompletionItem(label=info.word, kind=T.CompletionItemKind.Function,
                              detail=info.usage) for info in catalogue.values()]
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


def _arguments(info) -> list[T.CompletionItem]:
    """A layer word's flags, options and switches (none for an unknown word)."""
    if info is None:
        return []
    items = [T.CompletionItem(label=letter, kind=T.CompletionItemKind.Field,
                              detail=f"{what} (`{letter}N`)", insert_text=f"{letter}${{1}}",
                              insert_text_format=T.InsertTextFormat.Snippet)
             for letter, what in info.flags]
    items += [T.CompletionItem(label=f"{name}=", kind=T.CompletionItemKind.Property,
                               detail=what) for name, what in info.options]
    items += [T.CompletionItem(label=switch, kind=T.CompletionItemKind.EnumMember)
              for switch in info.switches]
    return items


def _constants(an: A.Analysis, at: int) -> list[T.CompletionItem]:
    """The constants, and the parameters of the block `at` is in."""
    return [T.CompletionItem(label=sym.name, kind=T.CompletionItemKind.Constant,
                             detail=sym.detail)
            for sym in an.symbols
            if sym.kind == "constant" or (sym.kind == "parameter" and sym.scope
                                          and sym.scope[0] <= at <= sym.scope[1])]


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
