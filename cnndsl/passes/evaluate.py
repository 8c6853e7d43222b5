"""Expressions: evaluate them, and render them back as Python text over block
parameters and `in_channels` (for generated block classes).

Every value is bounded: an integer beyond `MAX_VALUE` or a non-finite float is a
located error, so no spec can make the checker compute with huge numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cnndsl import syntax as ast
from cnndsl.diagnostics import Diagnostic, error
from cnndsl.layers import FLAG_LETTERS
from cnndsl.suggest import did_you_mean, offer

#: The largest magnitude an expression may reach (about 1.1e12): far beyond any
#: size or count, far below what would make arithmetic slow.
MAX_VALUE = 2**40

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "//": 2}

Number = int | float | tuple[int, ...]


@dataclass(frozen=True)
class Value:
    """An evaluated expression: its value, and its text in generated Python
    (a block parameter stays a name there, `in` is `in_channels`; constants
    are folded). `value` is None when it depends on an input whose shape is
    unknown (after an error that was already reported)."""

    value: Number | None
    text: str
    precedence: int = 3

    @property
    def symbolic(self) -> bool:
        return self.value is not None and self.text != render_literal(self.value)

    @property
    def known(self) -> bool:
        return self.value is not None


UNKNOWN = Value(None, "?")


def render_literal(value: Number) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return repr(value)


def literal(value: Number) -> Value:
    return Value(value, render_literal(value))


Env = dict[str, Value]

#: The key of `in` in an environment (a reserved word, so never a user's name).
IN = "in"


def evaluate(expr: ast.Expr, env: Env, diagnostics: list[Diagnostic]) -> Value | None:
    """Evaluate `expr` in `env`; on failure append a diagnostic and return None.
    Returns UNKNOWN (no diagnostic) when the value depends on an unknown `in`."""
    if isinstance(expr, ast.Num):
        return literal(expr.value)
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
    if expr.op == "//" and (isinstance(a, float) or isinstance(b, float)):
        diagnostics.append(error("E0402", "`//` takes whole numbers", expr.span,
                                 f"{a} // {b}"))
        return None
    value = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
             "//": lambda: a // b}[expr.op]()
    if not _in_bounds(value):
        diagnostics.append(_too_large(expr, a, b, value))
        return None
    prec = _PRECEDENCE[expr.op]
    text = (f"{_wrap(left, prec, right_side=False)} {expr.op} "
            f"{_wrap(right, prec, right_side=True)}")
    if not (left.symbolic or right.symbolic):
        return literal(value)
    return Value(value, text, prec)


def _in_bounds(value: int | float) -> bool:
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return abs(value) <= MAX_VALUE


def _too_large(expr: ast.BinOp, a, b, value) -> Diagnostic:
    shown = "too large to represent" if isinstance(value, float) and not math.isfinite(value) \
        else f"{value:.3g}" if isinstance(value, float) else f"{value:.3e}"
    return error("E0408", "this value is too large", expr.span, f"{a} {expr.op} {b} = {shown}",
                 notes=[f"values in a spec are at most {MAX_VALUE:,} in magnitude"],
                 help="sizes, channels and counts are at most 2,147,483,647")


def _wrap(side: Value, prec: int, *, right_side: bool) -> str:
    if side.precedence < prec or (right_side and side.precedence == prec):
        return f"({side.text})"
    return side.text


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
