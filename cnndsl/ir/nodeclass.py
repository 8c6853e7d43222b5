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
from dataclasses import dataclass, field, fields
from operator import attrgetter


def node(cls=None, /, *, kw_only: bool = True):
    """`@dataclass(frozen=True, slots=True, kw_only=True)`, with shared comparison,
    hashing and repr (`@node(kw_only=False)` for positional fields)."""
    def wrap(cls):
        own = {name for name in ("__eq__", "__hash__", "__repr__") if name in cls.__dict__}
        if cls.__dict__.get("__hash__", 0) is None and "__eq__" in own:
            own.discard("__hash__")   # Python's None beside an `__eq__`: dataclass hashes it
        if not cls.__doc__:   # else dataclass writes one with inspect.signature (~0.3 ms)
            cls.__doc__ = f"{cls.__name__}({', '.join(cls.__dict__.get('__annotations__', ()))})"
        made = dataclass(frozen=True, slots=True, kw_only=kw_only, eq=False, repr=False,
                         init="__init__" in cls.__dict__)(cls)
        if "__init__" not in cls.__dict__:
            made.__init__ = _first_init(made, kw_only)
        _share(made, own)
        return made

    return wrap if cls is None else wrap(cls)


def _first_init(cls, kw_only: bool):
    """An `__init__` that compiles the one `dataclass` writes for `cls` when `cls` is
    first made, and puts it in its own place: a check makes a few of the ~70 node
    classes, and compiling each one's `__init__` at import was ~15 ms of start-up."""
    def __init__(self, *args, **kwargs):
        written = _written_init(cls, kw_only)
        cls.__init__ = written
        written(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _written_init(cls, kw_only: bool):
    """The `__init__` `dataclass` writes for `cls`'s fields, taken from a bare twin."""
    listed = fields(cls)
    twin = type(cls.__name__, (), {
        "__module__": cls.__module__, "__qualname__": cls.__qualname__,
        "__annotations__": {f.name: f.type for f in listed},
        **{f.name: field(default=f.default, default_factory=f.default_factory, init=f.init,
                         kw_only=f.kw_only) for f in listed},
        **({"__post_init__": cls.__post_init__} if hasattr(cls, "__post_init__") else {})})
    init = dataclass(frozen=True, kw_only=kw_only, eq=False, repr=False)(twin).__init__
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


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
