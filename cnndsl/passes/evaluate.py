"""Integer expressions: evaluate them, and render them back as Python text
over block parameters (for generated block classes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cnndsl import ir
from cnndsl.diagnostics import Diagnostic, error

#: A short flag: one letter and a literal number or size (`k5`, `s2`, `k3x5`).
FLAG = re.compile(r"^([a-z])([0-9]+(?:x[0-9]+)*)$")

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "//": 2}


@dataclass(frozen=True)
class Value:
    """An evaluated expression: its value, and its text in generated Python
    (a block parameter stays a name there; constants are folded)."""

    value: int | float | tuple[int, ...]
    text: str
    precedence: int = 3

    @property
    def symbolic(self) -> bool:
        return self.text != render_literal(self.value)


def render_literal(value: int | float | tuple[int, ...]) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return repr(value)


def literal(value: int | float | tuple[int, ...]) -> Value:
    return Value(value, render_literal(value))


Env = dict[str, Value]


def evaluate(expr: ir.Expr, env: Env, diagnostics: list[Diagnostic]) -> Value | None:
    """Evaluate `expr` in `env`; on failure append a diagnostic and return None."""
    if isinstance(expr, ir.Num):
        return literal(expr.value)
    if isinstance(expr, ir.SizeLit):
        return literal(expr.values)
    if isinstance(expr, ir.Ref):
        found = env.get(expr.name)
        if found is None:
            diagnostics.append(unknown_name(expr, env))
        return found
    left = evaluate(expr.left, env, diagnostics)
    right = evaluate(expr.right, env, diagnostics)
    if left is None or right is None:
        return None
    return _apply(expr, left, right, diagnostics)


def _apply(expr: ir.BinOp, left: Value, right: Value,
           diagnostics: list[Diagnostic]) -> Value | None:
    for side, node in ((left, expr.left), (right, expr.right)):
        if isinstance(side.value, tuple):
            diagnostics.append(error("E0402", "a size cannot take part in arithmetic",
                                     node.span, "this is a size",
                                     help="compute each number of the size on its own"))
            return None
    a, b = left.value, right.value
    if expr.op == "//" and b == 0:
        diagnostics.append(error("E0406", "division by zero", expr.right.span,
                                 "this is 0"))
        return None
    if expr.op == "//" and (isinstance(a, float) or isinstance(b, float)):
        diagnostics.append(error("E0402", "`//` takes whole numbers", expr.span,
                                 f"{a} // {b}"))
        return None
    value = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
             "//": lambda: a // b}[expr.op]()
    prec = _PRECEDENCE[expr.op]
    text = (f"{_wrap(left, prec, right_side=False)} {expr.op} "
            f"{_wrap(right, prec, right_side=True)}")
    if not (left.symbolic or right.symbolic):
        text = render_literal(value)
        prec = 3
    return Value(value, text, prec)


def _wrap(side: Value, prec: int, *, right_side: bool) -> str:
    if side.precedence < prec or (right_side and side.precedence == prec):
        return f"({side.text})"
    return side.text


def unknown_name(ref: ir.Ref, env: Env) -> Diagnostic:
    import difflib

    flag = FLAG.match(ref.name)
    if flag:
        return error("E0202", f"`{ref.name}` is a short flag, and flags take literal numbers",
                     ref.span, "a flag cannot take part in arithmetic",
                     help="to repeat a layer, group it: `(conv 8 k3) * 2`; "
                          "for a computed value, use the long form: `kernel=c*2`")
    close = difflib.get_close_matches(ref.name, list(env), n=1, cutoff=0.6)
    return error("E0202", f"unknown name `{ref.name}`", ref.span, "not a constant or parameter",
                 help=f"did you mean `{close[0]}`?" if close else
                 "define it with `let " + ref.name + " = ...` or make it a block parameter")
