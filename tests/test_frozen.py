"""The IR's pydantic base: strict validation in tests, a trusted fast path elsewhere
(see cnndsl/frozen.py). Both paths must build identical objects."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import SPECS, spec_id
from pydantic import ValidationError

import cnndsl
from cnndsl import ir
from cnndsl import syntax as ast
from cnndsl.frozen import set_validation
from cnndsl.source import Span
from cnndsl.training import TrainConfig

CATALOGUE = sorted((Path(__file__).parent / "diagnostics").glob("*.cnn"))
SPAN = dict(start=0, end=1, line=1, column=1, end_line=1, end_column=1)


@contextmanager
def validation(on: bool):
    previous = set_validation(on)
    try:
        yield
    finally:
        set_validation(previous)


@pytest.mark.parametrize("path", SPECS + CATALOGUE, ids=spec_id)
def test_fast_path_builds_what_validation_accepts(path):
    text = path.read_text(encoding="utf-8")
    with validation(True):
        checked = cnndsl.check(text, path.name)
    with validation(False):
        fast = cnndsl.check(text, path.name)
    assert fast.program == checked.program
    assert fast.network == checked.network
    assert fast.diagnostics == checked.diagnostics
    assert fast.summary == checked.summary


def test_validation_is_strict():
    with validation(True):
        with pytest.raises(ValidationError):
            ast.SizeLit(span=Span(**SPAN), values=[3, 32, 32])  # a list is not a tuple
        with pytest.raises(ValidationError):
            Span(**{**SPAN, "line": "1"})
        with pytest.raises(ValidationError):
            ast.Name(span=Span(**SPAN), name="x", extra=1)


def test_fast_path_still_refuses_unknown_and_missing_fields():
    with validation(False):
        with pytest.raises(TypeError, match="unknown fields"):
            ast.Name(span=Span(**SPAN), name="x", extra=1)
        with pytest.raises(TypeError, match="missing field `name`"):
            ast.Name(span=Span(**SPAN))
        net_input = ir.NetInput(name="x", shape=(1, 8), span=Span(**SPAN))
        node = ir.Network(model="M", inputs=(net_input,),
                          body=ir.Sequence(span=Span(**SPAN), text="", name="", items=()))
        assert node.train == TrainConfig()  # default_factory honoured
        with pytest.raises(ValidationError):
            node.model = "N"  # still frozen
