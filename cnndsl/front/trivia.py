"""Comments as trivia: a comment that ends a line holding code belongs to the
element that ends last on that line (the merge rather than its branch; the
layer after a block use), and travels on it (`LayerUse.comment`, ...) to the
generated line. The parser attaches them once it has the tree; resolve copies
them onto the elements it makes."""

from __future__ import annotations

import dataclasses

from cnndsl.front import syntax as ast
from cnndsl.front.source import Source, Span

#: the syntax nodes that carry a trailing comment: one per generated line
CARRIERS = (ast.LayerUse, ast.BlockUse, ast.Combine)
#: the nodes a carrier can be inside, from a body down to its items
_CONTAINERS = (ast.Program, ast.BlockDef, ast.OutputDecl, ast.Chain, ast.Repeat, ast.Labelled,
               ast.Combine, ast.If)


def attach(program: ast.Program, source: Source) -> ast.Program:
    """The program with each trailing comment on its element (`comment`)."""
    found = _owners(program, source)
    return _with_comments(program, found) if found else program


def _owners(program: ast.Program, source: Source) -> dict[tuple[int, int], str]:
    """The comment of each element that owns one, by the (start, end) of its span."""
    by_line: dict[int, str] = {}
    for comment in program.comments:
        before = source.line_text(comment.span.line)[:comment.span.column - 1]
        if before.strip() and comment.text:
            by_line[comment.span.line] = comment.text
    if not by_line:
        return {}
    best: dict[int, Span] = {}
    for span in _carrier_spans(program):
        line = span.end_line
        if line in by_line:
            held = best.get(line)
            if held is None or (span.end, -span.start) > (held.end, -held.start):
                best[line] = span
    return {(span.start, span.end): by_line[line] for line, span in best.items()}


def _carrier_spans(program: ast.Program):
    stack: list = [program]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple):
            stack.extend(node)
        elif isinstance(node, _CONTAINERS + CARRIERS):
            if isinstance(node, CARRIERS):
                yield node.span
            stack.extend(getattr(node, f.name) for f in dataclasses.fields(node))


def _with_comments(node, found: dict[tuple[int, int], str]):
    """`node` rebuilt where a comment lands below it; the same object elsewhere."""
    if isinstance(node, tuple):
        items = tuple(_with_comments(item, found) for item in node)
        return node if all(a is b for a, b in zip(items, node)) else items
    if not isinstance(node, _CONTAINERS + CARRIERS):
        return node
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        new = _with_comments(value, found)
        if new is not value:
            changes[f.name] = new
    key = (node.span.start, node.span.end) if isinstance(node, CARRIERS) else None
    if key in found:
        changes["comment"] = found[key]
    return dataclasses.replace(node, **changes) if changes else node
