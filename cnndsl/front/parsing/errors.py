"""Syntax errors in the language's own words: Lark's failures (an unexpected token,
character or end of file) as located diagnostics with the expected words named and
one help, and a pasted PyTorch or Keras call reported as such."""

from __future__ import annotations

import re

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from cnndsl.diagnostics.diagnostic import Diagnostic, Fix, error
from cnndsl.diagnostics.suggest import did_you_mean, offer
from cnndsl.files import printable
from cnndsl.front import habits
from cnndsl.front.parsing.tables import _lark
from cnndsl.front.source import Source
from cnndsl.ir.layers import COMBINATORS


def _pasted_or(source: Source, found: Diagnostic) -> list[Diagnostic]:
    """A syntax error inside a pasted PyTorch or Keras call (`nn.Conv2d(1, 8, 3)`,
    `Conv2D(8, (3, 3), padding='same')`) is reported as what it is, with every other
    such call in the file, each with its translation."""
    at = found.span.start if found.span is not None else -1
    pasted = habits.pasted_calls(source)
    if any(d.span.start <= at < d.span.end for d in pasted):
        return pasted
    return [found]


_WORDS = {
    "ARROW": "`->`", "_NL": "a newline", "NAME": "a name", "INT": "a number",
    "DECIMAL": "a number", "SIZE": "a size such as `3x32x32`", "SUFFIXED": "a number",
    "CALL": "a block use", "COMBINE": "`concat(`, `add(`, ...", "FLAG": "a flag such as `k3`",
    "AT": "a label such as `@e1`", "AS": "`as`", "IN": "`in`", "COMPARE":
    "a comparison (`<`, `<=`, `==`, ...)", "STRING": "a quoted string", "PATH": "a path",
    "$END": "the end of the file", "_ITEM": "a layer, a block or `(`",
}


def _describe(name: str) -> str:
    if name in _WORDS:
        return _WORDS[name]
    try:
        pattern = _lark().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"`{pattern.value}`" if pattern.type == "str" else name.lower()


def _expected(names) -> str:
    names = set(names)
    if {"COMBINE", "CALL", "NAME"} <= names:   # the start of a chain item
        names -= {"COMBINE", "CALL", "NAME", "LPAR", "AT", "IF"}
        names.add("_ITEM")
    words = sorted({_describe(n) for n in names}, key=_order)
    if len(words) > 6:  # a long list helps nobody: keep the most useful
        words = words[:6]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _order(word: str) -> tuple[int, str]:
    rank = ["`->`", "a newline", "`)`", "`,`", "a name", "a number"]
    return (rank.index(word) if word in rank else len(rank), word)


def _found(token: Token) -> str:
    """What was found instead, as `unexpected ...` continues: `end of line`, `` `->` ``."""
    if token.type == "_NL":
        return "end of line"
    if token.type == "$END":
        return "end of file"
    return f"`{printable(str(token))}`"


def _context(source: Source, offset: int) -> str:
    """The construct just before `offset`: back to the last `->`, `(`, `,` or
    line start, e.g. `conv 16 k3` in `... -> conv 16 k3 )`."""
    line_start = source.text.rfind("\n", 0, offset) + 1
    text = source.text[max(line_start, offset - 200):offset]   # bounded: one line's tail
    arrow = text.rfind("->")
    cut = max(arrow + 2 if arrow >= 0 else -1, text.rfind("("), text.rfind(","),
              text.rfind("{"), 0)
    if text[cut:cut + 1] in "(,{" and text[cut:cut + 1]:
        cut += 1
    fragment = re.sub(r"#.*", "", text[cut:]).strip()
    return printable(fragment if len(fragment) <= 60 else "…" + fragment[-59:])


def _syntax_error(source: Source, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(source, exc)
    token = exc.token if isinstance(exc, UnexpectedToken) else None
    if isinstance(exc, UnexpectedEOF) or (token is not None and token.type == "$END"):
        offset = len(source.text.rstrip())
        span = source.span(max(0, offset - 1), offset) if offset else source.span(0, 0)
        expected = exc.expected
        after = _context(source, offset)
        return error("E0003", "unexpected end of file", span,
                     f"expected {_expected(expected)}" + (f" after `{after}`" if after else ""),
                     help=_eof_help(source))
    start = token.start_pos if token.start_pos is not None else 0
    combinator = _unknown_combinator(source, start)
    if combinator is not None:
        return combinator
    if token.type == "_NL":
        start = source.text.rfind("\n", 0, start + 1)
        start = start if start >= 0 else token.start_pos
    end = max(start + 1, token.end_pos if token.type != "_NL" else start + 1)
    span = source.span(start, end)
    after = _context(source, start)
    message = f"unexpected {_found(token)}"
    if after:
        message += f" after `{after}`"
    expected = set(exc.expected)
    comma = _comma_line(source, start)
    if comma is not None:   # the list went on past its last line
        expected.discard("_NL")
        help, fix = (f"a line ending with `,` goes on on the next; remove the `,` at the end "
                     f"of line {comma} to end the list there"), None
    else:
        help, fix = _token_help(source, token, exc.expected, after)
    return error("E0001", message, span, f"expected {_expected(expected)}", help=help,
                 fixes=[fix] if fix else ())


def _comma_line(source: Source, offset: int) -> int | None:
    """The line of a `,` ending the line before `offset`'s, if one does (a list that
    goes on), else None. Comments and blank lines between are skipped; bounded."""
    before = source.text[max(0, offset - 2000):offset]
    lines = before.split("\n")
    if len(lines) < 2 or lines[-1].strip():
        return None
    for back, line in enumerate(reversed(lines[:-1]), start=1):
        code = re.sub(r"#.*", "", line).rstrip()
        if code:
            return source.position(offset)[0] - back if code.endswith(",") else None
    return None


_CALL_BEFORE = re.compile(r"([a-z_][A-Za-z0-9_]*)[ \t]*\($")


def _unknown_combinator(source: Source, offset: int) -> Diagnostic | None:
    """`cat(conv 4 k1, ...)`: a lowercase word used like `concat(` fails to parse
    as a block use; name the word instead of the token it stumbled on."""
    depth, pos = 0, offset - 1
    floor = max(0, offset - 2000)
    while pos >= floor:
        char = source.text[pos]
        if char == ")":
            depth += 1
        elif char == "(":
            if depth == 0:
                break
            depth -= 1
        pos -= 1
    else:
        return None
    match = _CALL_BEFORE.search(source.text[max(0, pos - 80):pos + 1])
    if match is None or match.group(1) in COMBINATORS:
        return None
    close = did_you_mean(match.group(1), COMBINATORS)
    if close is None:
        return None
    start = pos - (len(match.group(0)) - 1)
    span = source.span(start, start + len(match.group(1)))
    return error("E0201", f"unknown combinator `{match.group(1)}(`", span,
                 "not a combinator",
                 notes=["combinators: " + ", ".join(f"`{c}(`" for c in COMBINATORS)],
                 **offer(close, span, "{}("))


def _token_help(source: Source, token: Token, expected,
                after: str) -> tuple[str | None, Fix | None]:
    names = set(expected)
    if token.type == "ARROW" and "NAME" in names:
        return "a layer, a block or a group must stand between two `->`", None
    if token.type == "_NL" and "RPAR" in names:
        return "close the parenthesis, or end the line with `->` or `,` to go on", None
    if token.type == "NAME" and str(token).startswith("x") and _after_number(source, token):
        return "write a size without spaces: `3x32x32`", None
    if token.type == "PATH" and str(token).startswith("/") and "SLASH" in names:
        return ("after a space, `/name` reads as a path; to divide, write `a / name` "
                "or `a/name`"), None
    if token.type in ("NAME", "CALL", "LPAR", "COMBINE") and "ARROW" in names:
        insert = Fix(span=source.span(token.start_pos, token.start_pos), replacement="-> ")
        shown = printable(str(token))
        return (f"join layers with `->`: `{after} -> {shown}`" if after and token.type == "NAME"
                else "join layers with `->`"), insert
    return None, None


def _after_number(source: Source, token: Token) -> bool:
    before = source.text[max(0, token.start_pos - 30):token.start_pos].rstrip(" \t")
    return bool(before) and before[-1].isdigit()


def _eof_help(source: Source) -> str | None:
    depth = source.text.count("(") - source.text.count(")")
    if depth > 0:
        return "a `(` is never closed"
    if source.text.count("{") > source.text.count("}"):
        return "a `{` is never closed"
    if source.text.rstrip().endswith("->"):
        return "a chain cannot end with `->`"
    return None


_CHARACTER_HELP = {
    "[": "sizes are written with `x`: `3x32x32`",
    ";": "end a statement with a newline, or chain layers with `->`",
    ":": "options are written `name=value`",
    "'": "quote strings with `\"`",
    ">": "chain layers with `->`",
    "@": "a label is `@` and a name: `@e1`",
}


def _bad_character(source: Source, exc: UnexpectedCharacters) -> Diagnostic:
    pos = exc.pos_in_stream
    char = source.text[pos] if pos < len(source.text) else ""
    span = source.span(pos, pos + 1)
    after = _context(source, pos)
    message = f"unexpected character `{printable(char)}`" + (f" after `{after}`" if after else "")
    return error("E0002", message, span, "not part of the language",
                 help=_CHARACTER_HELP.get(char))
