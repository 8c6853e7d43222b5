"""The expression tree (`cnndsl.ir.expr`): exact evaluation, Python rendering with the
fewest parentheses (checked by parsing the text back with Python's own `ast` and
evaluating it), `.cnn` rendering, free names, and folding that keeps trees small."""

from __future__ import annotations

import ast
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnndsl.ir import expr as E

NAMES = ("a", "b", "c")


def from_python(text: str) -> E.Expr:
    """Python source back into a tree: the inverse of `expr.python`."""
    return _node(ast.parse(text, mode="eval").body)


def _node(node: ast.AST) -> E.Expr:
    ops = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=",
           ast.Gt: ">", ast.GtE: ">=", ast.And: "and", ast.Or: "or"}
    if isinstance(node, ast.Constant):
        return E.Const(node.value if isinstance(node.value, (int, bool))
                       else Fraction(repr(node.value)))
    if isinstance(node, ast.Name):
        return E.In() if node.id == "in_channels" else E.Name(node.id)
    if isinstance(node, ast.UnaryOp):
        return E.Unary("not" if isinstance(node.op, ast.Not) else "-", _node(node.operand))
    if isinstance(node, ast.BinOp):
        return E.Binary(ops[type(node.op)], _node(node.left), _node(node.right))
    if isinstance(node, ast.BoolOp):
        out = _node(node.values[0])   # Python flattens `a and b and c`: left-nested
        for value in node.values[1:]:
            out = E.Binary(ops[type(node.op)], out, _node(value))
        return out
    if isinstance(node, ast.Compare):
        assert len(node.ops) == 1, "comparisons never chain"
        return E.Compare(ops[type(node.ops[0])], _node(node.left), _node(node.comparators[0]))
    if isinstance(node, ast.IfExp):
        return E.Cond(_node(node.test), _node(node.body), _node(node.orelse))
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func)
        func = {v: k for k, v in E.PYTHON_FUNCTIONS.items()}[name]
        return E.Call(func, tuple(_node(a) for a in node.args))
    raise AssertionError(f"unexpected {ast.dump(node)}")


# ---- trees as Hypothesis draws them ----------------------------------------------------

#: the numbers a spec can write: whole, or decimals (denominators of 2s and 5s)
numbers = st.one_of(st.integers(0, 50),
                    st.builds(Fraction, st.integers(1, 999),
                              st.sampled_from([2, 4, 5, 8, 10, 20, 25, 40, 100, 1000]))
                    .filter(lambda f: f.denominator != 1))
leaves = st.one_of(numbers.map(E.Const), st.sampled_from(NAMES).map(E.Name), st.just(E.In()))


def _compound(children):
    return st.one_of(
        st.builds(E.Unary, st.just("-"), children),
        st.builds(E.Binary, st.sampled_from(["+", "-", "*", "/", "//", "%"]), children, children),
        st.builds(E.Compare, st.sampled_from(E.COMPARISONS), children, children),
        st.builds(E.Cond, children, children, children),
        st.builds(E.Binary, st.sampled_from(["and", "or"]), children, children),
        st.builds(E.Unary, st.just("not"), children),
        st.builds(lambda f, a, b: E.Call(f, (a, b)), st.sampled_from(["min", "max"]),
                  children, children),
    )


trees = st.recursive(leaves, _compound, max_leaves=12)
envs = st.fixed_dictionaries({n: st.integers(-20, 20) for n in (*NAMES, E.IN)})


class _Exact(ast.NodeTransformer):
    """Every number literal read as a `Fraction`, so Python computes exactly too."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            return node
        return ast.Call(ast.Name("Fraction", ast.Load()), [ast.Constant(repr(node.value))], [])


def _python_value(text: str, env: dict) -> object:
    scope = {**{k: v for k, v in env.items() if k != E.IN}, "in_channels": env[E.IN],
             "math": math, "Fraction": Fraction}
    tree = ast.fix_missing_locations(_Exact().visit(ast.parse(text, mode="eval")))
    return eval(compile(tree, "<expr>", "eval"), scope)


def _value_or_error(tree: E.Expr, env: dict):
    try:
        return E.evaluate(tree, env)
    except (E.ExprError, ZeroDivisionError):
        return "error"


@settings(max_examples=300, deadline=None)
@given(tree=trees, env=envs)
def test_python_text_parses_back_to_the_same_tree_and_value(tree, env):
    text = E.python(tree)
    assert from_python(text) == tree, text
    ours = _value_or_error(tree, env)
    env_exact = {k: Fraction(v) for k, v in env.items()}
    try:
        theirs = _python_value(text, env_exact)
    except ZeroDivisionError:
        theirs = "error"
    assert ours == theirs, text


@settings(max_examples=200, deadline=None)
@given(tree=trees)
def test_no_parenthesis_can_be_removed(tree):
    """Minimal: dropping any one pair of parentheses changes the parse (or breaks it)."""
    text = E.python(tree)
    pairs, stack = [], []
    for i, char in enumerate(text):
        if char == "(":
            stack.append(i)
        elif char == ")":
            pairs.append((stack.pop(), i))
    for start, end in pairs:
        if text[:start].rstrip()[-3:].isidentifier() and text[start - 1] != " ":
            continue   # a call's own parentheses
        shorter = text[:start] + text[start + 1:end] + text[end + 1:]
        try:
            changed = from_python(shorter) != tree
        except (SyntaxError, AssertionError, KeyError):
            changed = True
        assert changed, f"{text!r}: the parentheses at {start} are not needed"


@settings(max_examples=200, deadline=None)
@given(tree=trees)
def test_names_are_the_free_names(tree):
    found = E.names(tree)
    text = E.python(tree)
    expected = {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
    assert {("in_channels" if n == E.IN else n) for n in found} == \
        expected - {"math", *E.PYTHON_FUNCTIONS.values()}


@settings(max_examples=200, deadline=None)
@given(a=trees, b=trees, env=envs)
def test_folding_constructors_keep_the_value(a, b, env):
    for op in ("+", "-", "*", "//"):
        plain = _value_or_error(E.Binary(op, a, b), env)
        if plain == "error" or isinstance(plain, bool):
            continue
        folded = _value_or_error(E.binary(op, a, b), env)
        assert folded == plain, (op, E.python(a), E.python(b))


def test_evaluation_is_exact():
    tenth = E.Const(Fraction(1, 10))
    assert E.evaluate(E.Binary("*", tenth, E.Const(3)), {}) == Fraction(3, 10)
    assert E.evaluate(E.Binary("*", E.Const(64), E.Const(Fraction(1, 2))), {}) == 32
    assert type(E.evaluate(E.Binary("*", E.Const(64), E.Const(Fraction(1, 2))), {})) is int
    assert E.evaluate(E.Binary("//", E.Const(Fraction(7, 2)), E.Const(Fraction(1, 2))), {}) == 7
    assert E.evaluate(E.Binary("%", E.Const(7), E.Const(-3)), {}) == 7 % -3
    assert E.evaluate(E.Call("divisible", (E.Const(Fraction(75, 2)), E.Const(8))), {}) == 40
    assert E.evaluate(E.Call("round", (E.Const(Fraction(5, 2)),)), {}) == 2
    with pytest.raises(E.ExprError):
        E.evaluate(E.Binary("//", E.In(), E.Const(0)), {E.IN: 4})
    with pytest.raises(E.ExprError):
        E.evaluate(E.Name("k"), {})
    with pytest.raises(TypeError):
        E.Const(0.1)


@pytest.mark.parametrize("value, text", [
    (Fraction(3, 40), "0.075"), (Fraction(3, 10), "0.3"), (Fraction(-3, 2), "-1.5"),
    (Fraction(1, 100000), "1e-05"), (Fraction(3, 20000), "0.00015"),
    (Fraction(123456789, 1000), "123456.789"), (Fraction(1, 3), "(1 / 3)"), (Fraction(8, 4), "2"),
])
def test_numbers_render_as_the_shortest_exact_decimal(value, text):
    assert E.python(E.Const(value)) == text
    assert value.denominator % 3 == 0 or Fraction(text) == value


def test_python_and_cnn_renderings():
    tree = E.Binary("-", E.In(), E.Binary("*", E.Name("c"), E.Const(Fraction(1, 2))))
    assert E.python(tree) == "in_channels - c * 0.5"
    assert E.cnn(tree) == "in - c * 0.5"
    assert E.python(E.Binary("-", E.Name("a"), E.Binary("-", E.Name("b"), E.Name("c")))) \
        == "a - (b - c)"
    assert E.python(E.Binary("*", E.Binary("+", E.Name("a"), E.Const(1)), E.Name("b"))) \
        == "(a + 1) * b"
    assert E.python(E.Call("floor", (E.Name("a"),))) == "math.floor(a)"
    assert E.cnn(E.Call("floor", (E.Name("a"),))) == "floor(a)"
    assert E.python(E.Cond(E.Compare("<", E.Name("a"), E.Const(2)), E.Const(1), E.Const(2))) \
        == "1 if a < 2 else 2"
    assert E.names(tree) == {E.IN, "c"}


def test_like_terms_are_collected_so_doubling_stays_small():
    """A chain of 40 `concat(identity, identity)` doubles the channels 40 times:
    one term, not 2**40 copies of `in_channels`."""
    x: E.Expr = E.In()
    for _ in range(40):
        x = E.total([x, x])
    assert E.python(x) == f"in_channels * {2**40}"
    part: E.Expr = E.In()
    for _ in range(40):
        part = E.floordiv(part, E.Const(2))
    assert E.python(part) == f"in_channels // {2**40}"
    assert E.python(E.total([E.Name("c"), E.In(), E.Const(3), E.Name("c"), E.Const(-3)])) \
        == "c * 2 + in_channels"
    assert E.size(x, 10) == 3


def test_substitute_folds():
    body = E.total([E.mul(E.Name("c"), E.Const(4)), E.In()])
    assert E.python(E.substitute(body, {"c": E.Const(8), E.IN: E.Const(3)})) == "35"
    assert E.python(E.substitute(body, {"c": E.Name("w")})) == "w * 4 + in_channels"


# ---- exact numbers through the checker and the emitter ----------------------------------

def _first_layer(text: str):
    import cnndsl

    result = cnndsl.check(text)
    assert result.ok, result
    return result.network.body.items[0]


def test_a_whole_value_is_an_integer_where_one_is_needed():
    conv = _first_layer("input 3x8x8\nconv 64*0.5 k3\n")
    assert conv.out == 32 and type(conv.out) is int
    assert _first_layer("input 3x8x8\nconv 3.0 k3\n").out == 3


def test_floor_division_works_on_decimals():
    assert _first_layer("input 3x8x8\nmaxpool 5.5 // 2\n").kernel == 2
    assert _first_layer("input 3x8x8\nconv 8 k3 s(7.5 // 2.5)\n".replace("s(7.5 // 2.5)",
                                                                       "stride=7.5 // 2.5")
                        ).stride == 3


def test_decimal_arithmetic_is_exact_in_the_generated_code():
    import cnndsl

    code = cnndsl.compile("input 3x8x8\nlet r = 0.1\nconv 8 k3 -> dropout r * 3 -> "
                          "leakyrelu 0.025 * 3\n")
    assert "p=0.3)" in code and "0.30000000000000004" not in code
    assert "negative_slope=0.075)" in code
    block = cnndsl.compile("input 8x8x8\nblock B(p) { droppath p }\nB(0.0125 * 6)\n")
    assert "B(8, p=0.075)" in block, block
