"""Expressions: evaluate them exactly, and keep, beside each value, its tree
over block parameters and `in` (`cnndsl.ir.expr`) for generated block classes.

Arithmetic is exact: decimals are `fractions.Fraction`, never binary floats
(`0.1 * 3` is `3/10`), and a whole result is an `int` (`64 * 0.5` is `32`).
Every value is bounded: beyond `MAX_VALUE` in magnitude, or with a denominator
past `MAX_DENOMINATOR`, it is a located error, so no spec can make the checker
compute with huge numbers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from cnndsl.diagnostics.diagnostic import Diagnostic, error
from cnndsl.diagnostics.suggest import did_you_mean, offer
from cnndsl.front import syntax as ast
from cnndsl.ir import expr as E
from cnndsl.ir.layers import FLAG_LETTERS

#: The largest magnitude an expression may reach (about 1.1e12): far beyond any
#: size or count, far below what would make arithmetic slow.
MAX_VALUE = 2**40
#: The finest a value may be (60 decimal places): `1e-40 * 1e-40` is refused
#: rather than carried exactly through every later step.
MAX_DENOMINATOR = 10**60

Number = int | Fraction | tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Value:
    """An evaluated expression: its exact value, and its tree (`expr`) for
    generated Python (a block parameter stays a name there, `in` is `In`;
    constants are folded; None for a size). `value` is None when it depends on
    an input whose shape is unknown (after an error that was already reported)."""

    value: Number | None
    expr: E.Expr | None = None

    @property
    def symbolic(self) -> bool:
        return self.value is not None and self.expr is not None and \
            not isinstance(self.expr, E.Const)

    @property
    def known(self) -> bool:
        return self.value is not None


UNKNOWN = Value(None, None)


def literal(value: Number) -> Value:
    if isinstance(value, tuple):
        return Value(value, None)
    return Value(value, E.const(value))


def plain(value):
    """A value for the IR and for PyTorch: an `int`, a `float` (the nearest to an
    exact decimal), or a size."""
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


Env = dict[str, Value]

#: The key of `in` in an environment (a reserved word, so never a user's name).
IN = E.IN

_EXPONENT = re.compile(r"[eE]([-+]?[0-9]+)$")


def exact(num: ast.Num) -> int | Fraction:
    """The exact value of a number as written (`0.1` is 1/10). A decimal with an
    exponent past 400 either way is the float the parser read (0, or refused)."""
    if isinstance(num.value, int):
        return num.value
    found = _EXPONENT.search(num.text)
    if len(num.text) > 400 or (found and abs(int(found.group(1))) > 400) or \
            math.isinf(float(num.text)):   # past a float: as the parser read it (and refused)
        value = Fraction(num.value)
    else:
        value = Fraction(num.text)
    return int(value) if value.denominator == 1 else value


def evaluate(expr: ast.Expr, env: Env, diagnostics: list[Diagnostic], *,
             truth: bool | None = False) -> Value | None:
    """Evaluate `expr` in `env`; on failure append a diagnostic and return None.
    Returns UNKNOWN (no diagnostic) when the value depends on an unknown `in`.

    A truth value (a comparison, `and`, `or`, `not`) is for conditions: with
    `truth` True the value must be one (E0419), with False it must not be (E0418),
    with None (a constant, a block argument: held for a later `if`) either."""
    value = _eval(expr, env, diagnostics)
    if value is None or not value.known:
        return value
    if truth and not isinstance(value.value, bool):
        diagnostics.append(not_a_condition(expr, value.value))
        return None
    if truth is False and isinstance(value.value, bool):
        diagnostics.append(a_condition(expr))
        return None
    return value


def parts(expr: ast.Expr) -> tuple[ast.Expr, ...]:
    """The sub-expressions of `expr`."""
    if isinstance(expr, ast.BinOp):
        return (expr.left, expr.right)
    if isinstance(expr, ast.Unary):
        return (expr.operand,)
    if isinstance(expr, ast.Cond):
        return (expr.test, expr.then, expr.other)
    if isinstance(expr, ast.Call):
        return expr.args
    return ()


def a_condition(expr: ast.Expr) -> Diagnostic:
    return error("E0418", "a truth value is not a number", expr.span,
                 "this is a condition (true or false)",
                 help="use it in `if` or a conditional value: `2 if s > 1 else 1`")


def not_a_condition(expr: ast.Expr, value) -> Diagnostic:
    shown = "x".join(map(str, value)) if isinstance(value, tuple) else _show(value)
    return error("E0419", "a condition must be true or false", expr.span,
                 f"this is the number {shown}" if not isinstance(value, tuple)
                 else f"this is the size {shown}",
                 help="compare it: `s > 1`, `in != c`, `n % 2 == 0`")


def _eval(expr: ast.Expr, env: Env, diagnostics: list[Diagnostic]) -> Value | None:
    """One small rule per kind of expression node; an unknown kind is a bug here."""
    rule = _RULES.get(type(expr))
    if rule is None:
        raise TypeError(f"no rule evaluates a {type(expr).__name__}")
    return rule(expr, env, diagnostics)


def _num(expr: ast.Num, env: Env, diagnostics: list[Diagnostic]) -> Value:
    return literal(exact(expr))


def _size_lit(expr: ast.SizeLit, env: Env, diagnostics: list[Diagnostic]) -> Value:
    return literal(expr.values)


def _in_channels(expr: ast.InChannels, env: Env, diagnostics: list[Diagnostic]) -> Value | None:
    found = env.get(IN)
    if found is None:
        diagnostics.append(error("E0216", "`in` has no value here", expr.span,
                                 "`in` is the channel count entering a block or layer",
                                 help="use `in` in a block body or a layer's arguments; "
                                      "a `let` constant or a default cannot read it"))
    return found


def _name(expr: ast.Name | ast.Flag, env: Env, diagnostics: list[Diagnostic]) -> Value | None:
    found = env.get(expr.name)
    if found is None:
        diagnostics.append(unknown_name(expr, env))
    return found


def _cond(expr: ast.Cond, env: Env, diagnostics: list[Diagnostic]) -> Value | None:
    test = _eval(expr.test, env, diagnostics)
    if test is None or not test.known:
        return test
    if not isinstance(test.value, bool):
        diagnostics.append(not_a_condition(expr.test, test.value))
        return None
    return _eval(expr.then if test.value else expr.other, env, diagnostics)


def _unary(expr: ast.Unary, env: Env, diagnostics: list[Diagnostic]) -> Value | None:
    operand = _eval(expr.operand, env, diagnostics)
    if operand is None or not operand.known:
        return operand
    if expr.op == "not":
        if not isinstance(operand.value, bool):
            diagnostics.append(not_a_condition(expr.operand, operand.value))
            return None
        return literal(not operand.value)
    if isinstance(operand.value, bool):
        diagnostics.append(a_condition(expr.operand))
        return None
    if isinstance(operand.value, tuple):
        return literal(tuple(-v for v in operand.value))
    return Value(-operand.value, E.neg(operand.expr)) if operand.symbolic \
        else literal(-operand.value)


def _binary(expr: ast.BinOp, env: Env, diagnostics: list[Diagnostic]) -> Value | None:
    left = _eval(expr.left, env, diagnostics)
    right = _eval(expr.right, env, diagnostics)
    if left is None or right is None:
        return None
    if not (left.known and right.known):
        return UNKNOWN
    if expr.op in ("and", "or"):
        return _logic(expr, left, right, diagnostics)
    for side, node in ((left, expr.left), (right, expr.right)):
        if isinstance(side.value, bool):
            diagnostics.append(a_condition(node))
            return None
    if expr.op in E.COMPARISONS:
        return _compare(expr, left, right, diagnostics)
    return _apply(expr, left, right, diagnostics)


def _logic(expr: ast.BinOp, left: Value, right: Value,
           diagnostics: list[Diagnostic]) -> Value | None:
    for side, node in ((left, expr.left), (right, expr.right)):
        if not isinstance(side.value, bool):
            diagnostics.append(not_a_condition(node, side.value))
            return None
    return literal(left.value and right.value if expr.op == "and"
                   else left.value or right.value)


def _compare(expr: ast.BinOp, left: Value, right: Value,
             diagnostics: list[Diagnostic]) -> Value | None:
    a, b = left.value, right.value
    if isinstance(a, tuple) or isinstance(b, tuple):
        if expr.op in ("==", "!="):
            return literal((a == b) == (expr.op == "=="))
        node = expr.left if isinstance(a, tuple) else expr.right
        diagnostics.append(error("E0402", "sizes are compared only with `==` and `!=`",
                                 node.span, "this is a size",
                                 help="compare each number of the size on its own"))
        return None
    return literal(bool(E.evaluate(E.Compare(expr.op, E.const(a), E.const(b)), {})))


#: the functions of expressions: name -> (fewest, most arguments)
FUNCTIONS = {"min": (1, None), "max": (1, None), "round": (1, 1), "floor": (1, 1),
             "ceil": (1, 1), "divisible": (2, 2)}


def _call(expr: ast.Call, env: Env, diagnostics: list[Diagnostic]) -> Value | None:
    if expr.func not in FUNCTIONS:
        close = did_you_mean(expr.func, list(FUNCTIONS))
        listed = ", ".join(f"`{f}`" for f in FUNCTIONS)
        diagnostics.append(error("E0420", f"unknown function `{expr.func}`", expr.func_span,
                                 "not a function of expressions", notes=[f"functions: {listed}"],
                                 **offer(close, expr.func_span)))
        return None
    fewest, most = FUNCTIONS[expr.func]
    if len(expr.args) < fewest or (most is not None and len(expr.args) > most):
        wanted = {(1, None): "one or more arguments", (1, 1): "one argument",
                  (2, 2): "two arguments: `divisible(v, d)`"}[(fewest, most)]
        diagnostics.append(error("E0420", f"`{expr.func}` takes {wanted}", expr.span,
                                 f"given {len(expr.args)}"))
        return None
    values = []
    for arg in expr.args:
        value = _eval(arg, env, diagnostics)
        if value is None:
            return None
        if value.known and isinstance(value.value, bool):
            diagnostics.append(a_condition(arg))
            return None
        if value.known and isinstance(value.value, tuple):
            diagnostics.append(error("E0402", f"`{expr.func}` takes numbers, not sizes",
                                     arg.span, "this is a size"))
            return None
        values.append(value)
    if any(not v.known for v in values):
        return UNKNOWN
    numbers = [v.value for v in values]
    if expr.func == "divisible" and numbers[1] <= 0:
        diagnostics.append(error("E0404", "the divisor of `divisible` must be above 0",
                                 expr.args[1].span, f"got {_show(numbers[1])}"))
        return None
    result = E.evaluate(E.Call(expr.func, tuple(E.const(n) for n in numbers)), {})
    if not _in_bounds(result):
        diagnostics.append(error("E0408", "this value is too large", expr.span,
                                 f"beyond {MAX_VALUE:,} in magnitude"))
        return None
    # computed once per use: a generated block class holds the number, not the call
    return literal(result)


def _apply(expr: ast.BinOp, left: Value, right: Value,
           diagnostics: list[Diagnostic]) -> Value | None:
    if isinstance(left.value, tuple) or isinstance(right.value, tuple):
        return _per_dimension(expr, left.value, right.value, diagnostics)
    a, b = left.value, right.value
    if expr.op in ("//", "/", "%") and b == 0:
        diagnostics.append(error("E0406", "division by zero", expr.right.span, "this is 0"))
        return None
    value = E.evaluate(E.Binary(expr.op, E.const(a), E.const(b)), {})
    if not _in_bounds(value):
        diagnostics.append(_too_large(expr, a, b, value))
        return None
    if isinstance(value, Fraction) and value.denominator > MAX_DENOMINATOR:
        diagnostics.append(error("E0416", "this value is too precise to compute exactly",
                                 expr.span, f"{_show(a)} {expr.op} {_show(b)} has more than "
                                 "60 decimal places",
                                 help="round the numbers it is made of"))
        return None
    if not (left.symbolic or right.symbolic) or expr.op not in ("+", "-", "*", "//"):
        # `/` and `%` fold to their value: a generated block class holds the number
        return literal(value)
    # the tree as written (`4 * c` stays `4 * c`); the emitter folds what it combines
    return Value(value, E.Binary(expr.op, left.expr, right.expr))


def _per_dimension(expr: ast.BinOp, a, b, diagnostics: list[Diagnostic]) -> Value | None:
    """Arithmetic with a size, per dimension: a size and a number (`k // 2` of `1x7`
    is `0x3`), or two sizes of the same length (`k + 1x1`)."""
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) != len(b):
        diagnostics.append(error("E0402", "sizes of different lengths cannot be combined",
                                 expr.span, f"{_size(a)} {expr.op} {_size(b)}",
                                 help="arithmetic between sizes works per dimension"))
        return None
    n = len(a) if isinstance(a, tuple) else len(b)
    lefts = a if isinstance(a, tuple) else (a,) * n
    rights = b if isinstance(b, tuple) else (b,) * n
    out = []
    for x, y in zip(lefts, rights):
        part = _apply(expr, literal(x), literal(y), diagnostics)
        if part is None:
            return None
        out.append(part.value)
    return literal(tuple(out))


def _size(values) -> str:
    return "x".join(_show(v) for v in values)


def _show(value, digits: int = 6) -> str:
    """A number for a message: exact when short, else to `digits` figures (never
    through a float, which a large value would overflow)."""
    if isinstance(value, int) and abs(value) < 10**15:
        return str(value)
    if isinstance(value, Fraction) and E.decimal(value, 12) is not None:
        return E.decimal(value, 12)
    return format(Decimal(value.numerator) / Decimal(value.denominator), f".{digits}g")


def _in_bounds(value: int | Fraction) -> bool:
    return abs(value) <= MAX_VALUE


def _too_large(expr: ast.BinOp, a, b, value) -> Diagnostic:
    shown = _show(Fraction(value), 3) if isinstance(value, Fraction) else \
        format(Decimal(value), ".3e")
    return error("E0408", "this value is too large", expr.span,
                 f"{_show(a)} {expr.op} {_show(b)} = {shown}",
                 notes=[f"values in a spec are at most {MAX_VALUE:,} in magnitude"],
                 help="sizes, channels and counts are at most 2,147,483,647")


def unknown_name(ref: ast.Name | ast.Flag, env: Env) -> Diagnostic:
    if isinstance(ref, ast.Flag) and ref.letter in FLAG_LETTERS:
        return error("E0207", f"`{ref.name}` is a short flag, and flags take literal numbers",
                     ref.span, "a flag cannot take part in arithmetic",
                     help="to repeat a layer, group it: `(conv 8 k3) * 2`; "
                          "for a computed value, use the long form: `kernel=c*2`")
    close = did_you_mean(ref.name, env)
    return error("E0202", f"unknown name `{ref.name}`", ref.span, "not a constant or parameter",
                 **offer(close, ref.span, otherwise=f"define it with `let {ref.name} = ...` "
                         "or make it a block parameter"))


_RULES = {ast.Num: _num, ast.SizeLit: _size_lit, ast.InChannels: _in_channels,
          ast.Name: _name, ast.Flag: _name, ast.Cond: _cond,
          ast.Call: _call,
          ast.Unary: _unary, ast.BinOp: _binary}
