"""Symbols and shapes in generated code: channel counts as trees, bounded in size;
symbolic spatial sizes (`H // 2`) carried from a block's input; labels and
parameters a class refers to."""

from __future__ import annotations

from fractions import Fraction

from cnndsl.backends.pytorch import symbolic
from cnndsl.backends.pytorch.classes import _Class, _Flow
from cnndsl.diagnostics.diagnostic import Diagnostic, error
from cnndsl.ir import expr as E
from cnndsl.ir import nodes as ir

#: The most nodes one symbolic value may have in generated code (and `emit`'s
#: MAX_GENERATED the largest file written): past either, `compile` refuses with a
#: located E0417. Trees fold as they are built (`in + in` is `in * 2`), so no real
#: spec comes near.
MAX_EXPR_NODES = 400
#: operands of `add` or `mul` summed in one run: more are grouped in parentheses,
#: so a 3,000-operand sum stays a few levels deep for Python's compiler
SUM_RUN = 16


class GeneratedTooLarge(Exception):
    """The generated code would pass a bound; `.diagnostic` says where and why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _product_channels(chs: list[E.Expr], node: ir.Merge) -> E.Expr:
    """The channels of a `mul`: operands of 1 channel broadcast (`1×H×W` against
    `C×H×W`), so the product has the others' count: the first operand's, unless it is a
    number other than the merge's count here; then the operand written as that count,
    else the first that is not the literal 1."""
    out = node.info.output[0] if node.info.output else None
    if not isinstance(chs[0], E.Const) or chs[0].value == out:
        return chs[0]
    for ch in chs:
        if isinstance(ch, E.Const) and ch.value == out:
            return ch
    return next((ch for ch in chs if ch != E.Const(1)), chs[0])


def _used_params(params, body: _Class) -> set[str]:
    """The block parameters the class's code refers to. The others only shaped
    its structure (a repetition count): the class is built for their values and
    does not take them, so no caller can pass another value and be ignored."""
    used = set().union(*(stmt.names() for stmt in body.init))
    return {name for name, _ in params if name in used}


def _number(raw) -> E.Expr:
    """A block argument's value as a tree (a float read back as the decimal it prints as)."""
    if isinstance(raw, float):
        return E.const(Fraction(repr(raw)))
    return E.Const(raw)


def _bounded(tree: E.Expr, node: ir.Element) -> E.Expr:
    """`tree`, if it is small enough to write; else a located refusal."""
    if E.size(tree, MAX_EXPR_NODES + 1) > MAX_EXPR_NODES:
        raise GeneratedTooLarge(error(
            "E0417", "this network's generated code would be too large", node.span,
            f"a value here takes more than {MAX_EXPR_NODES} terms to write",
            notes=["the generated class writes channel counts as formulas of its "
                   "block's parameters"],
            help="split the block into smaller blocks"))
    return tree


def _symbolic(channels: E.Expr, dims: symbolic.Dims | None) -> str | None:
    return symbolic.render(E.python(channels), dims)


def _shallow(names: list[str], op: str) -> str:
    """`a + b + c`; past `SUM_RUN` operands, runs of them in parentheses, so the
    expression is a few levels deep however many operands it has."""
    while len(names) > SUM_RUN:
        names = [f"({f' {op} '.join(names[i:i + SUM_RUN])})"
                 for i in range(0, len(names), SUM_RUN)]
    return f" {op} ".join(names)


def _rebase(inner: symbolic.Dims | None, outer: symbolic.Dims | None,
            passed: dict[str, E.Expr]) -> symbolic.Dims | None:
    """A block's output sizes (in terms of its input and parameters) in the
    caller's terms: exact when the block keeps them, or the caller's are
    undivided; as trees where either side is one."""
    if inner is None or inner == ():
        return inner
    if outer is None or len(inner) != len(outer):
        return None
    if any(d.tree is not None for d in (*inner, *outer)):
        names = {**passed, **{i.var: o.as_tree() for i, o in zip(inner, outer)}}
        return tuple(symbolic.tree_dim(o.var, E.substitute(i.as_tree(), names))
                     for i, o in zip(inner, outer))
    out = []
    for i, o in zip(inner, outer):
        if i.const is not None:
            out.append(i)
        elif (i.f, i.a, i.m) == (1, 0, 1):
            out.append(o)
        elif o.const is not None:
            out.append(symbolic.Dim(o.var, const=(i.f * o.const + i.a) // i.m))
        elif o.m == 1:
            out.append(symbolic.Dim(o.var, i.f * o.f, i.f * o.a + i.a, i.m))
        else:
            return None
    return tuple(out)


def _merged_dims(flows: list[_Flow]) -> symbolic.Dims | None:
    dims = [f.dims for f in flows]
    if any(d is None for d in dims):
        return None
    full = [d for d in dims if not all(x.const == 1 for x in d)]
    return (full or dims)[0]


def _labels(*seqs: ir.Sequence) -> set[str]:
    """Every label defined in these sequences (not inside block calls)."""
    found: set[str] = set()
    stack = list(seqs)
    while stack:
        seq = stack.pop()
        for node in seq.items:
            if isinstance(node, ir.Label):
                found.add(node.label)
            elif isinstance(node, ir.Merge):
                stack.extend(node.branches)
    return found


def _shape(shape: tuple[int, ...]) -> str:
    return "(B, " + ", ".join(str(n) for n in shape) + ")"
