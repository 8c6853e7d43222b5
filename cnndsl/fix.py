"""Applying the exact fixes that diagnostics carry (`cnndsl check --fix`).

Only unambiguous fixes are applied: a diagnostic offering alternatives (`k3`,
or `p1`) leaves the choice to the user, and overlapping edits are refused, so
a fix never guesses.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnndsl.diagnostics import Diagnostic, Fix


@dataclass(frozen=True)
class Plan:
    """The edits `--fix` would make, or why it makes none."""

    edits: tuple[tuple[Diagnostic, Fix], ...]
    refused: str = ""

    def apply(self, text: str) -> str:
        for _, fix in sorted(self.edits, key=lambda e: e[1].span.start, reverse=True):
            text = text[:fix.span.start] + fix.replacement + text[fix.span.end:]
        return text


def plan(diagnostics) -> Plan:
    """The fixes to apply: one per diagnostic that has exactly one, none overlapping."""
    edits = []
    for diagnostic in diagnostics:
        if len(diagnostic.fixes) > 1:
            where = diagnostic.span
            at = f" at {where.line}:{where.column}" if where else ""
            return Plan((), f"[{diagnostic.code}]{at} can be fixed in "
                            f"{len(diagnostic.fixes)} ways; choose one by hand")
        if diagnostic.fixes:
            edits.append((diagnostic, diagnostic.fixes[0]))
    ordered = sorted(edits, key=lambda e: (e[1].span.start, e[1].span.end))
    for (_, a), (_, b) in zip(ordered, ordered[1:]):
        if b.span.start < a.span.end or (a.span.start == b.span.start and a.span.end ==
                                         a.span.start == b.span.end):
            return Plan((), f"two fixes touch line {b.span.line}; fix one by hand first")
    return Plan(tuple(ordered))
