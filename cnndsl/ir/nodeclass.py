"""`node`: the frozen, slotted dataclass that every syntax, IR and expression node is,
its `__eq__`, `__hash__` and `__repr__` shared rather than written for each class.

`dataclass` writes and compiles the source of six methods for each frozen class;
for the ~70 node classes that was a sixth of a whole `cnndsl check` of ResNet-50,
start-up included. The three here behave as `dataclass` writes them: equal when of
the same class with equal fields, hashed on those fields, shown as
`Name(field=value, ...)` (`...` for a node inside itself).

    >>> @node
    ... class Pair:
    ...     a: int
    ...     b: int = 0
    >>> Pair(a=1) == Pair(a=1, b=0), hash(Pair(a=1)) == hash((1, 0)), Pair(a=1)
    (True, True, Pair(a=1, b=0))
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, fields
from operator import attrgetter


def node(cls=None, /, *, kw_only: bool = True):
    """`@dataclass(frozen=True, slots=True, kw_only=True)`, with shared comparison,
    hashing and repr (`@node(kw_only=False)` for positional fields)."""
    def wrap(cls):
        own = {name for name in ("__eq__", "__hash__", "__repr__") if name in cls.__dict__}
        if cls.__dict__.get("__hash__", 0) is None and "__eq__" in own:
            own.discard("__hash__")   # Python's None beside an `__eq__`: dataclass hashes it
        made = dataclass(frozen=True, slots=True, kw_only=kw_only, eq=False,
                         repr=False)(cls)
        _share(made, own)
        return made

    return wrap if cls is None else wrap(cls)


def _values(names: tuple[str, ...]):
    """A function giving the tuple of these attributes of an object."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        get = attrgetter(names[0])
        return lambda obj: (get(obj),)
    return lambda obj: ()


def _share(cls, own: set[str]) -> None:
    listed = fields(cls)
    compared = _values(tuple(f.name for f in listed if f.compare))
    hashed = _values(tuple(f.name for f in listed
                           if (f.compare if f.hash is None else f.hash)))
    shown = tuple(f.name for f in listed if f.repr)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self):
        return hash(hashed(self))

    @reprlib.recursive_repr("...")
    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inner})"

    for method in (__eq__, __hash__, __repr__):
        if method.__name__ not in own:
            method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
            setattr(cls, method.__name__, method)
