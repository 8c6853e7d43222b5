"""Comments to nodes: every comment of the file, attached to the syntax node it
belongs to (an own-line comment leads the next node, one ending a line trails the
node before it)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from cnndsl.front import syntax as ast
from cnndsl.front.source import Source, Span


def comments(source: Source) -> list[ast.Comment]:
    """Every comment of the text: a `#` outside a quoted string, to the end of its line
    (the parser keeps only those that end a line of code)."""
    found, text, start = [], source.text, 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        at = text.find("#", start, end)
        while at >= 0 and text.count('"', start, at) % 2:   # inside a string: look on
            at = text.find("#", at + 1, end)
        if at >= 0:
            found.append(ast.Comment(span=source.span(at, end), text=text[at + 1:end]))
        start = end + 1
    return found


class _Notes:
    """Which comments lead (own lines before) and trail (end of line after) which node."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.leading: dict[int, list[str]] = {}
        self.trailing: dict[int, list[str]] = {}
        self.tail: dict[int, list[str]] = {}   # own lines before a container's closer
        self.opener: dict[int, list[str]] = {}   # ending the line that opens a container
        self.top: dict[int, list[ast.Comment]] = {}   # own-line comments before a statement

    def text(self, comment: ast.Comment) -> str:
        raw = self.source.text[comment.span.start:comment.span.end]
        return raw.rstrip(" \t\f\r")

    def same_line(self, start: int, end: int) -> bool:
        return self.source.position(start)[0] == self.source.position(end)[0]

    def spread(self, owner, elements, comments) -> None:
        """Attach `comments` (all inside `owner`) to `owner`'s `elements` (in source order,
        not overlapping); each comment is placed by bisection, so this is O(n log n)."""
        inside: dict[int, list[ast.Comment]] = {}
        starts = [e.span.start for e in elements]
        for comment in comments:
            at = comment.span.start
            index = bisect.bisect_right(starts, at) - 1   # the last element starting at or before
            if index >= 0 and at < elements[index].span.end:
                holder = elements[index]
                if _parts(holder) is None:   # kept in source order with those after it
                    self.trailing.setdefault(id(holder), []).append(self.text(comment))
                else:
                    inside.setdefault(id(holder), []).append(comment)
                continue
            before = elements[index] if index >= 0 else None
            after = elements[index + 1] if index + 1 < len(elements) else None
            text = self.text(comment)
            if before is not None and self.same_line(before.span.end, at):
                self.trailing.setdefault(id(before), []).append(text)
            elif before is None and owner is not None and self.same_line(owner.span.start, at):
                self.opener.setdefault(id(owner), []).append(text)
            elif after is not None:
                self.leading.setdefault(id(after), []).append(text)
                if owner is None:
                    self.top.setdefault(id(after), []).append(comment)
            else:
                self.tail.setdefault(id(owner), []).append(text)
                if owner is None:
                    self.top.setdefault(id(None), []).append(comment)
        for element in elements:
            if id(element) in inside:
                self.attach(element, inside[id(element)])

    def attach(self, node, comments) -> None:
        """Comments inside `node`: into its parts where it has any, else trailing it."""
        parts = _parts(node)
        if parts is None:
            self.trailing.setdefault(id(node), []).extend(self.text(c) for c in comments)
            return
        if isinstance(node, ast.If) and node.other is not None:
            # those before the `}` closing the first branch end that branch (its `tail`)
            then = node.then
            close = _closing(self.source.text, then.span.end) or then.span.end
            inner = [c for c in comments if then.span.start <= c.span.start < close]
            # and those ending the line `} else {`, the line opening the second
            opening = [c for c in comments if c.span.start >= close
                       and isinstance(node.other, ast.Chain)
                       and c.span.start < node.other.span.start
                       and self.same_line(close - 1, c.span.start)]
            for comment in opening:
                self.opener.setdefault(id(node.other), []).append(self.text(comment))
            if inner:
                self.spread(then, (then,), inner)
            comments = [c for c in comments if c not in inner and c not in opening]
        self.spread(node, parts, comments)


def _parts(node):
    """The children comments can sit between; None for a node printed on one line."""
    if isinstance(node, ast.Chain):
        return node.items
    if isinstance(node, ast.Combine):
        return node.branches
    if isinstance(node, ast.Labelled | ast.Repeat):
        return (node.item,)
    if isinstance(node, ast.If):
        return (node.then,) if node.other is None else (node.then, node.other)
    if isinstance(node, ast.BlockDef):
        return (node.body,)
    if isinstance(node, ast.OutputDecl):
        return node.chains
    if isinstance(node, _TrainSection):
        return node.items
    return None


def _closing(text: str, at: int) -> int | None:
    """The end of the `}` after `at`, past spaces, newlines, comments and `\\`
    continuations; None where something else comes first."""
    while at < len(text):
        char = text[at]
        if char in " \t\f\r\n":
            at += 1
        elif char == "#":
            newline = text.find("\n", at)
            at = len(text) if newline < 0 else newline
        elif char == "\\":
            at += 1
        elif char == "}":
            return at + 1
        else:
            return None
    return None


@dataclass(frozen=True)
class _TrainSection:
    span: Span
    items: tuple[ast.TrainItem, ...]
