"""Sliding windows (convolution and pooling): the one home of their arithmetic.

PyTorch's output size along one axis is `⌊(n + p₀ + p₁ − d·(k − 1) − 1)/s⌋ + 1`
(the ceiling in `ceil` mode, less a last window that would start in the
padding). `terms` writes that numerator once, over any algebra: plain integers
for the checker (`size`), expression trees (`cnndsl.ir.expr`) for the generated
code's shape comments (`tree`), and the constant `offset` the symbolic
`⌊(f·X + a)/m⌋` form needs. `formula` gives the value with its text, as the
diagnostics and `cnndsl query` print it: `⌊(28 + 2·0 − 5)/1⌋ + 1 = 24`.
"""

from __future__ import annotations

from cnndsl.ir import expr as E


def per_axis(value, rank: int) -> tuple:
    """One value per spatial axis, from a number or a per-axis sequence."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank


def same_padding(kernel, dilation) -> tuple[tuple[int, int], ...]:
    """PyTorch's `padding="same"` per axis as (before, after): the odd unit after."""
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                 for k, d in zip(kernel, dilation))


def terms(n, k, s, pad, d, one, ceil: bool = False) -> list:
    """The numerator of the output size, `n + pad − d·(k − 1) − 1` (`+ s − 1` for the
    ceiling), as terms of whatever algebra `n`, `k`, ... and `one` belong to."""
    found = [n, pad, -(d * (k - one)), -one]
    return found + [s - one] if ceil else found


def size(n: int, k: int, s: int, p0: int, p1: int, d: int, ceil: bool = False) -> int:
    """The output size along one axis, as PyTorch computes it (may be below 1)."""
    out = sum(terms(n, k, s, p0 + p1, d, 1, ceil)) // s + 1
    if ceil and out >= 1 and (out - 1) * s >= n + p0:
        out -= 1   # PyTorch drops a last window that would start in the padding
    return out


def last_window_dropped(n: int, k: int, s: int, p: int, d: int) -> bool:
    """True when `ceil` mode's last window would start in the padding (PyTorch drops it)."""
    out = sum(terms(n, k, s, 2 * p, d, 1, ceil=True)) // s + 1
    return out >= 1 and (out - 1) * s >= n + p


def offset(k: int, s: int, p0: int, p1: int, d: int, ceil: bool = False) -> int:
    """The `t` of `out = ⌊(n + t)/s⌋` (`+ 1` folded in): the terms without `n`."""
    return sum(terms(0, k, s, p0 + p1, d, 1, ceil)) + s


def tree(n: E.Expr, k: E.Expr, s: E.Expr, p: E.Expr, d: E.Expr) -> E.Expr:
    """The output size as an expression tree, padding `p` on both sides:
    `(H + p * 2 - d * (k - 1) - 1) // s + 1` (no `ceil`: its drop has no tree)."""
    one = E.Const(1)
    parts = terms(_Tree(n), _Tree(k), _Tree(s), _Tree(E.mul(p, E.Const(2))), _Tree(d),
                  _Tree(one))
    return E.add(E.floordiv(E.total([part.expr for part in parts]), s), one)


def can_drop_last(k: int, s: int, p: int, d: int) -> bool:
    """Whether `ceil` mode may drop a last window for some input size: when a window
    can start in the padding (`p + s > d·(k − 1) + 1`)."""
    return p + s > d * (k - 1) + 1


def formula(n: int, k: int, s: int, p: int, d: int, ceil: bool = False,
            spaced: bool = False) -> tuple[str, int]:
    """`("⌊(28 + 2·0 − 5)/1⌋ + 1", 24)`: the size with its arithmetic, `p` on both
    sides. `spaced` writes the division as the diagnostics do, `⌊(…) / 1⌋`."""
    reach = f"{k}" if d == 1 else f"{d}·({k} − 1) − 1"
    slash = " / " if spaced else "/"
    inner = f"({n} + 2·{p} − {reach}){slash}{s}"
    if not ceil:
        return f"⌊{inner}⌋ + 1", size(n, k, s, p, p, d)
    if last_window_dropped(n, k, s, p, d):
        return f"⌈{inner}⌉ + 1 − 1", size(n, k, s, p, p, d, ceil=True)
    return f"⌈{inner}⌉ + 1", size(n, k, s, p, p, d, ceil=True)


def same_size(n: int, k: int, d: int) -> tuple[str, int]:
    """`same` at stride 1: PyTorch pads `d·(k−1)` in all (split over both sides),
    so `⌊(n + d·(k−1) − d·(k−1) − 1)/1⌋ + 1 = n`."""
    padded = d * (k - 1)
    return f"⌊({n} + {padded} − {d}·({k} − 1) − 1)/1⌋ + 1", n


class _Tree:
    """An expression tree with `+`, `-`, `*` (and unary `-`), so that `terms` reads
    the same on trees as on numbers."""

    __slots__ = ("expr",)

    def __init__(self, expr: E.Expr) -> None:
        self.expr = expr

    def __sub__(self, other: _Tree) -> _Tree:
        return _Tree(E.sub(self.expr, other.expr))

    def __mul__(self, other: _Tree) -> _Tree:
        return _Tree(E.mul(self.expr, other.expr))

    def __neg__(self) -> _Tree:
        return _Tree(E.neg(self.expr))
