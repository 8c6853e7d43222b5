"""What flows along a chain while inferring: the `State` (shape, receptive field,
jump, the last few steps, the element that made it), what a layer costs, and
the context a rule reports through. Shared by every family of rules."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

from cnndsl.diagnostics.diagnostic import Diagnostic, Label, error
from cnndsl.front.source import Span
from cnndsl.ir import nodes as ir
from cnndsl.ir.shapes import fmt

Shape = tuple[int, ...]


TRACE = 8  # steps kept for the "how did we get here" note


MAX_ELEMENTS = 2**63 - 1   # PyTorch counts a tensor's values in 64 bits


@dataclass(frozen=True)
class State:
    """What flows along a chain: the shape (without batch), the receptive field
    and jump per spatial dim (None once the spatial dims are gone), the last few
    steps that made it, and the element that produced it."""

    shape: Shape
    rf: tuple[int | Fraction, ...] | None     # ints until a layer divides the jump
    jump: tuple[int | Fraction, ...] | None
    trace: tuple[str, ...] = ()
    last: Span | None = None

    @property
    def rank(self) -> int:
        return len(self.shape) - 1

    @property
    def channels(self) -> int:
        return self.shape[0]


@dataclass(frozen=True)
class Cost:
    params: int = 0
    buffers: int = 0
    macs: int = 0


def start(shape: Shape, span: Span | None) -> State:
    rank = len(shape) - 1
    ones = (1,) * rank if rank else None
    return State(shape, ones, ones, (fmt(shape),), span)


def exact(values: tuple[int | Fraction, ...] | None, *, ceil: bool = False):
    """Receptive field or jump for `ir.Info`: ints where whole."""
    if values is None or all(type(v) is int for v in values):
        return values
    out = []
    for v in values:
        if v.denominator == 1:
            out.append(int(v))
        else:
            out.append(math.ceil(v) if ceil else round(float(v), 4))
    return tuple(out)


def divide(j: int | Fraction, by) -> int | Fraction:
    """A jump divided exactly: an int while it stays whole."""
    value = Fraction(j) / Fraction(by)
    return int(value) if value.denominator == 1 else value


def step(state: State, word: str, shape: Shape) -> tuple[str, ...]:
    """The trace with one more step, keeping the input and the last few: O(1)."""
    trace = state.trace + (f"{word} {fmt(shape)}",)
    return trace if len(trace) <= TRACE else (trace[0], "…") + trace[-(TRACE - 2):]


def info(before: State, after: State, cost: Cost) -> ir.Info:
    return ir.Info(input=before.shape, output=after.shape, params=cost.params,
                   buffers=cost.buffers, macs=cost.macs, rf=exact(after.rf, ceil=True),
                   jump=exact(after.jump))


def too_large(node, shape: Shape, state: State, diagnostics: list[Diagnostic]) -> bool:
    """True (with E0325) when `shape` holds more values than a PyTorch tensor can count."""
    if math.prod(shape) <= MAX_ELEMENTS:
        return False
    shown = fmt(shape) if len(fmt(shape)) <= 40 else "the output"
    diagnostics.append(error(
        "E0325", "this layer's output is too large for PyTorch", node.span,
        f"{shown} holds about 10^{len(str(math.prod(shape))) - 1} values",
        secondary=previous(state, f"output is {fmt(state.shape)}"),
        notes=["a tensor holds at most 2^63 − 1 values"], help="upsample or stride less"))
    return True


def word_of(node) -> str:
    """The layer's word as written (`conv`, `maxpool`)."""
    return node.text.split()[0] if node.text else node.op


class Ctx:
    def __init__(self, diagnostics: list[Diagnostic], like: State | None = None) -> None:
        self.diagnostics = diagnostics
        self.like = like

    def fail(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def need_spatial(self, node, state: State, ranks=(1, 2, 3)) -> bool:
        if state.rank in ranks:
            return True
        word = word_of(node)
        if state.rank == 0:
            self.fail(error("E0309", f"`{word}` needs spatial input", node.span,
                            f"its input is {fmt(state.shape)} features",
                            secondary=previous(state, "flattened here"),
                            help="move it before the first `fc` or `flatten`"))
        else:
            dims = " or ".join(f"{r}-D" for r in ranks)
            self.fail(error("E0321", f"`{word}` works on {dims} input", node.span,
                            f"its input is {state.rank}-D: {fmt(state.shape)}",
                            secondary=previous(state, f"output is {fmt(state.shape)}")))
        return False

    def expand(self, node, field: str, value, rank: int) -> tuple | None:
        if not isinstance(value, tuple):
            return (value,) * rank
        if len(value) == rank:
            return tuple(value)
        self.fail(error("E0311", f"a {len(value)}-D {field} on a {rank}-D input",
                        node.span_of(field), f"{field} {fmt(value)}",
                        help=f"give one number, or {rank} joined by `x`"))
        return None


def previous(state: State, text: str) -> list[Label]:
    return [Label(span=state.last, text=text)] if state.last is not None else []


def same(state: State) -> State:
    return State(state.shape, state.rf, state.jump)


def keep(state: State, word: str, span: Span) -> State:
    """The state past a layer that keeps its input's shape but was written wrongly."""
    return State(state.shape, state.rf, state.jump, step(state, word, state.shape), span)


def with_trace(state: State, trace: tuple[str, ...]) -> State:
    return replace(state, trace=trace)


def largest_common_divisor(a: int, b: int, at_most: int) -> int:
    """The largest number <= at_most dividing both a and b (O(sqrt(gcd)))."""
    g = math.gcd(a, b)
    best = 1
    for i in range(1, math.isqrt(g) + 1):
        if g % i == 0:
            for candidate in (i, g // i):
                if candidate <= at_most:
                    best = max(best, candidate)
    return best

