"""Resolve: syntax tree -> network.

Folds constants, binds layer arguments, instantiates blocks (parameters,
defaults, keyword arguments), unrolls repetition and names every element after
its role in its scope (`conv1`, `branch2_conv1`, `inception1`). Pure: returns a
new `Network` and the diagnostics; the input is never changed.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

from cnndsl import ir
from cnndsl.diagnostics import Diagnostic, error, warning
from cnndsl.layers import ALIASES, KEEPS_SHAPE, LAYERS, canonical, family
from cnndsl.passes.bind import Bound, bind
from cnndsl.passes.declare import block_defs, body_chain, constants, input_shape, model_name
from cnndsl.passes.evaluate import Env, Value, evaluate, literal
from cnndsl.passes.train_config import train_config
from cnndsl.source import Span

#: More elements than this after unrolling is refused: no real network is
#: that large, and a typo such as `relu * 1000000` should not hang the checker.
MAX_ELEMENTS = 200_000


class _TooLarge(Exception):
    pass


@dataclass
class _Scope:
    """Naming state of one scope: a model or block body, or a branch of one."""

    prefix: str = ""
    counts: Counter = field(default_factory=Counter)

    def name(self, base: str) -> str:
        self.counts[base] += 1
        return f"{self.prefix}{base}{self.counts[base]}"

    def branch(self, index: int) -> _Scope:
        return _Scope(prefix=f"{self.prefix}branch{index}_")


@dataclass
class _Context:
    source_text: str
    blocks: dict[str, ir.BlockDef]
    constants: Env
    diagnostics: list[Diagnostic]
    used_blocks: set[str] = field(default_factory=set)
    used_names: set[str] = field(default_factory=set)
    elements: int = 0

    def text(self, span: Span) -> str:
        return " ".join(self.source_text[span.start:span.end].split())


def resolve(program: ir.Program, source_text: str,
            default_model: str = "Model") -> tuple[ir.Network | None, list[Diagnostic]]:
    """Resolve a parsed program. Returns `(network, diagnostics)`; the network
    is None when the file has no usable input or body."""
    diagnostics: list[Diagnostic] = []
    model = model_name(program, default_model, diagnostics)
    shape, input_span = input_shape(program, diagnostics)
    lets = constants(program, diagnostics)
    blocks = block_defs(program, diagnostics)
    train = train_config(program, diagnostics)
    body = body_chain(program, diagnostics)
    if body is None or shape is None:
        return None, diagnostics
    ctx = _Context(source_text, blocks, lets, diagnostics)
    try:
        sequence = _chain(body, lets, _Scope(), ctx, stack=())
    except _TooLarge:
        diagnostics.append(error("E0005", "the network is too large", body.span,
                                 f"more than {MAX_ELEMENTS:,} layers once repetition "
                                 "is unrolled", help="check the repetition counts"))
        return None, diagnostics
    _unused(program, ctx, diagnostics)
    params = tuple((b.name, tuple((p.name, _default(p, lets)) for p in b.params))
                   for b in program.blocks if b.name in ctx.used_blocks)
    network = ir.Network(model=model, input=shape, input_span=input_span, body=sequence,
                         blocks=params, train=train)
    return network, diagnostics


def _default(param: ir.Param, lets: Env) -> int | float | None:
    if param.default is None:
        return None
    value = evaluate(param.default, lets, [])
    return value.value if value is not None and not isinstance(value.value, tuple) else None


def _unused(program: ir.Program, ctx: _Context, diagnostics: list[Diagnostic]) -> None:
    for block in program.blocks:
        if block.name in ctx.blocks and block.name not in ctx.used_blocks:
            diagnostics.append(warning("W0104", f"the block `{block.name}` is never used",
                                       block.name_span, "defined here",
                                       help="use it in the body, or remove it"))
        elif block.name in ctx.blocks:
            used = set(_names(block.body))
            for param in block.params:
                if param.name not in used:
                    diagnostics.append(warning(
                        "W0104", f"the parameter `{param.name}` of block `{block.name}` is "
                        "never used", param.span, "defined here",
                        help="use it in the block's body, or remove it; a short flag "
                             "such as `s2` takes only a number, so pass a parameter by "
                             f"name: `stride={param.name}`"))
    for let in program.lets:
        if let.name not in ctx.used_names:
            diagnostics.append(warning("W0104", f"the constant `{let.name}` is never used",
                                       let.name_span, "defined here"))


def _names(node):
    """Every name a piece of syntax refers to (constants and block parameters)."""
    if isinstance(node, ir.Ref):
        yield node.name
    elif isinstance(node, ir.BinOp):
        yield from _names(node.left)
        yield from _names(node.right)
    elif isinstance(node, (ir.Positional, ir.Option)):
        yield from _names(node.value)
    elif isinstance(node, (ir.LayerUse, ir.BlockUse)):
        for arg in node.args:
            yield from _names(arg)
    elif isinstance(node, ir.Repeat):
        yield from _names(node.item)
        yield from _names(node.count)
    elif isinstance(node, ir.Chain):
        for item in node.items:
            yield from _names(item)
    elif isinstance(node, ir.Combine):
        for branch in node.branches:
            yield from _names(branch)


# ---- chains -----------------------------------------------------------------------

def _chain(chain: ir.Chain, env: Env, scope: _Scope, ctx: _Context,
           stack: tuple[str, ...]) -> ir.Sequence:
    items: list = []
    for item in chain.items:
        items.extend(_item(item, env, scope, ctx, stack))
    return ir.Sequence(span=chain.span, text=ctx.text(chain.span), name=scope.prefix.rstrip("_"),
                       items=tuple(items))


def _item(item, env: Env, scope: _Scope, ctx: _Context, stack: tuple[str, ...]) -> list:
    if isinstance(item, ir.Chain):
        return list(_chain(item, env, scope, ctx, stack).items)
    if isinstance(item, ir.Repeat):
        return _repeat(item, env, scope, ctx, stack)
    if isinstance(item, ir.Combine):
        return [_combine(item, env, scope, ctx, stack)]
    if isinstance(item, ir.BlockUse):
        return [_block_use(item, item.args, env, scope, ctx, stack)]
    return [_layer(item, env, scope, ctx, stack)]


def _count(n: int, ctx: _Context) -> None:
    ctx.elements += n
    if ctx.elements > MAX_ELEMENTS:
        raise _TooLarge


def _repeat(item: ir.Repeat, env: Env, scope: _Scope, ctx: _Context,
            stack: tuple[str, ...]) -> list:
    ctx.used_names.update(_names(item.count))
    count = evaluate(item.count, env, ctx.diagnostics)
    if count is None:
        return []
    if not isinstance(count.value, int) or count.value < 1:
        ctx.diagnostics.append(error("E0407", "a repetition count is a whole number, at least 1",
                                     item.count.span, f"got {count.value}"))
        return []
    _count(count.value, ctx)
    out: list = []
    for _ in range(count.value):
        out.extend(_item(item.item, env, scope, ctx, stack))
    return out


def _combine(item: ir.Combine, env: Env, scope: _Scope, ctx: _Context,
             stack: tuple[str, ...]) -> ir.Branches:
    _count(1, ctx)
    text = ctx.text(item.span)
    if item.kind == "residual":
        if len(item.branches) != 1:
            ctx.diagnostics.append(error("E0401", "`residual` takes exactly one chain",
                                         item.branches[1].span, "a second chain",
                                         help="for several branches use `add(...)`"))
        identity = ir.Sequence(span=item.keyword_span, text="identity", name="identity",
                               items=())
        body = _chain(item.branches[0], env, scope, ctx, stack)
        return ir.Branches(op="add", residual=True, span=item.span, text=text,
                           name=scope.name("residual"), branches=(identity, body))
    branches = tuple(_chain(b, env, scope.branch(i + 1), ctx, stack)
                     for i, b in enumerate(item.branches))
    if len(branches) < 2:
        ctx.diagnostics.append(error("E0401", f"`{item.kind}` needs at least two branches",
                                     item.keyword_span, "one branch given",
                                     help="for a skip connection, use `residual(...)`"))
    return ir.Branches(op=item.kind, span=item.span, text=text, name=scope.name(item.kind),
                       branches=branches)


def _layer(use: ir.LayerUse, env: Env, scope: _Scope, ctx: _Context,
           stack: tuple[str, ...]) -> ir.Node:
    _count(1, ctx)
    text = ctx.text(use.span)
    if use.name in ctx.blocks:
        if use.args:
            ctx.diagnostics.append(error(
                "E0206", f"pass the arguments of block `{use.name}` in parentheses",
                use.args[0].span, "read as layer arguments",
                help=f"write `{use.name}(...)`, with no space before `(`"))
            return ir.Unresolved(span=use.span, text=text, name="?")
        return _block_use(use, (), env, scope, ctx, stack)
    op = canonical(use.name)
    if op is None:
        ctx.diagnostics.append(_unknown_layer(use, ctx))
        return ir.Unresolved(span=use.span, text=text, name="?")
    ctx.used_names.update(_names(use))
    bound = bind(op, use, env, set(LAYERS) | set(ALIASES) | set(ctx.blocks), ctx.diagnostics)
    if bound is None:
        return ir.Unresolved(span=use.span, text=text, name="?", keeps_shape=op in KEEPS_SHAPE)
    return _build(op, bound, use, text, scope, ctx)


def _build(op: str, bound: Bound, use: ir.LayerUse, text: str, scope: _Scope,
           ctx: _Context) -> ir.Node:
    values = bound.values
    common = dict(span=use.span, text=text, name=scope.name(family(op)),
                  sym=tuple(sorted(bound.sym.items())),
                  spans=tuple(sorted(bound.spans.items())))
    if op == "conv":
        if values.get("padding") == "same" and _any_above_one(values.get("stride", 1)):
            ctx.diagnostics.append(error(
                "E0305", "`same` padding needs stride 1", use.span,
                f"stride is {_show(values['stride'])}",
                help="drop `same` and give the padding with `p`, e.g. `p1` for a 3x3 kernel"))
            return ir.Unresolved(span=use.span, text=text, name="?")
        return ir.Conv(**common, **values)
    if op in ("maxpool", "avgpool"):
        values.setdefault("stride", values["kernel"])
        return ir.Pool(op=op, **common, **values)
    if op == "gap":
        return ir.AdaptivePool(op="gap", size=1, **common)
    if op in ("adaptiveavgpool", "adaptivemaxpool"):
        return ir.AdaptivePool(op=op, **common, **values)
    if op == "fc":
        return ir.Linear(**common, **values)
    if op == "dropout":
        return ir.Dropout(**common, p=float(values["p"]))
    if op == "elu" or op == "leakyrelu":
        return ir.Activation(op=op, **common, param=float(values["param"]))
    simple = {"flatten": ir.Flatten, "batchnorm": ir.BatchNorm, "identity": ir.Identity}
    if op in simple:
        return simple[op](**common)
    if op in ("softmax", "logsoftmax"):
        return ir.Softmax(op=op, **common)
    return ir.Activation(op=op, **common)


def _any_above_one(value) -> bool:
    return any(v > 1 for v in (value if isinstance(value, tuple) else (value,)))


def _show(value) -> str:
    return "x".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _unknown_layer(use: ir.LayerUse, ctx: _Context) -> Diagnostic:
    words = sorted(set(LAYERS) | set(ALIASES) | set(ctx.blocks))
    close = difflib.get_close_matches(use.name, words, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(use.name.lower(), words, n=1, cutoff=0.6)
    kind = "block" if use.name[:1].isupper() else "layer"
    return error("E0201", f"unknown {kind} `{use.name}`", use.name_span,
                 "not a layer word or a block of this file",
                 help=f"did you mean `{close[0]}`?" if close else
                 "layer words are listed in the language reference; blocks are defined with "
                 "`block Name { ... }`")


# ---- blocks -------------------------------------------------------------------------

def _block_use(use, args: tuple, env: Env, scope: _Scope, ctx: _Context,
               stack: tuple[str, ...]) -> ir.Node:
    _count(1, ctx)
    text = ctx.text(use.span)
    if use.name in LAYERS or use.name in ALIASES:
        ctx.diagnostics.append(error(
            "E0206", f"`{use.name}` is a layer, not a block", use.name_span,
            "written as a block use", help=f"write its arguments after it with spaces: "
                                           f"`{use.name} ...`"))
        return ir.Unresolved(span=use.span, text=text, name="?")
    block = ctx.blocks.get(use.name)
    if block is None:
        ctx.diagnostics.append(_unknown_layer(use, ctx))
        return ir.Unresolved(span=use.span, text=text, name="?")
    if use.name in stack:
        cycle = " -> ".join(stack[stack.index(use.name):] + (use.name,))
        ctx.diagnostics.append(error("E0203", f"the block `{use.name}` uses itself",
                                     use.name_span, "recursive use",
                                     notes=[f"cycle: {cycle}"],
                                     help="a block cannot contain itself; "
                                          "repeat it with `* N` instead"))
        return ir.Unresolved(span=use.span, text=text, name="?")
    ctx.used_blocks.add(use.name)
    ctx.used_names.update(name for arg in args for name in _names(arg))
    bound = _bind_block_args(block, use, args, env, ctx)
    if bound is None:
        return ir.Unresolved(span=use.span, text=text, name="?")
    inner = {**ctx.constants, **{k: Value(v.value, k) for k, v in bound.items()}}
    body = _chain(block.body, inner, _Scope(), ctx, stack + (use.name,))
    sym = tuple((k, v.text) for k, v in bound.items() if v.symbolic)
    return ir.BlockCall(span=use.span, text=text, name=scope.name(_snake(block.name)),
                        block=block.name, args=tuple((k, v.value) for k, v in bound.items()),
                        body=body, sym=sym)


def _bind_block_args(block: ir.BlockDef, use, args: tuple, env: Env,
                     ctx: _Context) -> dict[str, Value] | None:
    params = {p.name: p for p in block.params}
    bound: dict[str, Value] = {}
    ok = True
    signature = f"{block.name}(" + ", ".join(p.name for p in block.params) + ")"
    positional = [p.name for p in block.params]
    for arg in args:
        if isinstance(arg, ir.Option):
            if arg.name not in params:
                close = difflib.get_close_matches(arg.name, list(params), n=1, cutoff=0.6)
                ctx.diagnostics.append(error(
                    "E0206", f"the block `{block.name}` has no parameter `{arg.name}`",
                    arg.name_span, "unknown parameter", notes=[f"signature: `{signature}`"],
                    help=f"did you mean `{close[0]}`?" if close else None))
                ok = False
                continue
            name = arg.name
        else:
            if not positional:
                ctx.diagnostics.append(error(
                    "E0206", f"too many arguments for block `{block.name}`", arg.span,
                    "not expected", notes=[f"signature: `{signature}`"]))
                ok = False
                continue
            name = positional[0]
        if name in bound:
            ctx.diagnostics.append(error("E0206", f"the parameter `{name}` is given twice",
                                         arg.span, "given again here"))
            ok = False
            continue
        if name in positional:
            positional.remove(name)
        value = evaluate(arg.value, env, ctx.diagnostics)
        if value is None or isinstance(value.value, tuple):
            if value is not None:
                ctx.diagnostics.append(error("E0402", "block arguments are numbers",
                                             arg.span, "a size"))
            ok = False
            continue
        bound[name] = value
    for param in block.params:
        if param.name in bound:
            continue
        if param.default is None:
            if ok:
                missing = ", ".join(f"{p.name}=..." for p in block.params if p.name not in bound)
                ctx.diagnostics.append(error(
                    "E0206", f"the block `{block.name}` needs its parameter `{param.name}`",
                    use.span, "missing argument", notes=[f"signature: `{signature}`"],
                    help=f"write `{block.name}({missing})`"))
            ok = False
            continue
        value = evaluate(param.default, ctx.constants, ctx.diagnostics)
        if value is None:
            ok = False
            continue
        bound[param.name] = literal(value.value)
    if not ok:
        return None
    return {p.name: bound[p.name] for p in block.params}


def _snake(name: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return snake + "_block" if snake in {family(op) for op in LAYERS} else snake
