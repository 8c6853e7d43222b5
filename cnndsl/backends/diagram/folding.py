"""Folding a network for its picture: runs of the same block use drawn once with
their count, stages of repeated runs, and each node's text as the user wrote it."""

from __future__ import annotations

import re

from cnndsl.backends.diagram.style import _End
from cnndsl.files import printable
from cnndsl.ir import nodes as ir


def runs(items) -> list[list]:
    """`items` grouped into runs of one repeated use: `Block(64) * 3` resolves to
    three calls with the same span and text, drawn as one node marked ×3."""
    out: list[list] = []
    for item in items:
        if out and _repeats(out[-1][0], item):
            out[-1].append(item)
        else:
            out.append([item])
    return out


def stages(groups: list[list], folded) -> list[list[list]]:
    """Runs of folded block uses joined into stages: consecutive uses whose shared
    arguments agree (`Down(128) -> Bottleneck(128) * 3`) are one stage, one node."""
    out: list[list[list]] = []
    for run in groups:
        item = run[0]
        prev = out[-1][-1][0] if out else None
        if isinstance(item, ir.BlockCall) and folded(item) and isinstance(prev, ir.BlockCall) \
                and folded(prev) and _agree(prev, item):
            out[-1].append(run)
        else:
            out.append([run])
    return out


def _agree(first: ir.BlockCall, item: ir.BlockCall) -> bool:
    mine, theirs = dict(first.args), dict(item.args)
    shared = mine.keys() & theirs.keys()
    return bool(shared) and all(mine[k] == theirs[k] for k in shared)


def _repeats(first, item) -> bool:
    if isinstance(item, (ir.Label, ir.Ref, ir.Identity)) or type(item) is not type(first):
        return False
    return item.span == first.span and item.text == first.text and \
        getattr(item, "args", None) == getattr(first, "args", None)


#: the longest repeated group that drawing looks for, in items
_LONGEST_PERIOD = 256


def _period(keys: list, index: int) -> tuple[int, int]:
    """`(period, copies)` of the repetition of a group starting at `index`, else `(1, 1)`."""
    if keys[index] is None:
        return 1, 1
    try:
        period = keys.index(keys[index], index + 1, index + 1 + _LONGEST_PERIOD) - index
    except ValueError:
        return 1, 1
    pattern = keys[index:index + period]
    copies = 1
    while keys[index + copies * period:index + (copies + 1) * period] == pattern:
        copies += 1
    return (period, copies) if copies > 1 else (1, 1)


def _output(group, end: _End) -> tuple[int, ...]:
    """The shape after the last item of `group` that has one (a label has none)."""
    for item in reversed(group):
        if item.info is not None and not isinstance(item, (ir.Label, ir.Ref)):
            return item.info.output
    return end.shape


def times(count: int) -> str:
    return f" ×{count}" if count > 1 else ""


def _value(value) -> str:
    if isinstance(value, tuple):
        return "x".join(_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def written(node: ir.Element, source: str) -> str:
    """The user's text of `node` with a block's parameters replaced by this use's
    values: `conv c*4 k1` inside `Bottleneck(64)` reads `conv 256 k1`."""
    spans = dict(node.spans)
    fields = sorted((spans[f].start, spans[f].end, f) for f, _ in node.sym if f in spans)
    if not fields or source[node.span.start:node.span.end] != node.text:
        return printable(node.text)
    pieces, pos = [], node.span.start
    for start, end, field in fields:
        value = getattr(node, field, None)
        if isinstance(value, bool) or not isinstance(value, (int, float, tuple)) or start < pos:
            continue
        text = source[start:end]
        cut = text.index("=") + 1 if "=" in text else 1 if re.match(r"[a-z]\(", text) else 0
        pieces += [source[pos:start + cut], _value(value)]
        pos = end
    pieces.append(source[pos:node.span.end])
    return printable("".join(pieces))


def arguments(node: ir.BlockCall) -> str:
    """`c = 64, s = 2`: a block use's argument values."""
    return ", ".join(f"{name} = {_value(value)}" for name, value in node.args)
