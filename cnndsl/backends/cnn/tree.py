"""The tree the printer prints: each `if` spanning to its closing `}`, and each
layer's arguments in their canonical order and spelling (where the spec checks
alike after)."""

from __future__ import annotations

import dataclasses

from cnndsl.backends.cnn.notes import _closing, _parts
from cnndsl.front import syntax as ast
from cnndsl.front.source import Source, Span


def _closed_ifs(program: ast.Program, source: Source) -> ast.Program:
    """`program` with each `if` that has an `else { ... }` spanning to that branch's `}`
    (the parser ends it at the branch's last item), and each chain or `output` ending
    with one, so a comment before the `}` is the `if`'s and stays inside it."""

    def visit(node):
        node = _rebuilt(node, visit)
        if isinstance(node, ast.Chain | ast.OutputDecl):   # one ending with such an `if`
            end = max(part.span.end for part in _parts(node))
            return node if end <= node.span.end else \
                dataclasses.replace(node, span=source.span(node.span.start, end))
        if not isinstance(node, ast.If) or node.other is None:
            return node
        end = _closing(source.text, node.other.span.end) if isinstance(node.other, ast.Chain) \
            else node.other.span.end
        if end is None or end <= node.span.end:
            return node
        return dataclasses.replace(node, span=source.span(node.span.start, end))

    return visit(program)


# ---- arguments in their canonical order and spelling ------------------------------------

def _canonical(program: ast.Program) -> ast.Program:
    """`program` with each layer's arguments as one writes them: the positional values,
    then the short flags (in the layer's order), the switches, the `name=value` options;
    an option that has a short flag and a literal value as that flag (`kernel=3` -> `k3`).
    The same object where nothing changes."""
    from cnndsl.ir.layers import LAYERS

    blocks = {b.name for b in program.blocks}

    def visit(node):
        if isinstance(node, ast.LayerUse) and node.name in LAYERS and node.name not in blocks:
            args = _ordered(LAYERS[node.name], node.args)
            return node if args == node.args else dataclasses.replace(node, args=args)
        return _rebuilt(node, visit)

    return visit(program)


def _rebuilt(node, visit):
    """`node` with `visit` applied to every syntax node below it (the same object when
    none changed)."""
    if not dataclasses.is_dataclass(node) or isinstance(node, Span):
        return node
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, tuple):
            new = tuple(visit(v) for v in value)
            if any(a is not b for a, b in zip(new, value, strict=True)):
                changes[f.name] = new
        elif dataclasses.is_dataclass(value) and not isinstance(value, Span):
            new = visit(value)
            if new is not value:
                changes[f.name] = new
    return dataclasses.replace(node, **changes) if changes else node


def _ordered(word, args: tuple[ast.Arg, ...]) -> tuple[ast.Arg, ...]:
    flags = {a.flag: i for i, a in enumerate(word.args) if a.flag}
    groups: tuple[list, list, list, list] = ([], [], [], [])
    for arg in args:
        arg = _as_flag(word, arg)
        value = arg.value if isinstance(arg, ast.Positional) else None
        if isinstance(arg, ast.Option):
            groups[3].append(arg)
        elif isinstance(value, ast.Flag) and value.letter in flags:
            groups[1].append(arg)
        elif isinstance(value, ast.Name) and value.name in word.switches:
            groups[2].append(arg)
        else:
            groups[0].append(arg)
    groups[1].sort(key=lambda a: flags[a.value.letter])
    return tuple(groups[0] + groups[1] + groups[2] + groups[3])


def _as_flag(word, arg: ast.Arg) -> ast.Arg:
    """`kernel=3` as `k3`, `stride=2x1` as `s2x1`, where the layer has that flag."""
    if not isinstance(arg, ast.Option):
        return arg
    entry = next((a for a in word.args if arg.name in a.names and a.flag), None)
    value = arg.value
    if entry is None:
        return arg
    if isinstance(value, ast.Num) and value.text.isdigit():
        values, text = (int(value.text),), value.text
    elif isinstance(value, ast.SizeLit) and entry.kind == "size" \
            and len(value.values) <= entry.longest:
        values, text = value.values, "x".join(str(v) for v in value.values)
    else:
        return arg
    flag = ast.Flag(span=arg.span, name=entry.flag + text, letter=entry.flag, values=values)
    return ast.Positional(span=arg.span, value=flag)


def _same_meaning(before: str, after: str, name: str) -> bool:
    """Whether two texts check alike: no errors in either, the same diagnostics, and the
    same shapes, parameters and multiply-adds per layer."""
    from cnndsl.api import check

    def figures(text: str):
        result = check(text, name)
        if not result.ok or result.summary is None:
            return None
        return (sorted((d.severity, d.code, d.message) for d in result.diagnostics),
                [(r.path, r.kind, str(r.input), str(r.output), r.params, r.macs)
                 for r in result.summary.rows])

    first = figures(before)
    return first is not None and first == figures(after)
