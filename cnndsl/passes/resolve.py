"""Resolve: syntax tree -> annotated network.

One walk over the body with the shape flowing through it: folds constants,
binds layer arguments, instantiates blocks (parameters, defaults, keyword
arguments, `in`), unrolls repetition, binds labels (`as`, `@`), names every
element after its role (`conv1`, `branch2_conv1`, `inception1`), and annotates
every element with what `infer`'s rules find. Resolution and inference share
one walk because a block's arguments may read `in`, the channels entering it:
binding needs the shape. Pure: returns a new `Network` and the diagnostics.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

from cnndsl import expr as E
from cnndsl import habits, ir
from cnndsl import syntax as ast
from cnndsl.diagnostics import Diagnostic, Label, error, warning
from cnndsl.layers import COMBINATORS, LAYERS, canonical, layer_words
from cnndsl.passes import infer
from cnndsl.passes.bind import Bound, bind, show
from cnndsl.passes.declare import (
    block_defs,
    body_chain,
    check_binding_name,
    constants,
    inputs,
    model_name,
    output_chains,
)
from cnndsl.passes.evaluate import IN, UNKNOWN, Env, Value, evaluate, literal, parts, plain
from cnndsl.passes.infer import State
from cnndsl.passes.naming import name_modules
from cnndsl.passes.train_config import train_config
from cnndsl.shapes import fmt
from cnndsl.source import Source, Span
from cnndsl.suggest import did_you_mean, offer

#: More elements than this after unrolling is refused: no real network is
#: that large, and a typo such as `relu * 1000000` should not hang the checker.
MAX_ELEMENTS = 200_000

_COMMENT = re.compile(r"#[^\n]*")


class _TooLarge(Exception):
    pass


# ---- naming ---------------------------------------------------------------------------

@dataclass
class _Names:
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
class _Scope:
    """Where names are made: a class's namespace and a prefix (`branch2_`)."""

    names: _Names
    prefix: str = ""

    def name(self, base: str) -> str:
        return self.names.fresh(self.prefix + base)

    def within(self, prefix: str) -> _Scope:
        return _Scope(self.names, self.prefix + prefix)


# ---- labels ---------------------------------------------------------------------------

@dataclass
class _Defined:
    state: State | None
    span: Span
    used: bool = False
    kind: str = "label"


@dataclass
class _Labels:
    """The labels visible at one point: one per body (top level or block), a
    child per branch and per copy of a repeated item, whose labels stay there."""

    parent: _Labels | None = None
    defined: dict[str, _Defined] = field(default_factory=dict)
    later: frozenset[str] = frozenset()     # every label this body defines, anywhere
    ended: dict[str, Span] = field(default_factory=dict)  # labels of children that ended

    def child(self) -> _Labels:
        return _Labels(parent=self, later=self.later)

    def _chain(self):
        scope: _Labels | None = self
        while scope is not None:
            yield scope
            scope = scope.parent

    def find(self, name: str) -> _Defined | None:
        return next((s.defined[name] for s in self._chain() if name in s.defined), None)

    def ended_at(self, name: str) -> Span | None:
        return next((s.ended[name] for s in self._chain() if name in s.ended), None)

    def visible(self) -> list[str]:
        return [name for scope in self._chain() for name in scope.defined]


# ---- context --------------------------------------------------------------------------

@dataclass
class _Context:
    source: Source
    blocks: dict[str, ast.BlockDef]
    constants: Env
    diagnostics: list[Diagnostic]
    comments: dict[tuple[int, int], str]   # (start, end) of the element -> its comment
    words: set[str]
    used_blocks: set[str] = field(default_factory=set)
    used_names: set[str] = field(default_factory=set)
    elements: int = 0
    texts: dict[tuple[int, int], str] = field(default_factory=dict)
    unused: dict[int, Diagnostic] = field(default_factory=dict)
    habits: dict[int, Diagnostic | None] = field(default_factory=dict)   # by use start

    def text(self, span: Span) -> str:
        """The user's text under a span, comments left out, one string per span
        however many copies of the element unrolling makes."""
        key = (span.start, span.end)
        found = self.texts.get(key)
        if found is None:
            raw = _COMMENT.sub(" ", self.source.text[span.start:span.end])
            found = self.texts[key] = " ".join(raw.split())
        return found

    def count(self, n: int) -> None:
        self.elements += n
        if self.elements > MAX_ELEMENTS:
            raise _TooLarge


def resolve(program: ast.Program, source: Source,
            default_model: str = "Model") -> tuple[ir.Network | None, list[Diagnostic]]:
    """Resolve and infer a parsed program. Returns `(network, diagnostics)`; the
    network is None when the file has no usable input or body."""
    diagnostics: list[Diagnostic] = []
    blocks = block_defs(program, diagnostics)
    model = model_name(program, default_model, blocks, diagnostics)
    found_inputs = inputs(program, diagnostics)
    lets = constants(program, diagnostics)
    train = train_config(program, diagnostics)
    body = body_chain(program, diagnostics)
    outputs = output_chains(program, diagnostics)
    if body is None or not found_inputs:
        return None, diagnostics
    ctx = _Context(source, blocks, lets, diagnostics, _trailing_comments(program, source),
                   set(layer_words()) | set(blocks))
    try:
        sequence, chains = _network(body, outputs, found_inputs, ctx)
    except _TooLarge:
        diagnostics.append(error("E0006", "the network is too large", body.span,
                                 f"more than {MAX_ELEMENTS:,} layers once repetition "
                                 "is unrolled", help="check the repetition counts"))
        return None, diagnostics
    diagnostics.extend(ctx.unused.values())
    _unused(program, ctx, diagnostics)
    params = tuple((b.name, tuple((p.name, _default(p, lets)) for p in b.params))
                   for b in program.blocks if b.name in ctx.used_blocks)
    network = ir.Network(model=model, inputs=found_inputs, body=sequence, outputs=chains,
                         blocks=params, train=train)
    return network, diagnostics


def _network(body: ast.Chain, outputs: tuple[ast.Chain, ...], found: tuple[ir.NetInput, ...],
             ctx: _Context) -> tuple[ir.Sequence, tuple[ir.Sequence, ...]]:
    labels = _Labels(later=frozenset(_labels_in(body)))
    for net_input in found:
        if net_input.named:
            labels.defined[net_input.name] = _Defined(
                infer.start(net_input.shape, net_input.span), net_input.span, kind="input",
                used=net_input is found[0])   # the body starts from the first
    first = infer.start(found[0].shape, found[0].span)
    env = {**ctx.constants, IN: literal(found[0].shape[0])}
    # generated module names step aside for the labels, which name modules
    names = _Names({name for chain in (body, *outputs) for name in _labels_in(chain)})
    sequence, _ = _sequence(body, env, _Scope(names), labels, first, (), ctx, may_ref=True)
    chains = []
    for index, chain in enumerate(outputs, start=1):
        if not chain.items or not isinstance(chain.items[0], ast.Ref):
            ctx.diagnostics.append(error(
                "E0215", "an `output` chain starts from a label", chain.span,
                "no `@label` here", help="start it with the label of a tensor of the body: "
                "`output @p3, @p4 -> conv 256 k1`"))
            continue
        seq, _ = _sequence(chain, env, _Scope(names, f"output{index}_"), labels, None, (), ctx,
                           may_ref=True)
        chains.append(seq)
    _close(labels, ctx)
    sequence, *chains = name_modules((sequence, *chains), ctx.diagnostics)
    return sequence, tuple(chains)


def _trailing_comments(program: ast.Program, source: Source) -> dict[tuple[int, int], str]:
    """Comments that end a line holding code, each given to the element that
    ends last on its line (the merge rather than its branch; the layer after a
    block use): by the (start, end) of that element's span."""
    by_line: dict[int, str] = {}
    for comment in program.comments:
        before = source.line_text(comment.span.line)[:comment.span.column - 1]
        if before.strip() and comment.text:
            by_line[comment.span.line] = comment.text
    if not by_line:
        return {}
    best: dict[int, Span] = {}
    chains = [*program.bodies, *(b.body for b in program.blocks),
              *(c for o in program.outputs for c in o.chains)]
    for span in _item_spans(chains):
        line = span.end_line
        if line in by_line:
            held = best.get(line)
            if held is None or (span.end, -span.start) > (held.end, -held.start):
                best[line] = span
    return {(span.start, span.end): by_line[line] for line, span in best.items()}


def _item_spans(chains):
    """The spans of every layer, block use and merge in these chains, at any depth."""
    return (item.span for item in _items(*chains)
            if isinstance(item, (ast.LayerUse, ast.BlockUse, ast.Combine)))


def _default(param: ast.Param, lets: Env) -> int | float | None:
    if param.default is None:
        return None
    value = evaluate(param.default, lets, [])
    if value is None or not value.known or isinstance(value.value, tuple):
        return None
    return plain(value.value)


def _unused(program: ast.Program, ctx: _Context, diagnostics: list[Diagnostic]) -> None:
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
                        "W0105", f"the parameter `{param.name}` of block `{block.name}` is "
                        "never used", param.span, "defined here",
                        help="use it in the block's body, or remove it; a short flag "
                             "such as `s2` takes only a number, so pass a parameter by "
                             f"name: `stride={param.name}`"))
    used = ctx.used_names.union(*(_names(let.value) for let in program.lets))
    for let in program.lets:
        if let.name not in used:
            diagnostics.append(warning("W0106", f"the constant `{let.name}` is never used",
                                       let.name_span, "defined here",
                                       help="use it, or remove it"))


def _items(*nodes):
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


def _names(node):
    """Every name a piece of syntax refers to (constants and block parameters): a
    chain, an item, an argument or an expression."""
    if isinstance(node, (ast.Positional, ast.Option, *_EXPRESSIONS)):
        yield from _expression_names(node)
        return
    for item in _items(node):
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


def _labels_in(node):
    """Every label a chain defines, at any depth (not inside blocks it uses)."""
    return (item.label for item in _items(node) if isinstance(item, ast.Labelled))


# ---- chains -----------------------------------------------------------------------

Nodes = list


def _sequence(chain: ast.Chain, env: Env, scope: _Scope, labels: _Labels, state: State | None,
              stack: tuple[str, ...], ctx: _Context, *, may_ref: bool = False
              ) -> tuple[ir.Sequence, State | None]:
    before = state
    items, state = _chain(chain, env, scope, labels, state, stack, ctx, may_ref=may_ref)
    seq = ir.Sequence(span=chain.span, text=ctx.text(chain.span),
                      name=scope.prefix.rstrip("_"), items=tuple(items))
    return _annotate_sequence(seq, before, state), state


def _annotate_sequence(seq: ir.Sequence, before: State | None,
                       after: State | None) -> ir.Sequence:
    """A sequence's info: its input and output, and the totals of everything in it."""
    if after is None:
        return seq
    start = before or after
    params = buffers = macs = 0
    for node in seq.items:
        for part in node.branches if isinstance(node, ir.Merge) else (node,):
            if part.info is not None:
                params += part.info.params
                buffers += part.info.buffers
                macs += part.info.macs
    info = infer.info(start, after, infer.Cost(params, buffers, macs))
    return replace(seq, info=info)


def _chain(chain: ast.Chain, env: Env, scope: _Scope, labels: _Labels, state: State | None,
           stack: tuple[str, ...], ctx: _Context, *, may_ref: bool = False
           ) -> tuple[Nodes, State | None]:
    items: Nodes = []
    for index, item in enumerate(chain.items):
        if isinstance(item, ast.Ref):
            if index or not may_ref:
                ctx.diagnostics.append(_misplaced_ref(item, labels))
                return items, None
            node, state = _ref(item, labels, ctx)
            items.append(node)
            continue
        nodes, state = _item(item, env, scope, labels, state, stack, ctx)
        items.extend(nodes)
    return _with_comments(items, ctx), state


def _with_comments(items: Nodes, ctx: _Context) -> Nodes:
    """A trailing comment goes to its element; unrolled, to the last copy."""
    if not ctx.comments:
        return items
    last: dict[tuple[int, int], int] = {}
    for index, node in enumerate(items):
        key = (node.span.start, node.span.end)
        if key in ctx.comments:
            last[key] = index
    for key, index in last.items():
        items[index] = replace(items[index], comment=ctx.comments[key])
    return items


def _misplaced_ref(item: ast.Ref, labels: _Labels) -> Diagnostic:
    found = labels.find(item.name)
    if found is not None:
        found.used = True   # meant as a use: no second complaint that it is unused
    return error("E0215", f"`@{item.name}` can only start a chain", item.span,
                 "in the middle of a chain",
                 help="use it first in a branch (`concat(@e1, identity)`, "
                      f"`add(identity, @{item.name} -> conv 64 k1)`) or in `output`")


def _item(item, env: Env, scope: _Scope, labels: _Labels, state: State | None,
          stack: tuple[str, ...], ctx: _Context) -> tuple[Nodes, State | None]:
    if isinstance(item, ast.Chain):
        return _chain(item, env, scope, labels, state, stack, ctx)
    if isinstance(item, ast.Repeat):
        return _repeat(item, env, scope, labels, state, stack, ctx)
    if isinstance(item, ast.If):
        return _if(item, env, scope, labels, state, stack, ctx)
    if isinstance(item, ast.Combine):
        node, state = _merge(item, env, scope, labels, state, stack, ctx)
        return [node], state
    if isinstance(item, ast.Labelled):
        return _labelled(item, env, scope, labels, state, stack, ctx)
    if isinstance(item, ast.Ref):
        ctx.diagnostics.append(_misplaced_ref(item, labels))
        return [], None
    if isinstance(item, ast.BlockUse):
        node, state = _block_use(item, item.args, env, scope, state, stack, ctx)
        return [node], state
    node, state = _layer(item, env, scope, state, stack, ctx, labels)
    return [node], state


def _repeat(item: ast.Repeat, env: Env, scope: _Scope, labels: _Labels, state: State | None,
            stack: tuple[str, ...], ctx: _Context) -> tuple[Nodes, State | None]:
    ctx.used_names.update(_names(item.count))
    count = evaluate(item.count, env, ctx.diagnostics)
    if count is None or not count.known:
        return [], None
    if not isinstance(count.value, int) or count.value < 0:
        ctx.diagnostics.append(error("E0407", "a repetition count is a whole number, at least 0",
                                     item.count.span, f"got {show(plain(count.value))}",
                                     help="`* 0` is the identity; `* 1` is one copy"))
        return [], None
    ctx.count(count.value)
    out: Nodes = []
    for _ in range(count.value):
        copy = labels.child()
        nodes, state = _item(item.item, env, scope, copy, state, stack, ctx)
        _close(copy, ctx)
        out.extend(nodes)
    return out, state


def _if(item: ast.If, env: Env, scope: _Scope, labels: _Labels, state: State | None,
        stack: tuple[str, ...], ctx: _Context) -> tuple[Nodes, State | None]:
    """`if COND { a } else { b }`: the branch COND chooses, here (in this block
    use); the other need not be valid. No `else` is the identity."""
    ctx.used_names.update(_names(item))
    test = evaluate(item.test, env, ctx.diagnostics, truth=True)
    if test is None or not test.known:
        return [], None
    chosen = item.then if test.value else item.other
    if chosen is None:
        return [], state
    return _item(chosen, env, scope, labels, state, stack, ctx)


def _labelled(item: ast.Labelled, env: Env, scope: _Scope, labels: _Labels,
              state: State | None, stack: tuple[str, ...], ctx: _Context
              ) -> tuple[Nodes, State | None]:
    nodes, state = _item(item.item, env, scope, labels, state, stack, ctx)
    name = item.label
    if not check_binding_name(name, item.label_span, "label", ctx.diagnostics):
        return nodes, state
    first = labels.find(name)
    if first is not None:
        what = "input" if first.kind == "input" else "label"
        ctx.diagnostics.append(error(
            "E0212", f"the {what} `{name}` is defined twice", item.label_span,
            "defined again here", secondary=[Label(span=first.span, text="first defined here")],
            help="give each label its own name"))
        return nodes, state
    names = ("module" if isinstance(item.item, (ast.LayerUse, ast.BlockUse)) else
             "group" if isinstance(item.item, (ast.Chain, ast.Repeat, ast.If)) else "")
    label = ir.Label(span=item.label_span, text=name, name=name, label=name, names=names,
                     covers=len(nodes))
    # a label that names a module is used: the module has its name
    labels.defined[name] = _Defined(state, item.label_span, used=bool(names))
    if state is not None:
        label = replace(label, info=infer.info(state, state, infer.Cost()))
    return nodes + [label], state


def _ref(item: ast.Ref, labels: _Labels, ctx: _Context) -> tuple[ir.Ref, State | None]:
    node = ir.Ref(span=item.span, text=f"@{item.name}", name=item.name, label=item.name)
    found = labels.find(item.name)
    if found is not None:
        found.used = True
        state = found.state
        if state is not None:
            node = replace(node, info=infer.info(state, state, infer.Cost()))
        return node, state
    ctx.diagnostics.append(_unknown_label(item, labels))
    return node, None


def _unknown_label(item: ast.Ref, labels: _Labels) -> Diagnostic:
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


def _close(labels: _Labels, ctx: _Context) -> None:
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


# ---- merges --------------------------------------------------------------------------

_ONE_BRANCH = {"residual": "add", "gate": "mul"}


def _merge(item: ast.Combine, env: Env, scope: _Scope, labels: _Labels, state: State | None,
           stack: tuple[str, ...], ctx: _Context) -> tuple[ir.Node, State | None]:
    ctx.count(1)
    text = ctx.text(item.span)
    form = item.op if item.op in _ONE_BRANCH else None
    op = _ONE_BRANCH.get(item.op, item.op)
    if not _branch_count_ok(item, ctx):
        state = None
    syntax_branches = item.branches[:1] if form else item.branches
    branch_in = state
    if op == "split" and state is not None:
        branch_in = infer.split_input(item.keyword_span, len(item.branches), state,
                                      ctx.diagnostics)
    branches, results = [], []
    if form:
        identity = ir.Sequence(span=item.keyword_span, text="identity", name="identity",
                               items=())
        branches.append(_annotate_sequence(identity, state, state))
        if state is not None:
            results.append(infer.Branch(state, item.keyword_span, "the input", state.trace))
    for index, branch in enumerate(syntax_branches, start=1):
        inner = labels.child()
        # a residual's or a gate's body reads as part of the chain: no prefix
        seq, out = _sequence(branch, env, scope.within("" if form else f"branch{index}_"), inner,
                             infer.with_trace(branch_in, ()) if branch_in else None, stack, ctx,
                             may_ref=op != "split")
        _close(inner, ctx)
        branches.append(seq)
        if out is not None:
            results.append(_branch_result(branch, seq, out, state))
    node = ir.Merge(op=op, form=form, span=item.span, text=text, name=scope.name(item.op),
                    branches=tuple(branches))
    if state is None or len(results) != len(branches):
        return node, None
    merged = infer.merge(node, state, results, ctx.diagnostics)
    if merged is None:
        return node, None
    cost = infer.Cost()
    return replace(node, info=infer.info(state, merged, cost)), merged


def _branch_result(branch: ast.Chain, seq: ir.Sequence, out: State,
                   state: State) -> infer.Branch:
    """How a merge's message names a branch: `@e1` (pointing where e1 was
    made), `the input`, or the output of its last layer."""
    first = branch.items[0] if branch.items else None
    where = out.last or branch.span
    if isinstance(first, ast.Ref):
        alone = len(branch.items) == 1
        return infer.Branch(out, where, f"@{first.name}" if alone else "output", out.trace)
    if all(isinstance(n, ir.Identity) for n in seq.items):
        return infer.Branch(out, branch.span, "the input", state.trace)
    return infer.Branch(out, where, "output", out.trace)


def _branch_count_ok(item: ast.Combine, ctx: _Context) -> bool:
    if item.op in _ONE_BRANCH and len(item.branches) != 1:
        other = _ONE_BRANCH[item.op]
        ctx.diagnostics.append(error("E0410", f"`{item.op}` takes exactly one chain",
                                     item.branches[1].span, "a second chain",
                                     help=f"for several branches use `{other}(...)`"))
        return False
    if item.op not in _ONE_BRANCH and len(item.branches) < 2:
        ctx.diagnostics.append(error("E0410", f"`{item.op}` needs at least two branches",
                                     item.keyword_span, "one branch given",
                                     help="for a skip connection, use `residual(...)`"
                                     if item.op == "add" else None))
        return False
    return True


# ---- layers ------------------------------------------------------------------------

def _layer(use: ast.LayerUse, env: Env, scope: _Scope, state: State | None,
           stack: tuple[str, ...], ctx: _Context,
           labels: _Labels | None = None) -> tuple[ir.Node, State | None]:
    ctx.count(1)
    text = ctx.text(use.span)
    if use.name in ctx.blocks:
        if use.args:
            ctx.diagnostics.append(error(
                "E0206", f"pass the arguments of block `{use.name}` in parentheses",
                use.args[0].span, "read as layer arguments",
                help=f"write `{use.name}(...)`, with no space before `(`"))
            return ir.Unresolved(span=use.span, text=text, name="?"), None
        return _block_use(use, (), env, scope, state, stack, ctx)
    op = canonical(use.name)
    if op is None:
        ctx.diagnostics.append(_unknown_layer(use, ctx))
        return ir.Unresolved(span=use.span, text=text, name="?"), None
    ctx.used_names.update(_names(use))
    bound = bind(op, use, env, ctx.words, ctx.diagnostics)
    word = LAYERS[op]
    if bound is None:
        node = ir.Unresolved(span=use.span, text=text, name="?", keeps_shape=word.keeps_shape)
        if word.keeps_shape and state is not None:
            return node, infer.keep(state, use.name, use.span)
        return node, None
    node = _build(op, bound, use, text, scope)
    like_state = None
    if getattr(node, "like", None) is not None:
        like_state = _like(use, labels, ctx)
        if like_state is False or like_state is None:
            return node, None
    if state is None:
        return node, None
    result = infer.layer(node, state, ctx.diagnostics, like=like_state)
    if result is None:
        return node, None
    after, cost = result
    return replace(node, info=infer.info(state, after, cost)), after


def _like(use: ast.LayerUse, labels: _Labels | None, ctx: _Context):
    """The label `use` follows (`upsample like=@NAME`) and its state: None where it
    has none; False where its label is unknown or unreachable (said here)."""
    refs = [a.value for a in use.args
            if isinstance(a, ast.Option) and isinstance(a.value, ast.Ref)]
    if not refs or labels is None:
        return None     # a misplaced `@NAME` is the binder's to report
    ref = refs[-1]
    found = labels.find(ref.name)
    if found is None:
        ctx.diagnostics.append(_unknown_label(ref, labels))
        return False
    found.used = True
    return found.state


def _build(op: str, bound: Bound, use: ast.LayerUse, text: str, scope: _Scope) -> ir.Node:
    values = dict(bound.values)
    common = dict(span=use.span, text=text, name=scope.name(LAYERS[op].role),
                  sym=tuple(sorted(bound.sym.items())),
                  spans=tuple(sorted(bound.spans.items())))
    return _BUILDERS.get(op, _activation)(op, values, common)


def _activation(op, values, common):
    param = values.get("param")
    return ir.Activation(op=op, **common, param=float(param) if param is not None else None)


def _pool(op, values, common):
    values.setdefault("stride", values["kernel"])
    return ir.Pool(op=op, **common, **values)


def _dropout(op, values, common):
    return ir.Dropout(op=op, **common, p=float(values["p"]))


def _norm(op, values, common):
    eps = values.get("eps")
    momentum = values.get("momentum")
    return ir.Norm(op=op, **common, groups=values.get("groups"),
                   eps=float(eps) if eps is not None else None,
                   momentum=float(momentum) if momentum is not None else None,
                   affine=values.get("affine", False))


def _upsample(op, values, common):
    return ir.Upsample(**common, **values)


_BUILDERS = {
    "conv": lambda op, v, c: ir.Conv(**c, **v),
    "convt": lambda op, v, c: ir.ConvT(**c, **v),
    "maxpool": _pool, "avgpool": _pool,
    "gap": lambda op, v, c: ir.AdaptivePool(op="gap", size=1, **c),
    "adaptiveavgpool": lambda op, v, c: ir.AdaptivePool(op=op, **c, **v),
    "adaptivemaxpool": lambda op, v, c: ir.AdaptivePool(op=op, **c, **v),
    "gmp": lambda op, v, c: ir.AdaptivePool(op="gmp", size=1, **c),
    "channelmean": lambda op, v, c: ir.ChannelReduce(op=op, **c),
    "channelmax": lambda op, v, c: ir.ChannelReduce(op=op, **c),
    "flatten": lambda op, v, c: ir.Flatten(**c),
    "unflatten": lambda op, v, c: ir.Unflatten(**c, **v),
    "fc": lambda op, v, c: ir.Linear(**c, **v),
    "dropout": _dropout, "droppath": _dropout,
    "batchnorm": _norm, "layernorm": _norm, "groupnorm": _norm, "instancenorm": _norm,
    "softmax": lambda op, v, c: ir.Softmax(op=op, **c),
    "logsoftmax": lambda op, v, c: ir.Softmax(op=op, **c),
    "identity": lambda op, v, c: ir.Identity(**c),
    "upsample": _upsample,
    "pad": lambda op, v, c: ir.Pad(**c, **{k: (float(x) if k == "value" else x)
                                           for k, x in v.items()}),
    "pixelshuffle": lambda op, v, c: ir.PixelShuffle(op=op, **c, **v),
    "pixelunshuffle": lambda op, v, c: ir.PixelShuffle(op=op, **c, **v),
    "shuffle": lambda op, v, c: ir.ChannelShuffle(**c, **v),
    "scale": lambda op, v, c: ir.Scale(**c, init=float(v["init"])),
}


def _unknown_layer(use, ctx: _Context) -> Diagnostic:
    if use.span.start not in ctx.habits:   # once per use, however often a block unrolls it
        ctx.habits[use.span.start] = (
            habits.pasted_call(ctx.source, use.span.start) if isinstance(use, ast.BlockUse)
            else habits.bare_word(use.name, use.name_span))
    habit = ctx.habits[use.span.start]
    if habit is not None:    # PyTorch's or Keras's word: name cnndsl's
        return habit
    kind = "block" if use.name[:1].isupper() else "layer"
    words = list(ctx.words)
    if isinstance(use, ast.BlockUse):
        words += [f"{c}" for c in COMBINATORS]
    close = did_you_mean(use.name, words, meaning=lambda w: canonical(w) or w)
    if isinstance(use, ast.BlockUse) and close and close.word in COMBINATORS:
        return error("E0201", f"unknown combinator `{use.name}(`", use.name_span,
                     "not a combinator or a block of this file",
                     **offer(close, use.name_span, "{}("))
    return error("E0201", f"unknown {kind} `{use.name}`", use.name_span,
                 "not a layer word or a block of this file",
                 **offer(close, use.name_span, otherwise="`cnndsl explain E0201` lists the layer "
                         "words (so does docs/layers.md); blocks are defined with "
                         "`block Name { ... }`"))


# ---- blocks -------------------------------------------------------------------------

def _block_use(use, args: tuple, env: Env, scope: _Scope, state: State | None,
               stack: tuple[str, ...], ctx: _Context) -> tuple[ir.Node, State | None]:
    ctx.count(1)
    text = ctx.text(use.span)
    unresolved = ir.Unresolved(span=use.span, text=text, name="?")
    if canonical(use.name) is not None:
        ctx.diagnostics.append(error(
            "E0206", f"`{use.name}` is a layer, not a block", use.name_span,
            "written as a block use", help=f"write its arguments after it with spaces: "
                                           f"`{use.name} ...`"))
        return unresolved, None
    block = ctx.blocks.get(use.name)
    if block is None:
        ctx.diagnostics.append(_unknown_layer(use, ctx))
        return unresolved, None
    if use.name in stack:
        cycle = " -> ".join(stack[stack.index(use.name):] + (use.name,))
        ctx.diagnostics.append(error("E0203", f"the block `{use.name}` uses itself",
                                     use.name_span, "recursive use", notes=[f"cycle: {cycle}"],
                                     help="a block cannot contain itself; "
                                          "repeat it with `* N` instead"))
        return unresolved, None
    ctx.used_blocks.add(use.name)
    ctx.used_names.update(name for arg in args for name in _names(arg))
    bound = _bind_block_args(block, use, args, env, ctx)
    if bound is None:
        return unresolved, None
    # a number stays its parameter's name in the block class; a size is written out
    inner = {**ctx.constants,
             **{k: Value(v.value, None if isinstance(v.value, (tuple, bool)) else E.Name(k))
                for k, v in bound.items()},
             IN: Value(state.channels, E.In()) if state is not None else UNKNOWN}
    labels = _Labels(later=frozenset(_labels_in(block.body)))
    before = len(ctx.diagnostics)
    body, out = _sequence(block.body, inner, _Scope(_Names(set(_labels_in(block.body)))),
                          labels, state, stack + (use.name,), ctx)
    body, = name_modules((body,), ctx.diagnostics)
    _close(labels, ctx)
    _name_the_use(ctx.diagnostics, before, use, bound, state)
    sym = tuple((k, v.expr) for k, v in bound.items() if v.symbolic)
    node = ir.BlockCall(span=use.span, text=text, name=scope.name(_snake(block.name)),
                        block=block.name, args=tuple((k, plain(v.value)) for k, v in bound.items()),
                        body=body, sym=sym)
    if state is None or out is None or body.info is None:
        return node, None
    after = State(out.shape, out.rf, out.jump, infer.step(state, _snake(block.name), out.shape),
                  use.span)
    summed = infer.Cost(body.info.params, body.info.buffers, body.info.macs)
    return replace(node, info=infer.info(state, after, summed)), after


def _shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return show(value)


#: shapes and values depend on the use; names, labels and recursion do not
_USE_DEPENDENT = ("E03", "E04")


def _name_the_use(diagnostics: list[Diagnostic], since: int, use, bound: dict[str, Value],
                  state: State | None) -> None:
    """Label the block use that caused what was found in the block's body
    (`used here with c = 32, on 16x14x14`): the body alone does not say which
    of its uses went wrong."""
    given = ", ".join(f"{name} = {_shown(value.value)}" for name, value in bound.items())
    text = "used here" + (f" with {given}" if given else "")
    if state is not None:
        text += f"{',' if given else ''} on {fmt(state.shape)}"
    for index in range(since, len(diagnostics)):
        found = diagnostics[index]
        if (found.span is None or use.span.start <= found.span.start < use.span.end
                or not found.code.startswith(_USE_DEPENDENT)):
            continue
        label = Label(span=use.span, text=text)
        diagnostics[index] = replace(found, secondary=found.secondary + (label,))


def _bind_block_args(block: ast.BlockDef, use, args: tuple, env: Env,
                     ctx: _Context) -> dict[str, Value] | None:
    params = {p.name: p for p in block.params}
    bound: dict[str, Value] = {}
    ok = True
    signature = f"{block.name}(" + ", ".join(p.name for p in block.params) + ")"
    positional = [p.name for p in block.params]
    for arg in args:
        if isinstance(arg, ast.Option):
            if arg.name not in params:
                close = did_you_mean(arg.name, list(params))
                ctx.diagnostics.append(error(
                    "E0208", f"the block `{block.name}` has no parameter `{arg.name}`",
                    arg.name_span, "unknown parameter", notes=[f"signature: `{signature}`"],
                    **offer(close, arg.name_span)))
                ok = False
                continue
            name = arg.name
        else:
            if not positional:
                ctx.diagnostics.append(error(
                    "E0209", f"too many arguments for block `{block.name}`", arg.span,
                    "not expected", notes=[f"signature: `{signature}`"]))
                ok = False
                continue
            name = positional[0]
        if name in bound:
            ctx.diagnostics.append(error("E0405", f"the parameter `{name}` is given twice",
                                         arg.span, "given again here", help="keep one of them"))
            ok = False
            continue
        if name in positional:
            positional.remove(name)
        value = evaluate(arg.value, env, ctx.diagnostics, truth=None)
        if value is None:
            ok = False
            continue
        bound[name] = value   # a number, a size (`k=1x7`) or a truth value (`first=i == 0`)
    ok = _defaults(block, use, bound, ok, signature, ctx) and ok
    if not ok or any(not v.known for v in bound.values()):
        return None
    return {p.name: bound[p.name] for p in block.params}


def _defaults(block: ast.BlockDef, use, bound: dict[str, Value], ok: bool, signature: str,
              ctx: _Context) -> bool:
    for param in block.params:
        if param.name in bound:
            continue
        if param.default is None:
            if ok:
                missing = ", ".join(f"{p.name}=..." for p in block.params if p.name not in bound)
                ctx.diagnostics.append(error(
                    "E0210", f"the block `{block.name}` needs its parameter `{param.name}`",
                    use.span, "missing argument", notes=[f"signature: `{signature}`"],
                    help=f"write `{block.name}({missing})`"))
            ok = False
            continue
        ctx.used_names.update(_names(param.default))
        value = evaluate(param.default, ctx.constants, ctx.diagnostics, truth=None)
        if value is None:
            ok = False
            continue
        bound[param.name] = literal(value.value)
    return ok


_ROLES = {word.role for word in LAYERS.values()} | {"output", "branch", "identity"}


def _snake(name: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return snake + "_block" if snake in _ROLES or snake in COMBINATORS else snake
