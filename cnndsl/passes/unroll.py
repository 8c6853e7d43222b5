"""Unroll: the walk over chains with the shape flowing through them. Repetition
is unrolled (`* N`, a fresh label scope per copy), `if` chooses its branch,
labels are bound (`as NAME`, `@NAME`), merges are built from their branches,
and a block use's body is walked where it is used (`cnndsl.passes.blocks` binds
its arguments). Every element is annotated by `infer`'s rules on the way."""

from __future__ import annotations

from dataclasses import replace

from cnndsl.diagnostics.diagnostic import Label, error
from cnndsl.front import syntax as ast
from cnndsl.ir import nodes as ir
from cnndsl.passes import blocks, infer
from cnndsl.passes.bind import show
from cnndsl.passes.constants import Env, evaluate, plain
from cnndsl.passes.construct import layer
from cnndsl.passes.context import Context
from cnndsl.passes.declare import check_binding_name
from cnndsl.passes.flow import State
from cnndsl.passes.naming import name_modules
from cnndsl.passes.scopes import (
    Defined,
    Labels,
    Names,
    Scope,
    close_labels,
    misplaced_ref,
    unknown_label,
)
from cnndsl.passes.uses import labels_in, names_in

Nodes = list


def sequence(chain: ast.Chain, env: Env, scope: Scope, labels: Labels, state: State | None,
             stack: tuple[str, ...], ctx: Context, *, may_ref: bool = False
             ) -> tuple[ir.Sequence, State | None]:
    before = state
    items, state = _chain(chain, env, scope, labels, state, stack, ctx, may_ref=may_ref)
    seq = ir.Sequence(span=chain.span, text=ctx.text(chain.span),
                      name=scope.prefix.rstrip("_"), items=tuple(items))
    return annotate_sequence(seq, before, state), state


def annotate_sequence(seq: ir.Sequence, before: State | None,
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


def _chain(chain: ast.Chain, env: Env, scope: Scope, labels: Labels, state: State | None,
           stack: tuple[str, ...], ctx: Context, *, may_ref: bool = False
           ) -> tuple[Nodes, State | None]:
    items: Nodes = []
    for index, item in enumerate(chain.items):
        if isinstance(item, ast.Ref):
            if index or not may_ref:
                ctx.diagnostics.append(misplaced_ref(item, labels))
                return items, None
            node, state = _ref(item, labels, ctx)
            items.append(node)
            continue
        nodes, state = _item(item, env, scope, labels, state, stack, ctx)
        items.extend(nodes)
    return _with_comments(items, ctx), state


def _with_comments(items: Nodes, ctx: Context) -> Nodes:
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


def _item(item, env: Env, scope: Scope, labels: Labels, state: State | None,
          stack: tuple[str, ...], ctx: Context) -> tuple[Nodes, State | None]:
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
        ctx.diagnostics.append(misplaced_ref(item, labels))
        return [], None
    if isinstance(item, ast.BlockUse):
        node, state = block_use(item, item.args, env, scope, state, stack, ctx)
        return [node], state
    node, state = _layer_use(item, env, scope, labels, state, stack, ctx)
    return [node], state



def _layer_use(use: ast.LayerUse, env: Env, scope: Scope, labels: Labels, state: State | None,
               stack: tuple[str, ...], ctx: Context) -> tuple[ir.Node, State | None]:
    """A layer word, or a block's name written bare (`Stem`, a use without arguments)."""
    ctx.count(1)
    if use.name not in ctx.blocks:
        return layer(use, env, scope, state, ctx, labels)
    if use.args:
        ctx.diagnostics.append(error(
            "E0206", f"pass the arguments of block `{use.name}` in parentheses",
            use.args[0].span, "read as layer arguments",
            help=f"write `{use.name}(...)`, with no space before `(`"))
        return ir.Unresolved(span=use.span, text=ctx.text(use.span), name="?"), None
    return block_use(use, (), env, scope, state, stack, ctx)


def block_use(use, args: tuple, env: Env, scope: Scope, state: State | None,
              stack: tuple[str, ...], ctx: Context) -> tuple[ir.Node, State | None]:
    """A block used here: its arguments bound, its body walked on this input."""
    ctx.count(1)
    text = ctx.text(use.span)
    found = blocks.bind_use(use, args, env, state, stack, ctx)
    if found is None:
        return ir.Unresolved(span=use.span, text=text, name="?"), None
    block, bound, inner = found
    labels = Labels(later=frozenset(labels_in(block.body)))
    before = len(ctx.diagnostics)
    body, out = sequence(block.body, inner, Scope(Names(set(labels_in(block.body)))),
                         labels, state, stack + (use.name,), ctx)
    body, = name_modules((body,), ctx.diagnostics)
    close_labels(labels, ctx)
    blocks.name_the_use(ctx.diagnostics, before, use, bound, state)
    return blocks.call(use, text, block, bound, body, out, state, scope)


def _repeat(item: ast.Repeat, env: Env, scope: Scope, labels: Labels, state: State | None,
            stack: tuple[str, ...], ctx: Context) -> tuple[Nodes, State | None]:
    ctx.used_names.update(names_in(item.count))
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
        close_labels(copy, ctx)
        out.extend(nodes)
    return out, state


def _if(item: ast.If, env: Env, scope: Scope, labels: Labels, state: State | None,
        stack: tuple[str, ...], ctx: Context) -> tuple[Nodes, State | None]:
    """`if COND { a } else { b }`: the branch COND chooses, here (in this block
    use); the other need not be valid. No `else` is the identity."""
    ctx.used_names.update(names_in(item))
    test = evaluate(item.test, env, ctx.diagnostics, truth=True)
    if test is None or not test.known:
        return [], None
    chosen = item.then if test.value else item.other
    if chosen is None:
        return [], state
    return _item(chosen, env, scope, labels, state, stack, ctx)


def _labelled(item: ast.Labelled, env: Env, scope: Scope, labels: Labels,
              state: State | None, stack: tuple[str, ...], ctx: Context
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
    labels.defined[name] = Defined(state, item.label_span, used=bool(names))
    if state is not None:
        label = replace(label, info=infer.info(state, state, infer.Cost()))
    return nodes + [label], state


def _ref(item: ast.Ref, labels: Labels, ctx: Context) -> tuple[ir.Ref, State | None]:
    node = ir.Ref(span=item.span, text=f"@{item.name}", name=item.name, label=item.name)
    found = labels.find(item.name)
    if found is not None:
        found.used = True
        state = found.state
        if state is not None:
            node = replace(node, info=infer.info(state, state, infer.Cost()))
        return node, state
    ctx.diagnostics.append(unknown_label(item, labels))
    return node, None



# ---- merges --------------------------------------------------------------------------

_ONE_BRANCH = {"residual": "add", "gate": "mul"}


def _merge(item: ast.Combine, env: Env, scope: Scope, labels: Labels, state: State | None,
           stack: tuple[str, ...], ctx: Context) -> tuple[ir.Node, State | None]:
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
        branches.append(annotate_sequence(identity, state, state))
        if state is not None:
            results.append(infer.Branch(state, item.keyword_span, "the input", state.trace))
    for index, branch in enumerate(syntax_branches, start=1):
        inner = labels.child()
        # a residual's or a gate's body reads as part of the chain: no prefix
        seq, out = sequence(branch, env, scope.within("" if form else f"branch{index}_"), inner,
                            infer.with_trace(branch_in, ()) if branch_in else None, stack, ctx,
                            may_ref=op != "split")
        close_labels(inner, ctx)
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


def _branch_count_ok(item: ast.Combine, ctx: Context) -> bool:
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

