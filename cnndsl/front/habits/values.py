"""A pasted call's values as cnndsl writes them (`(3, 3)` -> `3`), and its
arguments bound to the foreign layer's signature."""

from __future__ import annotations

from dataclasses import dataclass, field

from cnndsl.front.habits.reading import Num, Word


class NoTranslation(Exception):
    """No exact translation; `reason` says why (or is empty)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def _count(value) -> int:
    """A whole number (`8`), or NoTranslation."""
    if isinstance(value, Num) and value.whole and value.value >= 0:
        return int(value.value)
    raise NoTranslation


def _size(value) -> str:
    """`3` or `(3, 3)` -> `3`; `(3, 5)` -> `3x5`."""
    numbers = value if isinstance(value, tuple) else (value,)
    counts = [_count(n) for n in numbers]
    if len(set(counts)) == 1:
        return str(counts[0])
    return "x".join(str(c) for c in counts)


def _is_zero(value) -> bool:
    numbers = value if isinstance(value, tuple) else (value,)
    return all(_count(n) == 0 for n in numbers)


def _is_one(value) -> bool:
    numbers = value if isinstance(value, tuple) else (value,)
    return all(_count(n) == 1 for n in numbers)


def _number(value) -> str:
    if isinstance(value, Num) and value.value >= 0:
        return value.text.lstrip("+")
    raise NoTranslation


def _flag(value) -> bool:
    if isinstance(value, Word) and value.text in ("True", "False"):
        return value.text == "True"
    raise NoTranslation


def _string(value) -> str:
    if isinstance(value, Word):
        return value.text
    raise NoTranslation


@dataclass
class Call:
    """A call's arguments bound to a signature, read once each."""

    values: dict
    used: set = field(default_factory=set)

    def get(self, name: str, default=None):
        self.used.add(name)
        return self.values.get(name, default)

    def given(self, name: str) -> bool:
        return name in self.values


def _bind(signature: tuple[str, ...], positional: list, keywords: dict) -> Call:
    if len(positional) > len(signature):
        raise NoTranslation("more arguments than it takes")
    values = dict(zip(signature, positional))
    for name, value in keywords.items():
        if name in values:
            raise NoTranslation(f"`{name}` is given twice")
        values[name] = value
    return Call(values)
