"""`cnndsl.ir.nodeclass.node` shares `__eq__`, `__hash__` and `__repr__` among the node classes
instead of having `dataclass` write them for each (start-up time): they must behave
exactly as `dataclass(frozen=True, slots=True)` writes them."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import SPECS

import cnndsl
from cnndsl.front import syntax
from cnndsl.ir import expr
from cnndsl.ir import nodes as ir
from cnndsl.ir.nodeclass import node


def _classes():
    for module in (syntax, ir, expr):
        for value in vars(module).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and \
                    value.__module__ == module.__name__:
                yield value


def _twin(cls):
    """The same class made by `dataclass` itself (its generated methods, for reference)."""
    listed = dataclasses.fields(cls)
    spec = [(f.name, f.type, dataclasses.field(default=f.default,
                                               default_factory=f.default_factory,
                                               repr=f.repr, hash=f.hash, compare=f.compare))
            for f in listed]
    return dataclasses.make_dataclass(cls.__name__, spec, frozen=True, slots=True,
                                      kw_only=all(f.kw_only for f in listed))


def _nodes(value, found):
    """Every node inside `value` (tuples, lists and dicts followed)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value).__module__ in (syntax.__name__, ir.__name__, expr.__name__):
            found.append(value)
        for f in dataclasses.fields(value):
            _nodes(getattr(value, f.name), found)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _nodes(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _nodes(item, found)
    return found


def test_every_node_class_is_a_frozen_slotted_dataclass_with_the_shared_methods():
    classes = list(_classes())
    assert len(classes) > 60
    for cls in classes:
        params = cls.__dataclass_params__
        assert params.frozen and "__slots__" in cls.__dict__, cls
        assert cls.__eq__.__qualname__ == f"{cls.__qualname__}.__eq__", cls


@pytest.mark.parametrize("path", SPECS[::3], ids=lambda p: p.stem)
def test_nodes_compare_hash_and_show_as_dataclass_writes_it(path):
    result = cnndsl.check(path.read_text(encoding="utf-8"))
    found = _nodes((result.program, result.network), [])
    assert len({type(n) for n in found}) > 10
    twins = {}
    for n in found:
        cls = type(n)
        twin = twins.get(cls) or twins.setdefault(cls, _twin(cls))   # one twin per class
        values = {f.name: getattr(n, f.name) for f in dataclasses.fields(n)}
        reference = twin(**values) if all(f.kw_only for f in dataclasses.fields(n)) else \
            twin(*values.values())
        assert repr(n) == repr(reference).replace(twin.__qualname__, cls.__qualname__, 1)
        assert hash(n) == hash(reference)
        copy = dataclasses.replace(n)
        assert n == copy and not n != copy and hash(n) == hash(copy)
        assert n != reference and (n == 1) is False     # another class is never equal
    first, *rest = found
    for other in rest[:200]:
        same = type(first) is type(other) and all(
            getattr(first, f.name) == getattr(other, f.name) for f in dataclasses.fields(first))
        assert (first == other) is same


def test_a_node_is_frozen_and_shows_itself_inside_itself_as_dots():
    @node
    class Box:
        items: list

    box = Box(items=[])
    with pytest.raises(dataclasses.FrozenInstanceError):
        box.items = [1]
    box.items.append(box)
    assert repr(box) == f"{Box.__qualname__}(items=[...])"
    with pytest.raises(TypeError):
        {Box(items=[])}         # hashed on its fields, as dataclass does: a list is unhashable


def test_a_class_keeps_the_methods_it_writes_itself():
    @node(kw_only=False)
    class Named:
        name: str
        size: int = dataclasses.field(default=0, compare=False, repr=False)

        def __repr__(self):
            return f"<{self.name}>"

    assert repr(Named("a", 3)) == "<a>"
    assert Named("a", 1) == Named("a", 2) and hash(Named("a", 1)) == hash(("a",))


def test_a_node_class_takes_the_arguments_dataclass_would_and_compiles_its_init_once():
    """`__init__` is compiled on first use (start-up): before and after, a class takes
    what `dataclass` would, refuses what it would, and runs its `__post_init__`."""
    import inspect

    for cls in _classes():
        written = inspect.signature(_twin(cls).__init__)
        for _ in range(2):
            with pytest.raises(TypeError):
                cls(*(None,) * (len(written.parameters) + 1))   # one too many: refused
            if _ == 0:
                made = cls.__dict__["__init__"]
        assert cls.__dict__["__init__"] is made, cls   # compiled once
        assert str(inspect.signature(made)) == str(written), cls   # `<factory>` alike
        assert made.__qualname__ == f"{cls.__qualname__}.__init__"
    with pytest.raises(TypeError, match="Fraction, not a float"):
        expr.Const(1.5)
    assert expr.Const(expr.Fraction(4, 2)).value == 2
    with pytest.raises(TypeError):
        syntax.Num()
    with pytest.raises(dataclasses.FrozenInstanceError):
        syntax.Num(value=1, text="1", span=None).value = 2


def test_a_class_made_with_node_works_before_any_other_is_made():
    @node
    class Pair:
        a: int
        b: tuple = ()

    @node(kw_only=False)
    class Point:
        x: int
        y: int = dataclasses.field(default_factory=lambda: 7)

    assert Pair(a=1) == Pair(a=1, b=()) and Pair(a=2).b == ()
    assert Point(1).y == 7 and Point(1, 2) == Point(x=1, y=2)
    with pytest.raises(TypeError):
        Pair(1)
    assert Pair.__doc__ == "Pair(a, b)"


def test_a_node_is_frozen_copies_and_pickles_as_a_frozen_dataclass_does():
    import copy
    import pickle

    network = cnndsl.check((SPECS[0]).read_text(encoding="utf-8")).network
    assert copy.deepcopy(network) == network
    assert pickle.loads(pickle.dumps(network)) == network   # our own object, in memory
    layer = _nodes(network, [])[-1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        layer.nonsense = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        del layer.span

    @node
    class Base:
        a: int

    @node
    class Child(Base):
        b: int = 2

    @dataclasses.dataclass(frozen=True)
    class Plain(Child):
        c: int = 3

    assert Child(a=1).b == 2 and Plain(a=1).c == 3 and dataclasses.is_dataclass(Child)
    with pytest.raises(TypeError, match="non-frozen dataclass from a frozen one"):
        dataclasses.dataclass(type("Loose", (Child,), {"__annotations__": {"d": int}, "d": 4}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        Child(a=1).a = 5


def test_a_node_under_a_plain_frozen_dataclass_is_frozen_too():
    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: int = 1

    @node
    class Under(Plain):
        b: int = 2

    made = Under(a=3)
    assert (made.a, made.b) == (3, 2) and Under.__dataclass_params__.frozen
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.b = 5
