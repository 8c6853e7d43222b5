"""Source files and spans: byte offsets in, 1-based line:column out."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """A half-open character range `[start, end)` of one source file.

    `line`/`column` are 1-based; `end_line`/`end_column` point at the last
    character of the range (inclusive), as editors and the JSON output expect.
    """

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def cover(self, other: Span) -> Span:
        """The smallest span holding both `self` and `other`."""
        first = self if self.start <= other.start else other
        last = self if self.end >= other.end else other
        return Span(
            start=first.start, end=last.end, line=first.line, column=first.column,
            end_line=last.end_line, end_column=last.end_column,
        )


class Source:
    """The text of one `.cnn` file and its name as the user gave it."""

    def __init__(self, text: str, name: str = "<string>") -> None:
        self.text = text
        self.name = name

    @cached_property
    def _line_starts(self) -> list[int]:
        return [0, *(m.end() for m in re.finditer("\n", self.text))]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def span(self, start: int, end: int) -> Span:
        """The span of `text[start:end]` (an empty range still covers one column)."""
        end = max(end, start)
        line, column = self.position(start)
        end_line, end_column = self.position(max(start, end - 1))
        return Span(start=start, end=end, line=line, column=column,
                    end_line=end_line, end_column=end_column)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        starts = self._line_starts
        if not 1 <= line <= len(starts):
            return ""
        begin = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[begin:end].rstrip("\r")

    def snippet(self, span: Span) -> str:
        """The user's own text under a span."""
        return self.text[span.start:span.end]
