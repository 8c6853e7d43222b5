"""Shapes as the user reads them, and a `pad`'s padding per side.

`fmt((6, 24, 24))` is `6x24x24`: the one way every output (diagnostics, the
summary, the tables, the diagrams, the generated code's comments) writes a shape.
"""

from __future__ import annotations

from fractions import Fraction


def fmt(shape) -> str:
    """`(6, 24, 24)` -> `6x24x24`; a fraction (a jump after upsampling) as a short decimal."""
    return "x".join(_number(n) for n in shape)


def _number(n) -> str:
    if isinstance(n, Fraction):
        n = n.numerator if n.denominator == 1 else round(float(n), 3)
    return f"{n:g}" if isinstance(n, float) else str(n)


def pad_sides(node, rank: int) -> tuple[tuple, tuple]:
    """The padding before and after each spatial dim of an `ir.Pad`, without checking."""
    if node.size is not None:
        both = node.size if isinstance(node.size, tuple) else (node.size,) * rank
        return tuple(both), tuple(both)
    before = node.before if node.before is not None else 0
    after = node.after if node.after is not None else 0
    return (tuple(before) if isinstance(before, tuple) else (before,) * rank,
            tuple(after) if isinstance(after, tuple) else (after,) * rank)
