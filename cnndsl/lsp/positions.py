"""Positions across the protocol: LSP counts UTF-16 code units, everything inside
counts characters."""

from __future__ import annotations

from lsprotocol import types as T

from cnndsl.lsp import analysis as A


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
