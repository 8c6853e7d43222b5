"""The IR is plain data: frozen, slotted dataclasses that the passes build from
values they have checked. Nothing validates a node at run time, so this test does:
every node of every example network (and of its syntax tree) holds values of the
types its annotations name, and nodes are immutable and slotted."""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from pathlib import Path

import pytest

import cnndsl
from cnndsl.diagnostics import diagnostic as diagnostics
from cnndsl.front import source, syntax
from cnndsl.ir import expr, training
from cnndsl.ir import nodes as ir

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.cnn"))
MODULES = (ir, syntax, source, diagnostics, training, expr)


@cache
def _hints(cls: type) -> dict[str, object]:
    module = __import__(cls.__module__, fromlist=["_"])
    return typing.get_type_hints(cls, vars(module))


def check(value, kind, where: str) -> None:
    """Raise AssertionError unless `value` is of the annotated `kind` (strictly:
    no bool for an int, no int for a float is refused only where a float is required)."""
    origin = typing.get_origin(kind)
    if kind is typing.Any:
        return
    if kind is type(None):
        assert value is None, where
    elif origin is typing.Literal:
        assert value in typing.get_args(kind), f"{where}: {value!r} not in {kind}"
    elif origin in (typing.Union, types.UnionType):
        errors = []
        for option in typing.get_args(kind):
            try:
                check(value, option, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: {value!r} is none of {kind}")
    elif origin is tuple:
        assert isinstance(value, tuple), f"{where}: {type(value).__name__} is not a tuple"
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            for i, item in enumerate(value):
                check(item, args[0], f"{where}[{i}]")
        else:
            assert len(value) == len(args), where
            for i, (item, arg) in enumerate(zip(value, args)):
                check(item, arg, f"{where}[{i}]")
    elif kind is int:
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r}"
    elif kind is float:
        assert isinstance(value, float), f"{where}: {value!r} is not a float"
    elif dataclasses.is_dataclass(kind):
        assert isinstance(value, kind), f"{where}: {type(value).__name__} is not {kind}"
        check_node(value, where)
    else:
        assert isinstance(value, kind), f"{where}: {value!r} is not {kind}"


def check_node(node, where: str = "") -> None:
    cls = type(node)
    assert dataclasses.is_dataclass(cls), f"{where}: {cls.__name__} is not a dataclass"
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        check(getattr(node, f.name), hints[f.name], f"{where}.{f.name}")


def _all_dataclasses():
    for module in MODULES:
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ and \
                    dataclasses.is_dataclass(value):
                yield value


@pytest.mark.parametrize("cls", list(_all_dataclasses()), ids=lambda c: c.__qualname__)
def test_every_node_class_is_frozen_and_slotted(cls):
    params = cls.__dataclass_params__
    assert params.frozen
    assert "__slots__" in vars(cls)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_node_holds_what_its_annotations_say(path):
    result = cnndsl.check_file(path)
    assert result.ok
    check_node(result.network, "network")
    check_node(result.program, "program")
    for d in result.diagnostics:
        check_node(d, "diagnostic")


def test_a_wrong_value_is_caught():
    span = source.Span(start=0, end=1, line=1, column=1, end_line=1, end_column=1)
    good = ir.Linear(span=span, text="fc 2", name="fc1", out=2)
    check_node(good)
    with pytest.raises(AssertionError):
        check_node(dataclasses.replace(good, out=2.0))
    with pytest.raises(AssertionError):
        check_node(dataclasses.replace(good, out=True))
    with pytest.raises(dataclasses.FrozenInstanceError):
        good.out = 3
    with pytest.raises(TypeError):
        ir.Linear(span=span, text="fc 2", name="fc1")   # a required field missing
