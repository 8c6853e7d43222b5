"""The one home of window arithmetic (`cnndsl.ir.windows`) against PyTorch: the
output size of a convolution or a pooling, `ceil` included, on random arguments;
and its forms (value, formula text, symbolic offset, expression tree) agree."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from properties_chains import property_settings

from cnndsl.backends.pytorch.symbolic import Dim, _window
from cnndsl.ir import expr as E
from cnndsl.ir import windows


@st.composite
def geometry(draw, pool: bool = False):
    k = draw(st.integers(1, 7))
    d = draw(st.integers(1, 3))
    s = draw(st.integers(1, 5))
    limit = k // 2 if pool else 6   # PyTorch: pooling pads at most half its window
    p = draw(st.integers(0, limit))
    n = draw(st.integers(1, 40))
    return n, k, s, p, d


def _torch_size(run) -> int:
    try:
        return run().shape[-1]
    except RuntimeError:
        return 0   # PyTorch refuses an empty output: the size is below 1


@property_settings(300)
@given(geometry(), st.integers(0, 4))
def test_conv_size_is_pytorchs(args, extra):
    """Asymmetric padding too (as `same` pads): `p` before, `p + extra` after."""
    n, k, s, p, d = args
    x = F.pad(torch.zeros(1, 1, n), (p, p + extra))
    got = _torch_size(lambda: F.conv1d(x, torch.zeros(1, 1, k), stride=s, dilation=d))
    assert max(windows.size(n, k, s, p, p + extra, d), 0) == got


@property_settings(300)
@given(geometry(pool=True), st.booleans())
def test_max_pool_size_is_pytorchs(args, ceil):
    n, k, s, p, d = args
    x = torch.zeros(1, 1, n)
    got = _torch_size(lambda: F.max_pool1d(x, k, s, p, d, ceil_mode=ceil))
    assert max(windows.size(n, k, s, p, p, d, ceil), 0) == got
    text, value = windows.formula(n, k, s, p, d, ceil)
    assert value == windows.size(n, k, s, p, p, d, ceil)


@property_settings(300)
@given(geometry(pool=True), st.booleans())
def test_avg_pool_size_is_pytorchs(args, ceil):
    n, k, s, p, _ = args
    p = min(p, k // 2)
    x = torch.zeros(1, 1, n)
    got = _torch_size(lambda: F.avg_pool1d(x, k, s, p, ceil_mode=ceil))
    assert max(windows.size(n, k, s, p, p, 1, ceil), 0) == got


def _evaluate(text: str) -> int:
    """The formula as the user reads it, evaluated: ⌊x⌋, ⌈x⌉ and the operators."""
    py = (text.replace("−", "-").replace("·", "*").replace("⌊", "((").replace("⌋", ")//1)")
          .replace("⌈", "-((-").replace("⌉", ")//1)"))
    return eval(py)   # digits and operators only: the caller matched the text


@property_settings(300)
@given(geometry(), st.booleans(), st.booleans())
def test_the_formula_text_computes_its_value(args, ceil, spaced):
    n, k, s, p, d = args
    text, value = windows.formula(n, k, s, p, d, ceil and p <= k // 2, spaced)
    assert re.fullmatch(r"[\d+\-*/ ()·−⌊⌋⌈⌉]+", text)
    assert (" / " in text) == spaced
    assert int(_evaluate(text)) == value


def test_the_formula_reads_as_the_course_notes():
    assert windows.formula(28, 5, 1, 0, 1) == ("⌊(28 + 2·0 − 5)/1⌋ + 1", 24)
    assert windows.formula(28, 5, 1, 0, 1, spaced=True) == ("⌊(28 + 2·0 − 5) / 1⌋ + 1", 24)
    assert windows.formula(7, 3, 2, 1, 2) == ("⌊(7 + 2·1 − 2·(3 − 1) − 1)/2⌋ + 1", 3)
    assert windows.formula(5, 2, 2, 1, 1, ceil=True) == ("⌈(5 + 2·1 − 2)/2⌉ + 1 − 1", 3)


@property_settings(300)
@given(geometry(), st.integers(0, 3), st.booleans())
def test_the_symbolic_forms_agree_with_the_value(args, extra, ceil):
    """The `⌊(f·X + a)/m⌋` form and the expression tree give the numbers' size."""
    n, k, s, p, d = args
    if ceil and (extra or windows.can_drop_last(k, s, p, d)):
        ceil = False   # a pool pads both sides alike; the symbolic form refuses a drop
    expected = windows.size(n, k, s, p, p + extra, d, ceil)
    assert _window(Dim("H"), k, s, p, p + extra, d, ceil).value({"H": n}) == expected
    tree = windows.tree(E.Name("H"), E.Const(k), E.Const(s), E.Const(p), E.Const(d))
    assert E.evaluate(tree, {"H": n}) == windows.size(n, k, s, p, p, d)


def test_the_tree_reads_as_the_generated_code_writes_it():
    tree = windows.tree(E.Name("H"), E.Name("k"), E.Name("s"), E.Const(1), E.Const(1))
    assert E.python(tree) == "(H - k + 2) // s + 1"


@pytest.mark.parametrize("ceil", [False, True])
def test_a_composed_window_is_one_window(ceil):
    """⌊(⌊y/m⌋ + t)/s⌋ = ⌊(y + t·m)/(m·s)⌋: two strided windows compose exactly."""
    first = _window(Dim("H"), 3, 2, 1, 1, 1)
    second = _window(first, 2, 2, 0, 0, 1, ceil)
    for n in range(1, 50):
        middle = windows.size(n, 3, 2, 1, 1, 1)
        assert second.value({"H": n}) == windows.size(middle, 2, 2, 0, 0, 1, ceil)
