"""`node`: the frozen, slotted dataclass that every syntax, IR and expression node is,
its `__eq__`, `__hash__` and `__repr__` shared rather than written for each class.

`dataclass` writes and compiles the source of six methods for each frozen class;
for the ~90 node classes that was a third of a whole `cnndsl check` of ResNet-50,
start-up included. The three here behave as `dataclass` writes them: equal when of
the same class with equal fields, hashed on those fields, shown as
`Name(field=value, ...)` (`...` for a node inside itself). Frozenness is shared too
(`__setattr__`, `__delattr__`, `__getstate__`, `__setstate__`), and `__init__`,
the one method whose text depends on the fields, is compiled when the class is
first made: a check makes about a third of the classes.

    >>> @node
    ... class Pair:
    ...     a: int
    ...     b: int = 0
    >>> Pair(a=1) == Pair(a=1, b=0), hash(Pair(a=1)) == hash((1, 0)), Pair(a=1)
    (True, True, Pair(a=1, b=0))
"""

from __future__ import annotations

import reprlib
from dataclasses import MISSING, FrozenInstanceError, dataclass, fields
from operator import attrgetter


def node(cls=None, /, *, kw_only: bool = True):
    """`@dataclass(frozen=True, slots=True, kw_only=True)`, with shared comparison,
    hashing, repr and frozenness, and `__init__` compiled on first use
    (`@node(kw_only=False)` for positional fields)."""
    def wrap(cls):
        own = {name for name in ("__eq__", "__hash__", "__repr__") if name in cls.__dict__}
        if cls.__dict__.get("__hash__", 0) is None and "__eq__" in own:
            own.discard("__hash__")   # Python's None beside an `__eq__`: dataclass hashes it
        if not cls.__doc__:   # else dataclass writes one with inspect.signature (~0.3 ms)
            cls.__doc__ = f"{cls.__name__}({', '.join(cls.__dict__.get('__annotations__', ()))})"
        made = _frozen_dataclass(cls, kw_only)
        if "__init__" not in cls.__dict__:
            made.__init__ = _first_init(made)
        _share(made, own)
        for method in (__setattr__, __delattr__, __getstate__, __setstate__):
            if method.__name__ not in cls.__dict__:
                setattr(made, method.__name__, method)
        return made

    return wrap if cls is None else wrap(cls)


def _frozen_dataclass(cls, kw_only: bool):
    """`dataclass` without its frozen=True, which compiles two methods a class: the
    shared ones below freeze it. The node bases are marked unfrozen for the moment
    dataclass looks (it refuses an unfrozen class under a frozen one), and every node
    class is marked frozen, as dataclasses reads it for a subclass."""
    bases = [b.__dataclass_params__ for b in cls.__mro__[1:] if "__dataclass_params__" in
             b.__dict__ and getattr(b, "__setattr__", None) is __setattr__]
    # under another frozen dataclass, dataclass freezes it (and compiles) itself
    other = any(b.__dataclass_params__.frozen for b in cls.__mro__[1:]
                if "__dataclass_params__" in b.__dict__ and b.__dict__.get("__setattr__")
                is not __setattr__)
    for params in bases:
        params.frozen = False
    try:
        made = dataclass(slots=True, kw_only=kw_only, eq=False, repr=False, init=False,
                         frozen=other)(cls)
    finally:
        for params in bases:
            params.frozen = True
    made.__dataclass_params__.frozen = True
    return made


def __setattr__(self, name, value):
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def __delattr__(self, name):
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def __getstate__(self):   # a frozen slotted class copies and pickles by its fields
    return [getattr(self, f.name) for f in fields(self)]


def __setstate__(self, state):
    for f, value in zip(fields(self), state):
        object.__setattr__(self, f.name, value)


def _first_init(cls):
    """An `__init__` that compiles the one `dataclass` writes for `cls` when `cls` is
    first made, and puts it in its own place: a check makes a few of the ~70 node
    classes, and compiling each one's `__init__` at import was ~15 ms of start-up."""
    def __init__(self, *args, **kwargs):
        written = _written_init(cls)
        cls.__init__ = written
        written(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _written_init(cls):
    """The `__init__` `dataclass(frozen=True)` writes for `cls`'s fields: each set with
    `object.__setattr__`, a default factory called when its argument is not given, then
    `__post_init__`. One function compiled (dataclass's whole pass compiled three). Its
    source holds the class's own field names only, never text from a spec."""
    env = {"__setattr": object.__setattr__, "__FACTORY": _FACTORY}
    front, back, body = [], [], []
    me = "__dataclass_self__" if any(f.name == "self" for f in fields(cls)) else "self"
    for f in fields(cls):
        param, value = f.name, f.name
        if f.default is not MISSING:
            env[f"__default_{f.name}"] = f.default
            param = f"{f.name}=__default_{f.name}"
        elif f.default_factory is not MISSING:
            env[f"__factory_{f.name}"] = f.default_factory
            param = f"{f.name}=__FACTORY"
            value = f"__factory_{f.name}() if {f.name} is __FACTORY else {f.name}"
        (back if f.kw_only else front).append(param)
        body.append(f"    __setattr({me}, {f.name!r}, {value})")
    if hasattr(cls, "__post_init__"):
        body.append(f"    {me}.__post_init__()")
    params = ", ".join([me, *front, *(["*", *back] if back else [])])
    exec(f"def __init__({params}):\n" + "\n".join(body or ["    pass"]) + "\n", env)
    init = env["__init__"]
    init.__annotations__ = {**{f.name: f.type for f in fields(cls)}, "return": None}
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"   # as dataclass shows it


_FACTORY = _Factory()


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
