"""Resolve: syntax tree -> annotated network.

One walk over the body with the shape flowing through it: folds constants,
binds layer arguments, instantiates blocks (parameters, defaults, keyword
arguments, `in`), unrolls repetition, binds labels (`as`, `@`), names every
element after its role (`conv1`, `branch2_conv1`, `inception1`), and annotates
every element with what `infer`'s rules find. Resolution and inference share
one walk because a block's arguments may read `in`, the channels entering it:
binding needs the shape. Pure: returns a new `Network` and the diagnostics.

The stages, each in its module: `declare` (the file's declarations), `unroll`
(the walk over chains, repetition, labels and merges), `build` (a layer),
`blocks` (a block use), `scopes` (module names and label scopes), `naming`
(labels name modules). What the walk found used is recorded on the network
(`Network.used`, `Network.blocks`); lint warns about the rest.
"""

from __future__ import annotations

from cnndsl.diagnostics.diagnostic import Diagnostic, error
from cnndsl.front import syntax as ast
from cnndsl.front.source import Source
from cnndsl.front.trivia import CARRIERS
from cnndsl.ir import nodes as ir
from cnndsl.ir.layers import layer_words
from cnndsl.passes import infer
from cnndsl.passes.constants import IN, Env, evaluate, literal, plain
from cnndsl.passes.context import MAX_ELEMENTS, Context, TooLarge
from cnndsl.passes.declare import (
    block_defs,
    body_chain,
    constants,
    inputs,
    model_name,
    output_chains,
)
from cnndsl.passes.naming import name_modules
from cnndsl.passes.scopes import Defined, Labels, Names, Scope, close_labels
from cnndsl.passes.train_config import train_config
from cnndsl.passes.unroll import sequence as walk
from cnndsl.passes.uses import items_in, labels_in


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
    ctx = Context(source, blocks, lets, diagnostics, _comments(program),
                  set(layer_words()) | set(blocks))
    try:
        sequence, chains = _network(body, outputs, found_inputs, ctx)
    except TooLarge:
        diagnostics.append(error("E0006", "the network is too large", body.span,
                                 f"more than {MAX_ELEMENTS:,} layers once repetition "
                                 "is unrolled", help="check the repetition counts"))
        return None, diagnostics
    diagnostics.extend(ctx.unused.values())
    params = tuple((b.name, tuple((p.name, _default(p, lets)) for p in b.params))
                   for b in program.blocks if b.name in ctx.used_blocks)
    network = ir.Network(model=model, inputs=found_inputs, body=sequence, outputs=chains,
                         blocks=params, train=train, used=tuple(sorted(ctx.used_names)))
    return network, diagnostics


def _network(body: ast.Chain, outputs: tuple[ast.Chain, ...], found: tuple[ir.NetInput, ...],
             ctx: Context) -> tuple[ir.Sequence, tuple[ir.Sequence, ...]]:
    labels = Labels(later=frozenset(labels_in(body)))
    for net_input in found:
        if net_input.named:
            labels.defined[net_input.name] = Defined(
                infer.start(net_input.shape, net_input.span), net_input.span, kind="input",
                used=net_input is found[0])   # the body starts from the first
    first = infer.start(found[0].shape, found[0].span)
    env = {**ctx.constants, IN: literal(found[0].shape[0])}
    # generated module names step aside for the labels, which name modules
    names = Names({name for chain in (body, *outputs) for name in labels_in(chain)})
    sequence, _ = walk(body, env, Scope(names), labels, first, (), ctx, may_ref=True)
    chains = []
    for index, chain in enumerate(outputs, start=1):
        if not chain.items or not isinstance(chain.items[0], ast.Ref):
            ctx.diagnostics.append(error(
                "E0215", "an `output` chain starts from a label", chain.span,
                "no `@label` here", help="start it with the label of a tensor of the body: "
                "`output @p3, @p4 -> conv 256 k1`"))
            continue
        seq, _ = walk(chain, env, Scope(names, f"output{index}_"), labels, None, (), ctx,
                      may_ref=True)
        chains.append(seq)
    close_labels(labels, ctx)
    sequence, *chains = name_modules((sequence, *chains), ctx.diagnostics)
    return sequence, tuple(chains)


def _comments(program: ast.Program) -> dict[tuple[int, int], str]:
    """The trailing comments the parser attached (`cnndsl.front.trivia`), by the (start,
    end) of their element: unrolled, the last copy of the element takes it."""
    chains = [*program.bodies, *(b.body for b in program.blocks),
              *(c for o in program.outputs for c in o.chains)]
    return {(item.span.start, item.span.end): item.comment for item in items_in(*chains)
            if isinstance(item, CARRIERS) and item.comment}


def _default(param: ast.Param, lets: Env) -> int | float | None:
    if param.default is None:
        return None
    value = evaluate(param.default, lets, [])
    if value is None or not value.known or isinstance(value.value, tuple):
        return None
    return plain(value.value)

