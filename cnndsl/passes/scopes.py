"""Scopes: where module names are made (a class's namespace and a prefix) and
which labels (`as NAME`, `@NAME`) are visible where, with the messages about
labels used out of reach, before their definition, misplaced or never used."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from cnndsl.diagnostics.diagnostic import Diagnostic, Label, error, warning
from cnndsl.diagnostics.suggest import did_you_mean, offer
from cnndsl.front import syntax as ast
from cnndsl.front.source import Span
from cnndsl.passes.context import Context
from cnndsl.passes.flow import State

# ---- module names ---------------------------------------------------------------------

@dataclass
class Names:
    """The module names of one generated class: every name is fresh, so two
    elements never share one (`relu6` + 1 is `relu6_1`, never `relu61`)."""

    taken: set[str] = field(default_factory=set)
    counts: Counter = field(default_factory=Counter)

    def fresh(self, base: str) -> str:
        sep = "_" if base[-1].isdigit() else ""
        while True:
            self.counts[base] += 1
            name = f"{base}{sep}{self.counts[base]}"
            if name not in self.taken:
                self.taken.add(name)
                return name


@dataclass
class Scope:
    """Where names are made: a class's namespace and a prefix (`branch2_`)."""

    names: Names
    prefix: str = ""

    def name(self, base: str) -> str:
        return self.names.fresh(self.prefix + base)

    def within(self, prefix: str) -> Scope:
        return Scope(self.names, self.prefix + prefix)


# ---- labels ---------------------------------------------------------------------------

@dataclass
class Defined:
    state: State | None
    span: Span
    used: bool = False
    kind: str = "label"


@dataclass
class Labels:
    """The labels visible at one point: one per body (top level or block), a
    child per branch and per copy of a repeated item, whose labels stay there."""

    parent: Labels | None = None
    defined: dict[str, Defined] = field(default_factory=dict)
    later: frozenset[str] = frozenset()     # every label this body defines, anywhere
    ended: dict[str, Span] = field(default_factory=dict)  # labels of children that ended

    def child(self) -> Labels:
        return Labels(parent=self, later=self.later)

    def _chain(self):
        scope: Labels | None = self
        while scope is not None:
            yield scope
            scope = scope.parent

    def find(self, name: str) -> Defined | None:
        return next((s.defined[name] for s in self._chain() if name in s.defined), None)

    def ended_at(self, name: str) -> Span | None:
        return next((s.ended[name] for s in self._chain() if name in s.ended), None)

    def visible(self) -> list[str]:
        return [name for scope in self._chain() for name in scope.defined]


def misplaced_ref(item: ast.Ref, labels: Labels) -> Diagnostic:
    found = labels.find(item.name)
    if found is not None:
        found.used = True   # meant as a use: no second complaint that it is unused
    return error("E0215", f"`@{item.name}` can only start a chain", item.span,
                 "in the middle of a chain",
                 help="use it first in a branch (`concat(@e1, identity)`, "
                      f"`add(identity, @{item.name} -> conv 64 k1)`) or in `output`")


def unknown_label(item: ast.Ref, labels: Labels) -> Diagnostic:
    name = item.name
    made = labels.ended_at(name)
    if made is not None:
        return error("E0214", f"the label `{name}` is out of reach here", item.span,
                     "used outside the branch or repetition that made it",
                     secondary=[Label(span=made, text="made here")],
                     help="a label made inside a branch or a repeated item stays there; "
                          "label the merge or the repetition instead")
    if name in labels.later:
        return error("E0213", f"the label `{name}` is used before it is defined", item.span,
                     "not defined yet", help="a label can only be used after the item it "
                                             "names")
    close = did_you_mean(name, labels.visible())
    return error("E0211", f"unknown label `{name}`", item.span, "no item has this label",
                 **offer(close, item.span, "@{}", "@{}",
                         otherwise="label an item with `as NAME` to use it as `@NAME`"))


def close_labels(labels: Labels, ctx: Context) -> None:
    """A scope of labels ends: warn once about each label never used."""
    for name, found in labels.defined.items():
        if labels.parent is not None:
            labels.parent.ended.setdefault(name, found.span)
        if not found.used and found.span.start not in ctx.unused:
            what = "input" if found.kind == "input" else "label"
            ctx.unused[found.span.start] = warning(
                "W0107", f"the {what} `{name}` is never used", found.span, "defined here",
                help=f"use it as `@{name}`, or remove it")
        elif found.used:
            ctx.unused.pop(found.span.start, None)

