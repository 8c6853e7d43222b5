"""Expressions: evaluate them exactly, and keep, beside each value, its tree
over block parameters and `in` (`cnndsl.expr`) for generated block classes.

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

from cnndsl import expr as E
from cnndsl import syntax as ast
from cnndsl.diagnostics import Diagnostic, error
from cnndsl.layers import FLAG_LETTERS
from cnndsl.suggest import did_you_mean, offer

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


def evaluate(expr: ast.Expr, env: Env, diagnostics: list[Diagnostic]) -> Value | None:
    """Evaluate `expr` in `env`; on failure append a diagnostic and return None.
    Returns UNKNOWN (no diagnostic) when the value depends on an unknown `in`."""
    if isinstance(expr, ast.Num):
        return literal(exact(expr))
    if isinstance(expr, ast.SizeLit):
        return literal(expr.values)
    if isinstance(expr, ast.InChannels):
        found = env.get(IN)
        if found is None:
            diagnostics.append(error("E0216", "`in` has no value here", expr.span,
                                     "`in` is the channel count entering a block or layer",
                                     help="use `in` in a block body or a layer's arguments; "
                                          "a `let` constant or a default cannot read it"))
        return found
    if isinstance(expr, (ast.Name, ast.Flag)):
        found = env.get(expr.name)
        if found is None:
            diagnostics.append(unknown_name(expr, env))
        return found
    left = evaluate(expr.left, env, diagnostics)
    right = evaluate(expr.right, env, diagnostics)
    if left is None or right is None:
        return None
    if not (left.known and right.known):
        return UNKNOWN
    return _apply(expr, left, right, diagnostics)


def _apply(expr: ast.BinOp, left: Value, right: Value,
           diagnostics: list[Diagnostic]) -> Value | None:
    for side, node in ((left, expr.left), (right, expr.right)):
        if isinstance(side.value, tuple):
            diagnostics.append(error("E0402", "a size cannot take part in arithmetic",
                                     node.span, "this is a size",
                                     help="compute each number of the size on its own"))
            return None
    a, b = left.value, right.value
    if expr.op == "//" and b == 0:
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
    if not (left.symbolic or right.symbolic):
        return literal(value)
    # the tree as written (`4 * c` stays `4 * c`); the emitter folds what it combines
    return Value(value, E.Binary(expr.op, left.expr, right.expr))


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
