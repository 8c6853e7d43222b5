"""Lark's LALR parser: the post-lexer that makes newlines insignificant where a
line goes on, the comments collected as the text is lexed, and the parse tables,
loaded from `grammars/cnn.tables.json` (plain JSON) when they match the grammar."""

from __future__ import annotations

import hashlib
import json
import threading
from functools import lru_cache
from importlib import resources

from lark import Lark, Token

#: Parentheses nest at most this deep; deeper input is refused with a located
#: error instead of exhausting the interpreter's stack in later passes.
MAX_NESTING = 64

_OPENERS = {"LPAR", "CALL", "COMBINE"}
#: a line ending with one of these goes on on the next line
_GO_ON = ("ARROW", "LBRACE", "COMMA")
_OPTIONS = dict(parser="lalr", lexer="basic", maybe_placeholders=True)


class _NestingTooDeep(Exception):
    def __init__(self, token: Token) -> None:
        self.token = token


class _PostLex:
    """Makes newlines insignificant inside parentheses, next to `->`, after a
    comma, and just inside `{ }`, so chains and every comma-separated list (the
    `output` list too) may span lines."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        pending: Token | None = None   # a newline whose fate depends on what follows
        previous: Token | None = None
        for token in stream:
            if token.type == "_NL":
                if depth == 0 and previous is not None and previous.type not in _GO_ON:
                    pending = pending or token
                continue
            if pending is not None and token.type not in ("ARROW", "RBRACE", "ELSE"):
                yield pending
            pending = None
            if token.type in _OPENERS:
                depth += 1
                if depth > MAX_NESTING:
                    raise _NestingTooDeep(token)
            elif token.type == "RPAR":
                depth = max(0, depth - 1)
            previous = token
            yield token
        if pending is not None:
            yield pending


_local = threading.local()   # the comments of the parse running in this thread


def _comment(token: Token) -> Token:
    sink = getattr(_local, "comments", None)
    if sink is not None:
        sink.append(token)
    return token


def _grammar() -> str:
    return (resources.files("cnndsl.grammars") / "cnn.lark").read_text(encoding="utf-8")


def _digest(grammar: str) -> str:
    return hashlib.sha256(grammar.encode("utf-8")).hexdigest()


def build_tables(grammar: str | None = None) -> str:
    """The parse tables of the grammar as JSON text (what `cnn.tables.json` holds)."""
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    grammar = grammar or _grammar()
    data, memo = Lark(grammar, **_OPTIONS).memo_serialize([TerminalDef, Rule])
    return json.dumps({"grammar_sha256": _digest(grammar), "data": data, "memo": memo},
                      sort_keys=True, indent=0) + "\n"


def _int_keys(tables: dict) -> dict:
    """JSON object keys are strings; Lark's memo and its state numbers are ints. Only
    those are converted (a hook on every object cost ~2 ms of start-up): a state's
    actions stay keyed by the strings that key the token names too."""
    tables["memo"] = {int(k): v for k, v in tables["memo"].items()}
    parser = tables["data"]["parser"]["parser"]
    parser["states"] = {int(k): v for k, v in parser["states"].items()}
    return tables


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = _grammar()
    callbacks = {"COMMENT": _comment}
    try:
        text = (resources.files("cnndsl.grammars") / "cnn.tables.json").read_text("utf-8")
        tables = _int_keys(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        tables = None
    if tables is not None and tables.get("grammar_sha256") == _digest(grammar):
        return Lark._load_from_dict(tables["data"], tables["memo"], postlex=_PostLex(),
                                    lexer_callbacks=callbacks)
    return Lark(grammar, **_OPTIONS, postlex=_PostLex(), lexer_callbacks=callbacks)


def _write_tables() -> None:
    path = resources.files("cnndsl.grammars") / "cnn.tables.json"
    with open(str(path), "w", encoding="utf-8") as handle:
        handle.write(build_tables())
    print(f"wrote {path}")
