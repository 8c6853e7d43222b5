"""Rules for merges (`concat`, `add`, `mul`, `split`, `residual`, `gate`): the
shape the branches make together, the receptive field and jump after it, and
the message when the branches do not fit."""

from __future__ import annotations

from dataclasses import dataclass

from cnndsl.diagnostics.diagnostic import Diagnostic, Label, error
from cnndsl.front.source import Span
from cnndsl.ir import nodes as ir
from cnndsl.ir.shapes import fmt
from cnndsl.passes.flow import Shape, State, previous, step, too_large


def split_input(keyword: Span, count: int, state: State,
                diagnostics: list[Diagnostic]) -> State | None:
    """The input of each branch of `split`: an equal share of the channels."""
    if state.channels % count:
        diagnostics.append(error(
            "E0314", f"{count} branches do not split {state.channels} channels equally",
            keyword, f"{state.channels} % {count} = {state.channels % count}",
            secondary=previous(state, f"output is {fmt(state.shape)}"),
            help=f"use a number of branches that divides {state.channels}"))
        return None
    return State((state.channels // count,) + state.shape[1:], state.rf, state.jump,
                 state.trace, state.last)


@dataclass(frozen=True)
class Branch:
    """One branch's result, for a merge: its state, where it ends, and how to
    name it in a message."""

    state: State
    where: Span
    what: str          # "output", "the input", "@e1"
    trace: tuple[str, ...]


def merge(node: ir.Merge, state: State, branches: list[Branch],
          diagnostics: list[Diagnostic]) -> State | None:
    """The state after a merge of branches, or None (with a diagnostic)."""
    shapes = [b.state.shape for b in branches]
    shape = _merged_shape(node, shapes)
    if shape is None:
        diagnostics.append(_mismatch(node, branches))
        return None
    if too_large(node, shape, state, diagnostics):
        return None
    states = [b.state for b in branches]
    rf = jump = None
    if len(shape) > 1 and all(s.rf is not None for s in states):
        rf, jump = _merged_grid(shape, states)
    word = node.form or node.op
    return State(shape, rf, jump, step(state, word, shape), node.span)


def _merged_grid(shape: Shape, states: list[State]) -> tuple[tuple, tuple]:
    """Receptive field and jump after a merge, per spatial dim: from the operands
    that have the merge's full size in that dim. An operand broadcast from size 1
    (a global branch) does not move the grid."""
    rf, jump = [], []
    for d, size in enumerate(shape[1:]):
        full = [s for s in states if s.shape[1 + d] == size]
        rf.append(max(s.rf[d] for s in full))
        jump.append(max(s.jump[d] for s in full))
    return tuple(rf), tuple(jump)


def _merged_shape(node: ir.Merge, shapes: list[Shape]) -> Shape | None:
    if len({len(s) for s in shapes}) > 1:
        return None
    if node.op in ("concat", "split"):
        if len({s[1:] for s in shapes}) > 1:
            return None
        return (sum(s[0] for s in shapes),) + shapes[0][1:]
    if node.op == "add":
        return shapes[0] if len(set(shapes)) == 1 else None
    # mul broadcasts in every dimension, channels included: each operand has the
    # result's size or 1 there
    result = tuple(max(sizes) for sizes in zip(*shapes))
    if any(n not in (1, r) for s in shapes for n, r in zip(s, result)):
        return None
    return result


_MISMATCH = {
    "concat": ("E0302", "spatial sizes of `concat` branches differ",
               "make every branch keep the same spatial size: pad convolutions (`p1` for "
               "`k3`) and use the same strides"),
    "split": ("E0302", "spatial sizes of `split` branches differ",
              "make every branch keep the same spatial size"),
    "add": ("E0303", "shapes of `add` branches differ", "make every branch produce the same "
            "shape"),
    "mul": ("E0313", "shapes of `mul` branches do not fit",
            "in every dimension (channels included) give each branch the result's size or 1 "
            "(`gap` makes the spatial size 1, `channelmean` the channels)"),
}


#: what `residual(...)` and `gate(...)` call their two branches, as the user sees them
_FORM_PARTS = {"residual": ("the input (the skip path)", "the body"),
               "gate": ("the input", "the gate")}


def _mismatch(node: ir.Merge, branches: list[Branch]) -> Diagnostic:
    labels = [Label(span=b.where, text=f"{b.what} is {fmt(b.state.shape)}") for b in branches]
    primary = labels[-1]
    notes = [f"branch {i + 1}{' (' + b.what + ')' if b.what.startswith('@') else ''}: "
             f"{fmt(b.state.shape)}" for i, b in enumerate(branches)]
    if node.form in _FORM_PARTS:   # one branch written, the other implied: name them
        notes = [f"{part}: {fmt(b.state.shape)}"
                 for part, b in zip(_FORM_PARTS[node.form], branches)]
    if any(b.what.startswith("@") for b in branches):
        notes += [f"path of branch {i + 1}: " + " -> ".join(b.trace)
                  for i, b in enumerate(branches) if b.trace]
    code, message, fix = _MISMATCH[node.op]
    if node.form == "residual":
        message = "residual body changes the shape"
        fix = ("match the body's output to its input, or project the skip path: "
               f"`add(conv {branches[-1].state.shape[0]} k1 ..., <body>)`")
    elif node.form == "gate":
        message = "the gate's shape does not fit its input"
    return error(code, message, primary.span, primary.text, secondary=labels[:-1],
                 notes=notes, help=fix)

