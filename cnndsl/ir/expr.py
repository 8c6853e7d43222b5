"""Symbolic values: a small expression tree over exact numbers.

A value in a block class depends on the block's parameters and on `in`, the
channels entering it; it travels through the compiler as a tree, never as
Python text (sqlglot's `exp.Expression`, in miniature). One tree:

- evaluates exactly (`evaluate`: integers and `fractions.Fraction`, never a float),
- renders as Python with the fewest parentheses (`python`: `in` is `in_channels`),
- renders as `.cnn` (`cnn`: for the formatter and importers),
- lists its free names (`names`: block parameters, and `in`).

Numbers are exact: `Const(Fraction(3, 40))` renders as `0.075`, the shortest
decimal that is exactly the value. The constructors `add`, `sub`, `mul`,
`floordiv` and `total` fold constants and collect like terms (`in + in` is
`2 * in`), so chains of merges and splits keep a tree whose size grows with the
spec, not with 2 to the power of its depth.

>>> python(add(mul(Name("c"), Const(4)), In()))
'c * 4 + in_channels'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction

from cnndsl.ir.nodeclass import node

Number = int | Fraction

#: the free name `in` stands for (a reserved word of the language, never a parameter's)
IN = "in"


class ExprError(ValueError):
    """An expression cannot be evaluated: an unknown name, division by zero."""


# ---- nodes ------------------------------------------------------------------------------

@node(kw_only=False)
class Const:
    """An exact number: an `int`, or a `Fraction` that is not whole."""

    value: Number | bool

    def __post_init__(self) -> None:
        if isinstance(self.value, float):
            raise TypeError("Const holds exact numbers: pass a Fraction, not a float")
        if isinstance(self.value, Fraction) and self.value.denominator == 1:
            object.__setattr__(self, "value", int(self.value.numerator))


@node(kw_only=False)
class Name:
    """A block parameter (or, before folding, a constant)."""

    name: str


@node(kw_only=False)
class In:
    """`in`: the channel count entering the block use (`in_channels` in Python)."""


@node(kw_only=False)
class Unary:
    op: str            # "-" or "not"
    operand: Expr


@node(kw_only=False)
class Binary:
    op: str            # + - * / // % and or
    left: Expr
    right: Expr


@node(kw_only=False)
class Compare:
    op: str            # == != < <= > >=
    left: Expr
    right: Expr


@node(kw_only=False)
class Cond:
    """`then if test else other`."""

    test: Expr
    then: Expr
    other: Expr


@node(kw_only=False)
class Call:
    """`min(a, b)`, `max`, `round`, `floor`, `ceil`, `divisible(v, d)`."""

    func: str
    args: tuple[Expr, ...]


Expr = Const | Name | In | Unary | Binary | Compare | Cond | Call

# ---- precedence (Python's, which the language shares) --------------------------------

_COND, _OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _ATOM = range(1, 10)
_BINARY = {"or": _OR, "and": _AND, "+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "//": _MUL,
           "%": _MUL}
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def precedence(expr: Expr) -> int:
    """How tightly `expr` binds when rendered: a node of lower precedence than its
    context is parenthesised."""
    if isinstance(expr, Binary):
        return _BINARY[expr.op]
    if isinstance(expr, Unary):
        return _NOT if expr.op == "not" else _NEG
    if isinstance(expr, Compare):
        return _CMP
    if isinstance(expr, Cond):
        return _COND
    if isinstance(expr, Const) and not isinstance(expr.value, bool) and expr.value < 0:
        return _NEG
    return _ATOM


# ---- evaluation --------------------------------------------------------------------------

def _floor_div(a: Number, b: Number) -> int:
    if b == 0:
        raise ExprError("division by zero")
    return math.floor(Fraction(a) / Fraction(b))


def _divide(a: Number, b: Number) -> Number:
    if b == 0:
        raise ExprError("division by zero")
    return _exact(Fraction(a) / Fraction(b))


def _modulo(a: Number, b: Number) -> Number:
    return _exact(a - b * _floor_div(a, b))


_OPERATORS: dict[str, Callable[[Number, Number], Number | bool]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": _divide, "//": _floor_div, "%": _modulo,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def divisible(v: Number, d: Number) -> Number:
    """torchvision's `_make_divisible`, exactly: `divisible(37.5, 8)` is 40."""
    new = max(d, math.floor(v + Fraction(d) / 2) // d * d)
    return _exact(new + d if new < Fraction(9, 10) * v else new)


FUNCTIONS: dict[str, Callable[..., Number]] = {
    "min": min, "max": max, "round": round, "floor": math.floor, "ceil": math.ceil,
    "divisible": divisible,
}
#: how a call is written in generated Python (`floor` and `ceil` need `import math`)
PYTHON_FUNCTIONS = {"min": "min", "max": "max", "round": "round", "floor": "math.floor",
                    "ceil": "math.ceil", "divisible": "divisible"}


def _exact(value):
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value.numerator)
    return value


def evaluate(expr: Expr, env: Mapping[str, Number]) -> Number | bool:
    """The exact value of `expr`, its names read from `env` (`in` under `IN`).

    >>> evaluate(Binary("*", Const(Fraction(1, 10)), Const(3)), {})
    Fraction(3, 10)
    """
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, (Name, In)):
        key = IN if isinstance(expr, In) else expr.name
        if key not in env:
            raise ExprError(f"unknown name `{key}`")
        return _exact(env[key])
    if isinstance(expr, Unary):
        value = evaluate(expr.operand, env)
        return (not value) if expr.op == "not" else -value
    if isinstance(expr, Binary) and expr.op in ("and", "or"):
        left = evaluate(expr.left, env)
        if bool(left) == (expr.op == "or"):
            return left
        return evaluate(expr.right, env)
    if isinstance(expr, (Binary, Compare)):
        return _exact(_OPERATORS[expr.op](evaluate(expr.left, env), evaluate(expr.right, env)))
    if isinstance(expr, Cond):
        return evaluate(expr.then if evaluate(expr.test, env) else expr.other, env)
    if isinstance(expr, Call):
        return _exact(FUNCTIONS[expr.func](*(evaluate(a, env) for a in expr.args)))
    raise TypeError(f"not an expression: {type(expr).__name__}")


# ---- free names --------------------------------------------------------------------------

def children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, Unary):
        return (expr.operand,)
    if isinstance(expr, (Binary, Compare)):
        return (expr.left, expr.right)
    if isinstance(expr, Cond):
        return (expr.test, expr.then, expr.other)
    if isinstance(expr, Call):
        return expr.args
    return ()


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of `expr`, parents first (iterative: any depth)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def names(expr: Expr) -> frozenset[str]:
    """The free names of `expr`: block parameters, and `in` (as `IN`)."""
    return frozenset(IN if isinstance(n, In) else n.name
                     for n in walk(expr) if isinstance(n, (Name, In)))


def size(expr: Expr, limit: int) -> int:
    """The number of nodes of `expr`, counting no further than `limit` (shared
    subtrees count once per use, as rendering writes them)."""
    count = 0
    for _ in walk(expr):
        count += 1
        if count >= limit:
            break
    return count


def substitute(expr: Expr, values: Mapping[str, Expr]) -> Expr:
    """`expr` with names (and `in`, under `IN`) replaced, folded again.

    >>> python(substitute(Binary("*", Name("c"), Const(2)), {"c": Const(8)}))
    '16'
    """
    if isinstance(expr, (Name, In)):
        return values.get(IN if isinstance(expr, In) else expr.name, expr)
    if isinstance(expr, Binary) and expr.op in _BUILD:
        return _BUILD[expr.op](substitute(expr.left, values), substitute(expr.right, values))
    parts = tuple(substitute(c, values) for c in children(expr))
    if not parts:
        return expr
    if isinstance(expr, Unary):
        return neg(parts[0]) if expr.op == "-" else Unary(expr.op, parts[0])
    if isinstance(expr, Binary):
        return Binary(expr.op, *parts)
    if isinstance(expr, Compare):
        return Compare(expr.op, *parts)
    if isinstance(expr, Cond):
        return Cond(*parts)
    return Call(expr.func, parts)


# ---- building, folded -------------------------------------------------------------------

def const(value: Number) -> Const:
    return Const(_exact(value))


def _terms(expr: Expr) -> tuple[dict[Expr, Number], Number]:
    """`expr` as a linear combination: {term: coefficient} and a constant."""
    if isinstance(expr, Const) and not isinstance(expr.value, bool):
        return {}, expr.value
    if isinstance(expr, Binary) and expr.op in ("+", "-"):
        left, a = _terms(expr.left)
        right, b = _terms(expr.right)
        sign = 1 if expr.op == "+" else -1
        for term, coef in right.items():
            left[term] = left.get(term, 0) + sign * coef
        return left, a + sign * b
    if isinstance(expr, Binary) and expr.op == "*" and isinstance(expr.left, Const):
        inner, c = _terms(expr.right)
        k = expr.left.value
        return {t: k * v for t, v in inner.items()}, k * c
    if isinstance(expr, Binary) and expr.op == "*" and isinstance(expr.right, Const):
        inner, c = _terms(expr.left)
        k = expr.right.value
        return {t: k * v for t, v in inner.items()}, k * c
    if isinstance(expr, Unary) and expr.op == "-":
        inner, c = _terms(expr.operand)
        return {t: -v for t, v in inner.items()}, -c
    return {expr: 1}, 0


def _scaled(term: Expr, coef: Number) -> Expr:
    if coef == 1:
        return term
    if coef == -1:
        return Unary("-", term)
    return Binary("*", term, const(coef))


def _combination(terms: dict[Expr, Number], constant: Number) -> Expr:
    """A linear combination written out: `c * 4 + in_channels - 2`, terms in the
    order they first appeared."""
    out: Expr | None = None
    for term, coef in terms.items():
        if coef == 0:
            continue
        if out is None:
            out = _scaled(term, coef)
        elif coef < 0:
            out = Binary("-", out, _scaled(term, -coef))
        else:
            out = Binary("+", out, _scaled(term, coef))
    if out is None:
        return const(constant)
    if constant > 0:
        return Binary("+", out, const(constant))
    if constant < 0:
        return Binary("-", out, const(-constant))
    return out


def total(parts: list[Expr]) -> Expr:
    """The sum of `parts`, like terms collected (`[in, in, 8]` is `2 * in + 8`)."""
    terms: dict[Expr, Number] = {}
    constant: Number = 0
    for part in parts:
        found, c = _terms(part)
        constant += c
        for term, coef in found.items():
            terms[term] = terms.get(term, 0) + coef
    return _combination(terms, constant)


def add(a: Expr, b: Expr) -> Expr:
    return total([a, b])


def sub(a: Expr, b: Expr) -> Expr:
    return total([a, neg(b)])


def neg(a: Expr) -> Expr:
    if isinstance(a, Const):
        return const(-a.value)
    return _combination(*_negated(_terms(a)))


def _negated(found: tuple[dict[Expr, Number], Number]) -> tuple[dict[Expr, Number], Number]:
    terms, c = found
    return {t: -v for t, v in terms.items()}, -c


def mul(a: Expr, b: Expr) -> Expr:
    if isinstance(a, Const) and isinstance(b, Const):
        return const(a.value * b.value)
    if isinstance(b, Const) or isinstance(a, Const):
        k, other = (b.value, a) if isinstance(b, Const) else (a.value, b)
        if k == 0:
            return Const(0)
        if k == 1:
            return other
        terms, c = _terms(other)
        if len(terms) == 1 and c == 0:
            ((term, coef),) = terms.items()
            return _scaled(term, coef * k)
        return Binary("*", other, const(k))
    return Binary("*", a, b)


def floordiv(a: Expr, b: Expr) -> Expr:
    """`a // b`; `(x // m) // n` of positive whole m, n is `x // (m * n)`."""
    if isinstance(a, Const) and isinstance(b, Const):
        return const(_floor_div(a.value, b.value))
    if isinstance(b, Const) and b.value == 1 and _whole(a):
        return a
    if isinstance(b, Const) and isinstance(a, Binary) and a.op == "//" and \
            isinstance(a.right, Const) and _positive_int(a.right.value) and \
            _positive_int(b.value):
        return Binary("//", a.left, const(a.right.value * b.value))
    return Binary("//", a, b)


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _whole(expr: Expr) -> bool:
    """True where `expr` is an integer whenever its names are (channels and sizes are)."""
    if isinstance(expr, Binary) and expr.op in ("+", "-", "*"):
        return _whole(expr.left) and _whole(expr.right)
    if isinstance(expr, Unary) and expr.op == "-":
        return _whole(expr.operand)
    return isinstance(expr, (In, Name)) or (isinstance(expr, Binary) and expr.op == "//") or \
        (isinstance(expr, Const) and isinstance(expr.value, int))


_BUILD: dict[str, Callable[[Expr, Expr], Expr]] = {"+": add, "-": sub, "*": mul, "//": floordiv}


def binary(op: str, a: Expr, b: Expr) -> Expr:
    """`a op b`, folded where both sides are constants."""
    if op in _BUILD:
        return _BUILD[op](a, b)
    if isinstance(a, Const) and isinstance(b, Const):
        return const(_OPERATORS[op](a.value, b.value))
    return (Compare if op in COMPARISONS else Binary)(op, a, b)


# ---- rendering ---------------------------------------------------------------------------

def decimal(value: Fraction, digits: int = 40) -> str | None:
    """The shortest decimal that is exactly `value` (`3/40` is `0.075`), written as
    Python writes floats (`1e-05` below 1e-4); None when there is none of at most
    `digits` significant digits (`1/3`)."""
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    places = max(twos, fives)
    if den != 1 or places > 400:
        return None
    scaled = abs(value.numerator) * 10**places // value.denominator
    text = str(scaled)
    if len(text.rstrip("0")) > digits:
        return None
    sign = "-" if value < 0 else ""
    exponent = len(text) - places - 1
    if places and exponent < -4:
        mantissa = text.rstrip("0")
        body = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
        return f"{sign}{body}e-{-exponent:02d}"
    if not places:
        return sign + text
    text = text.rjust(places + 1, "0")
    return f"{sign}{text[:-places]}.{text[-places:]}"


def _number(value: Number | bool) -> str:
    if isinstance(value, bool) or isinstance(value, int):
        return repr(value)
    shown = decimal(value)
    if shown is not None:
        return shown
    return f"{value.numerator} / {value.denominator}"


class _Renderer:
    """Writes a tree as text in one dialect; one small method per node kind."""

    in_name = "in_channels"
    functions = PYTHON_FUNCTIONS
    true_false = ("True", "False")

    def render(self, expr: Expr) -> str:
        method = getattr(self, "_" + type(expr).__name__.lower(), None)
        if method is None:
            raise TypeError(f"cannot render {type(expr).__name__}")
        return method(expr)

    def _wrap(self, expr: Expr, lowest: int) -> str:
        text = self.render(expr)
        return f"({text})" if precedence(expr) < lowest else text

    def _const(self, expr: Const) -> str:
        if isinstance(expr.value, bool):
            return self.true_false[0] if expr.value else self.true_false[1]
        text = _number(expr.value)
        if isinstance(expr.value, Fraction) and decimal(expr.value) is None:
            return f"({text})"
        return text

    def _name(self, expr: Name) -> str:
        return expr.name

    def _in(self, expr: In) -> str:
        return self.in_name

    def _unary(self, expr: Unary) -> str:
        if expr.op == "not":
            return f"not {self._wrap(expr.operand, _NOT)}"
        return f"-{self._wrap(expr.operand, _NEG)}"

    def _binary(self, expr: Binary) -> str:
        prec = _BINARY[expr.op]
        # left-associative: the right side needs parentheses at the same level
        return f"{self._wrap(expr.left, prec)} {expr.op} {self._wrap(expr.right, prec + 1)}"

    def _compare(self, expr: Compare) -> str:
        # comparisons chain in Python (`a < b < c`): parenthesise a comparison operand
        return f"{self._wrap(expr.left, _CMP + 1)} {expr.op} {self._wrap(expr.right, _CMP + 1)}"

    def _cond(self, expr: Cond) -> str:
        return (f"{self._wrap(expr.then, _COND + 1)} if {self._wrap(expr.test, _COND + 1)} "
                f"else {self._wrap(expr.other, _COND)}")

    def _call(self, expr: Call) -> str:
        args = ", ".join(self._wrap(a, _COND) for a in expr.args)
        return f"{self.functions[expr.func]}({args})"


class _Cnn(_Renderer):
    in_name = "in"
    functions = {name: name for name in FUNCTIONS}
    true_false = ("1 == 1", "1 == 0")

    def _const(self, expr: Const) -> str:
        if isinstance(expr.value, bool):
            return f"({super()._const(expr)})"
        return super()._const(expr)


_PYTHON = _Renderer()
_CNN = _Cnn()


def python(expr: Expr) -> str:
    """`expr` as Python source, with the fewest parentheses that keep its meaning."""
    return _PYTHON.render(expr)


def cnn(expr: Expr) -> str:
    """`expr` as `.cnn` source (`in` for the channels entering a block)."""
    return _CNN.render(expr)
