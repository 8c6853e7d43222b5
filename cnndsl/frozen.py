"""`Frozen`: the pydantic base of every IR node, span and diagnostic.

Every node is a pydantic model: frozen, `extra="forbid"`, and *strict*, so
validation only checks types and never converts a value (a list is not accepted
for a tuple, nor a string for an int).

Only the compiler builds nodes, from values it has already checked and reported
on as diagnostics, so validation checks the compiler, not the user's input. Like
`assert`, it is therefore switched on where bugs are hunted (the test suite,
`cnndsl ... --debug`, or `CNNDSL_VALIDATE=1` in the environment) and off
otherwise: building pydantic's validators alone costs more start-up time than
parsing, resolving and inferring ResNet-50 together. Off, a node is built the way
`BaseModel.model_construct` builds one (defaults filled in, unknown or missing
fields still refused). Strict mode makes both ways give identical objects, and
the test suite checks that they do for every example network.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict

_validating = os.environ.get("CNNDSL_VALIDATE", "") not in ("", "0")

_REQUIRED = object()
#: per class: ((field name, default, default is a factory), ...)
_LAYOUTS: dict[type, tuple[tuple[str, Any, bool], ...]] = {}


def set_validation(on: bool) -> bool:
    """Validate every node built from now on (or stop); returns the previous setting."""
    global _validating
    previous, _validating = _validating, on
    return previous


def _layout(cls: type[BaseModel]) -> tuple[tuple[str, Any, bool], ...]:
    layout = []
    for name, info in cls.__pydantic_fields__.items():
        if info.default_factory is not None:
            layout.append((name, info.default_factory, True))
        elif info.is_required():
            layout.append((name, _REQUIRED, False))
        else:
            layout.append((name, info.default, False))
    _LAYOUTS[cls] = tuple(layout)
    return _LAYOUTS[cls]


#: per class and set of given fields, one `__pydantic_fields_set__` shared by
#: every node built that way: frozen nodes never add to it, and pydantic copies
#: it before changing a copy. A set per node was 40% of a checked spec's memory.
_FIELDS_SETS: dict[tuple[type, frozenset[str]], set[str]] = {}


def _fields_set(cls: type, data: dict[str, Any]) -> set[str]:
    key = (cls, frozenset(data))
    found = _FIELDS_SETS.get(key)
    if found is None:
        found = _FIELDS_SETS[key] = set(data)
    return found


class Frozen(BaseModel):
    """A frozen, strict pydantic model, validated only while validation is on."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, defer_build=True)

    def __init__(self, /, **data: Any) -> None:
        if _validating:
            super().__init__(**data)
            return
        cls = type(self)
        values: dict[str, Any] = {}
        given = 0
        for name, default, factory in _LAYOUTS.get(cls) or _layout(cls):
            if name in data:
                values[name] = data[name]
                given += 1
            elif default is _REQUIRED:
                raise TypeError(f"{cls.__name__}: missing field `{name}`")
            else:
                values[name] = default() if factory else default
        if given != len(data):
            unknown = sorted(set(data) - set(values))
            raise TypeError(f"{cls.__name__}: unknown fields {unknown}")
        object.__setattr__(self, "__dict__", values)
        object.__setattr__(self, "__pydantic_fields_set__", _fields_set(cls, data))
        object.__setattr__(self, "__pydantic_extra__", None)
        object.__setattr__(self, "__pydantic_private__", None)
