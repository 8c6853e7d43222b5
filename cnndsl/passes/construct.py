"""Build a layer: bind a layer word's arguments (`cnndsl.passes.bind`), make its
IR node, named after its role in its scope (`conv1`), and annotate it with what
`infer`'s rules find; or say why the word is unknown."""

from __future__ import annotations

from dataclasses import replace

from cnndsl.diagnostics.diagnostic import Diagnostic, error
from cnndsl.diagnostics.suggest import did_you_mean, offer
from cnndsl.front import habits
from cnndsl.front import syntax as ast
from cnndsl.ir import nodes as ir
from cnndsl.ir.layers import COMBINATORS, LAYERS, canonical
from cnndsl.passes import infer
from cnndsl.passes.bind import Bound, bind
from cnndsl.passes.constants import Env
from cnndsl.passes.context import Context
from cnndsl.passes.flow import State
from cnndsl.passes.scopes import Labels, Scope, unknown_label
from cnndsl.passes.uses import names_in


def layer(use: ast.LayerUse, env: Env, scope: Scope, state: State | None, ctx: Context,
          labels: Labels | None = None) -> tuple[ir.Node, State | None]:
    """A layer word's node and the state after it (None where it cannot run).
    The caller has counted it (`ctx.count`)."""
    text = ctx.text(use.span)
    op = canonical(use.name)
    if op is None:
        ctx.diagnostics.append(unknown_layer(use, ctx))
        return ir.Unresolved(span=use.span, text=text, name="?"), None
    ctx.used_names.update(names_in(use))
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


def _like(use: ast.LayerUse, labels: Labels | None, ctx: Context):
    """The label `use` follows (`upsample like=@NAME`) and its state: None where it
    has none; False where its label is unknown or unreachable (said here)."""
    refs = [a.value for a in use.args
            if isinstance(a, ast.Option) and isinstance(a.value, ast.Ref)]
    if not refs or labels is None:
        return None     # a misplaced `@NAME` is the binder's to report
    ref = refs[-1]
    found = labels.find(ref.name)
    if found is None:
        ctx.diagnostics.append(unknown_label(ref, labels))
        return False
    found.used = True
    return found.state


def _build(op: str, bound: Bound, use: ast.LayerUse, text: str, scope: Scope) -> ir.Node:
    values = dict(bound.values)
    common = dict(span=use.span, text=text, name=scope.name(LAYERS[op].role),
                  sym=tuple(sorted(bound.sym.items())),
                  spans=tuple(sorted(bound.spans.items())))
    return BUILDERS.get(op, _activation)(op, values, common)


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


BUILDERS = {
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


def unknown_layer(use, ctx: Context) -> Diagnostic:
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

