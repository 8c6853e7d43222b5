"""Reading a pasted call's arguments: a small, bounded reader of numbers, tuples,
strings and names (`1, 8, kernel_size=(3, 3), bias=False`); anything else is
Unreadable and is not translated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

#: a number of a pasted call has at most this many digits; a longer one is not read
MAX_DIGITS = 15

_TOKEN = re.compile(r"""[ \t\r\n]*(?:
    (?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)
  | (?P<str>'[^'\n]*'|"[^"\n]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[(),=\[\]])
  | (?P<op>//|[*/+%-]))""", re.VERBOSE)


class Unreadable(Exception):
    """The arguments are not plain literals: no translation is attempted."""


@dataclass(frozen=True)
class Num:
    value: Decimal
    text: str

    @property
    def whole(self) -> bool:
        return self.value == self.value.to_integral_value() and not any(
            c in self.text for c in ".eE")


@dataclass(frozen=True)
class Word:
    """A string (`'same'`) or a bare name (`True`, `relu`)."""
    text: str


def read_arguments(text: str) -> tuple[list, dict]:
    """The positional and keyword arguments of a call's argument text:
    `1, 8, kernel_size=(3, 3), bias=False` -> ([1, 8], {kernel_size: (3, 3), bias: False})."""
    tokens = _tokens(text)
    positional: list = []
    keywords: dict = {}
    at = 0
    while at < len(tokens):
        if tokens[at] == ("punct", ","):
            raise Unreadable
        if tokens[at][0] == "name" and at + 1 < len(tokens) and tokens[at + 1] == ("punct", "="):
            name = tokens[at][1]
            if name in keywords:
                raise Unreadable
            keywords[name], at = _value(tokens, at + 2)
        elif keywords:
            raise Unreadable       # a positional argument after a keyword one
        else:
            value, at = _value(tokens, at)
            positional.append(value)
        if at < len(tokens):
            if tokens[at] != ("punct", ","):
                raise Unreadable
            at += 1
    return positional, keywords


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while at < len(text):
        if not text[at:].strip():
            break
        match = _TOKEN.match(text, at)
        if match is None:
            raise Unreadable
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


@dataclass(frozen=True)
class Opaque:
    """An expression (`8 * 14 * 14`, `in_ch`) cnndsl takes from elsewhere or cannot use."""
    text: str


def _value(tokens, at: int):
    """One value, or an expression of several read as one Opaque value."""
    value, at = _primary(tokens, at)
    if at < len(tokens) and tokens[at][0] == "op":
        while at < len(tokens) and tokens[at][0] == "op":
            _, at = _primary(tokens, at + 1)
        return Opaque("expression"), at
    return value, at


def _primary(tokens, at: int):
    if at >= len(tokens):
        raise Unreadable
    kind, text = tokens[at]
    if kind == "op" and text in "-+" and at + 1 < len(tokens) and tokens[at + 1][0] == "num":
        value, after = _primary(tokens, at + 1)
        return Num(-value.value if text == "-" else value.value, text + value.text), after
    if kind == "num":
        digits = re.sub(r"[eE].*", "", text)
        if sum(c.isdigit() for c in digits) > MAX_DIGITS:
            raise Unreadable
        try:
            return Num(Decimal(text), text), at + 1
        except InvalidOperation:
            raise Unreadable from None
    if kind == "str":
        return Word(text[1:-1]), at + 1
    if kind == "name":
        return (Word(text) if text in ("True", "False", "None") or "." in text
                else Opaque(text)), at + 1
    if text in "([":
        close = ")" if text == "(" else "]"
        items, at = [], at + 1
        while at < len(tokens) and tokens[at] != ("punct", close):
            item, at = _value(tokens, at)
            items.append(item)
            if at < len(tokens) and tokens[at] == ("punct", ","):
                at += 1
        if at >= len(tokens) or not items:
            raise Unreadable
        if not all(isinstance(i, Num) for i in items):
            return Opaque("expression"), at + 1
        return tuple(items), at + 1
    raise Unreadable
