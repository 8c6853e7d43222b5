"""What a piece of syntax holds and refers to: its chain items at any depth,
the names (constants, block parameters) it reads and the labels it defines.
Resolve reads them to name modules and scope labels; lint, to find what is
never used."""

from __future__ import annotations

from cnndsl.front import syntax as ast
from cnndsl.passes.constants import parts


def items_in(*nodes):
    """Every chain item under these nodes, at any depth (not inside the blocks
    they use): the one walk the name, label and comment scans share."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.Chain):
            stack.extend(node.items)
        elif isinstance(node, (ast.Repeat, ast.Labelled)):
            stack.append(node.item)
        elif isinstance(node, ast.Combine):
            stack.extend(node.branches)
        elif isinstance(node, ast.If):
            stack.extend(n for n in (node.then, node.other) if n is not None)


def names_in(node):
    """Every name a piece of syntax refers to (constants and block parameters): a
    chain, an item, an argument or an expression."""
    if isinstance(node, (ast.Positional, ast.Option, *_EXPRESSIONS)):
        yield from _expression_names(node)
        return
    for item in items_in(node):
        if isinstance(item, (ast.LayerUse, ast.BlockUse)):
            for arg in item.args:
                yield from _expression_names(arg.value)
        elif isinstance(item, ast.Repeat):
            yield from _expression_names(item.count)
        elif isinstance(item, ast.If):
            yield from _expression_names(item.test)


_EXPRESSIONS = (ast.Num, ast.SizeLit, ast.Name, ast.Flag, ast.InChannels, ast.BinOp, ast.Unary,
                ast.Cond, ast.Call)


def _expression_names(expr):
    if isinstance(expr, (ast.Positional, ast.Option)):
        yield from _expression_names(expr.value)
    elif isinstance(expr, (ast.Name, ast.Flag)):
        yield expr.name
    else:
        for part in parts(expr):
            yield from _expression_names(part)


def labels_in(node):
    """Every label a chain defines, at any depth (not inside blocks it uses)."""
    return (item.label for item in items_in(node) if isinstance(item, ast.Labelled))

