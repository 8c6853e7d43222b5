"""Applying the exact fixes that diagnostics carry (`cnndsl check --fix`).

Only unambiguous fixes are applied: a diagnostic offering alternatives (`k3`,
or `p1`) leaves the choice to the user, and overlapping edits are refused, so
a fix never guesses. A fix whose text is shared by several uses (a block body
used twice, a repeated layer) would change the other uses too, valid ones
included: it is shown, not applied.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from cnndsl.diagnostics.diagnostic import Diagnostic, Fix
from cnndsl.ir import nodes as ir


@dataclass(frozen=True)
class Plan:
    """The edits `--fix` would make, or why it makes none; `skipped` says which
    fixes it leaves to the user and why, as `(diagnostic, fix, reason)`."""

    edits: tuple[tuple[Diagnostic, Fix], ...]
    refused: str = ""
    skipped: tuple[tuple[Diagnostic, Fix, str], ...] = ()

    def apply(self, text: str) -> str:
        for _, fix in sorted(self.edits, key=lambda e: e[1].span.start, reverse=True):
            text = text[:fix.span.start] + fix.replacement + text[fix.span.end:]
        return text


def plan(diagnostics, network: ir.Network | None = None) -> Plan:
    """The fixes to apply: one per diagnostic that has exactly one, none overlapping,
    none in text that several elements of `network` share."""
    edits, skipped = [], []
    uses = shared_text(network)
    for diagnostic in diagnostics:
        if len(diagnostic.fixes) > 1:
            where = diagnostic.span
            at = f" at {where.line}:{where.column}" if where else ""
            return Plan((), f"[{diagnostic.code}]{at} can be fixed in "
                            f"{len(diagnostic.fixes)} ways; choose one by hand")
        if not diagnostic.fixes:
            continue
        fix = diagnostic.fixes[0]
        count = uses.get((fix.span.start, fix.span.end), 1)
        if count > 1:
            skipped.append((diagnostic, fix, f"its text is shared by {count} uses (a block "
                                             "body or a repetition); fix it by hand"))
            continue
        edits.append((diagnostic, fix))
    ordered = sorted(edits, key=lambda e: (e[1].span.start, e[1].span.end))
    for (_, a), (_, b) in zip(ordered, ordered[1:]):
        if b.span.start < a.span.end or (a.span.start == b.span.start and a.span.end ==
                                         a.span.start == b.span.end):
            return Plan((), f"two fixes touch line {b.span.line}; fix one by hand first")
    return Plan(tuple(ordered), skipped=tuple(skipped))


def shared_text(network: ir.Network | None) -> Counter:
    """How many layers of the unrolled network were written by each piece of text
    (`(start, end)` of a layer or of one of its arguments). Layers with errors of
    their own text (unresolved) are left out: such a fix is right for every use."""
    counts: Counter = Counter()
    if network is None:
        return counts
    stack: list = [network.body, *network.outputs]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Sequence):
            stack.extend(node.items)
        elif isinstance(node, ir.Merge):
            stack.extend(node.branches)
        elif isinstance(node, ir.BlockCall):
            stack.append(node.body)
        elif not isinstance(node, ir.Unresolved):   # a misspelling is wrong at every use
            counts.update({(s.start, s.end) for s in (node.span, *(s for _, s in node.spans))})
    return counts
