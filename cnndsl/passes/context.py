"""What one resolve walk shares: the file, its blocks and constants, the
diagnostics found so far, what the walk found used, and the element budget."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cnndsl.diagnostics.diagnostic import Diagnostic
from cnndsl.front import syntax as ast
from cnndsl.front.source import Source, Span
from cnndsl.passes.constants import Env

#: More elements than this after unrolling is refused: no real network is
#: that large, and a typo such as `relu * 1000000` should not hang the checker.
MAX_ELEMENTS = 200_000


_COMMENT = re.compile(r"#[^\n]*")


class TooLarge(Exception):
    pass


@dataclass
class Context:
    """The state one resolve walk shares across its stages (mutable, private to it)."""

    source: Source
    blocks: dict[str, ast.BlockDef]
    constants: Env
    diagnostics: list[Diagnostic]
    comments: dict[tuple[int, int], str]   # (start, end) of the element -> its comment
    words: set[str]
    used_blocks: set[str] = field(default_factory=set)
    used_names: set[str] = field(default_factory=set)
    elements: int = 0
    texts: dict[tuple[int, int], str] = field(default_factory=dict)
    unused: dict[int, Diagnostic] = field(default_factory=dict)
    habits: dict[int, Diagnostic | None] = field(default_factory=dict)   # by use start

    def text(self, span: Span) -> str:
        """The user's text under a span, comments left out, one string per span
        however many copies of the element unrolling makes."""
        key = (span.start, span.end)
        found = self.texts.get(key)
        if found is None:
            raw = _COMMENT.sub(" ", self.source.text[span.start:span.end])
            found = self.texts[key] = " ".join(raw.split())
        return found

    def count(self, n: int) -> None:
        self.elements += n
        if self.elements > MAX_ELEMENTS:
            raise TooLarge

