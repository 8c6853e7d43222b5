""""Did you mean": one helper for every misspelt word, bounded in work.

Candidates are filtered by length before any similarity is computed, at most
`MAX_CANDIDATES` are compared, and one check computes at most `BUDGET`
suggestions (a file of thousands of misspellings gets the first ones, and its
check time stays linear in its size).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from cnndsl.diagnostics.diagnostic import MAX_SHOWN, Fix
from cnndsl.front.source import Span

MAX_CANDIDATES = 100
#: as many as a file's diagnostics are shown
BUDGET = MAX_SHOWN
CUTOFF = 0.6

_local = threading.local()


@dataclass(frozen=True)
class Suggestion:
    word: str
    #: the word differs only in case (`Relu` for `relu`), so the edit is exact; a
    #: word merely close in spelling (`Relu` and `elu`) is shown, never applied
    exact: bool = False

    def fixes(self, span: Span, template: str = "{}") -> tuple[Fix, ...]:
        """The edit that replaces the misspelt text by the suggestion, when exact."""
        return (self.edit(span, template),) if self.exact else ()

    def suggestions(self, span: Span, template: str = "{}") -> tuple[Fix, ...]:
        """The same edit when it is only a guess: offered to click, never applied."""
        return () if self.exact else (self.edit(span, template),)

    def edit(self, span: Span, template: str = "{}") -> Fix:
        return Fix(span=span, replacement=template.format(self.word))


def offer(close: Suggestion | None, span: Span, shown: str = "{}", fix: str = "{}",
          otherwise: str | None = None) -> dict:
    """A diagnostic's `help`, `fixes` and `suggestions` when it may suggest a word:
    "did you mean `{shown}`?" and the edit writing `fix` over `span` (an exact fix,
    or a suggestion when it is a guess); else `otherwise`, no edit."""
    if close is None:
        return {"help": otherwise, "fixes": (), "suggestions": ()}
    return {"help": f"did you mean `{shown.format(close.word)}`?",
            "fixes": close.fixes(span, fix), "suggestions": close.suggestions(span, fix)}


@contextmanager
def budget():
    """Give one check a fresh budget of suggestions."""
    previous = getattr(_local, "left", None)
    _local.left = BUDGET
    try:
        yield
    finally:
        _local.left = previous


def did_you_mean(word: str, candidates, *, cutoff: float = CUTOFF,
                 meaning: Callable[[str], str] | None = None) -> Suggestion | None:
    """The candidate closest to `word`, when one is close enough: the one word
    equal to it but for case first (an exact suggestion), else the nearest in
    spelling (a guess). Two words equal but for case are still exact when
    `meaning` maps both to one word (`convt` and its alias `convT`): that word.
    `candidates` may be any iterable: it is not read once the budget is spent."""
    left = getattr(_local, "left", None)
    if left is not None:
        if left <= 0:
            return None
        _local.left = left - 1
    import difflib  # here: `check` of a correct spec never needs it

    slack = max(3, len(word) // 2)
    near = [c for c in candidates if c != word and c != "in" and abs(len(c) - len(word)) <= slack]
    same = {c for c in near if c.lower() == word.lower()}
    if len(same) > 1 and meaning is not None and len({meaning(c) for c in same}) == 1:
        same = {meaning(same.pop())}
    if len(same) == 1:
        return Suggestion(same.pop(), exact=True)
    near = sorted(set(near), key=lambda c: (abs(len(c) - len(word)), c))[:MAX_CANDIDATES]
    found = difflib.get_close_matches(word, near, n=1, cutoff=cutoff)
    if not found and word.lower() != word:
        lowered = {c.lower(): c for c in near}
        found = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=1,
                                                                cutoff=cutoff)]
    return Suggestion(found[0]) if found else None
