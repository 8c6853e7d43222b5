"""Infer: the output shape, parameters, buffers, multiply-adds, receptive field
and jump of every layer and merge, by PyTorch's own rules.

Pure functions of a node and the `State` flowing into it; the resolve pass
calls them as it walks the network and writes the results onto the nodes
(`ir.Info`). A rule that finds the layer cannot run appends a located
diagnostic and returns None.

Multiply-adds: a convolution or `fc` counts its weights, plus its bias, times
the positions it is applied at (a transposed convolution applies its weights
at every input position, its bias at every output position); pooling, norms,
activations, merges and reshapes count 0.

The rules live by family: `sliding` (convolutions, pooling), `resizing`
(padding, upsampling, shuffles, reshapes), `merges`; `flow` holds the state
they share. Here: the entry points and the rules of layers that keep the shape.
"""

from __future__ import annotations

import math

from cnndsl.diagnostics.diagnostic import Diagnostic, error
from cnndsl.ir import nodes as ir
from cnndsl.ir.shapes import fmt
from cnndsl.passes import resizing, sliding
from cnndsl.passes.flow import (
    Cost,
    Ctx,
    State,
    exact,
    info,
    keep,
    largest_common_divisor,
    previous,
    same,
    start,
    step,
    too_large,
    with_trace,
    word_of,
)
from cnndsl.passes.merges import Branch, merge, split_input

__all__ = ["Branch", "Cost", "State", "exact", "info", "keep", "layer", "merge",
           "split_input", "start", "step", "with_trace"]


def layer(node, state: State, diagnostics: list[Diagnostic],
          like: State | None = None) -> tuple[State, Cost] | None:
    """The state after `node` and what it costs, or None (with a diagnostic).
    `like`: the state of the label an `upsample like=@NAME` follows."""
    result = _RULES[type(node)](Ctx(diagnostics, like), node, state)
    if result is None:
        return None
    out, cost = result
    if too_large(node, out.shape, state, diagnostics):
        return None
    trace = step(state, word_of(node), out.shape)
    return State(out.shape, out.rf, out.jump, trace, node.span), cost


def _linear(c: Ctx, node: ir.Linear, state: State):
    features = math.prod(state.shape)
    params = features * node.out + (node.out if node.bias else 0)
    return State((node.out,), None, None), Cost(params, 0, params)


def _norm(c: Ctx, node: ir.Norm, state: State):
    ch = state.channels
    if node.op == "instancenorm" and not c.need_spatial(node, state):
        return None
    if node.op == "instancenorm" and math.prod(state.shape[1:]) == 1:
        c.fail(error("E0324", "instance norm needs more than one position", node.span,
                     f"the input is {fmt(state.shape)}: one value per channel",
                     secondary=previous(state, f"output is {fmt(state.shape)}"),
                     notes=["it normalises each channel over its positions; over one, "
                            "PyTorch refuses"],
                     help="move it before the pooling that made the input 1x1"))
        return None
    if node.op == "groupnorm" and ch % node.groups:
        fits = largest_common_divisor(ch, ch, node.groups)
        c.fail(error("E0316", f"{node.groups} groups do not divide the {ch} channels",
                     node.span, f"{ch} % {node.groups} = {ch % node.groups}",
                     secondary=previous(state, f"output is {fmt(state.shape)}"),
                     help=f"use `groupnorm {fits}`"))
        return None
    if node.op == "batchnorm":
        return same(state), Cost(2 * ch, 2 * ch + 1)
    if node.op == "instancenorm":
        return same(state), Cost(2 * ch if node.affine else 0)
    return same(state), Cost(2 * ch)


def _per_channel(c: Ctx, node, state: State):
    return same(state), Cost(state.channels)


def _free(c: Ctx, node, state: State):
    return same(state), Cost()


def _activation(c: Ctx, node: ir.Activation, state: State):
    return (_per_channel if node.op == "prelu" else _free)(c, node, state)



_RULES = {ir.Conv: sliding.conv, ir.ConvT: sliding.convt, ir.Pool: sliding.pool,
          ir.AdaptivePool: resizing.adaptive, ir.ChannelReduce: resizing.channel_reduce,
          ir.Pad: resizing.pad, ir.Upsample: resizing.upsample,
          ir.PixelShuffle: resizing.pixel_shuffle, ir.ChannelShuffle: resizing.channel_shuffle,
          ir.Flatten: resizing.flatten, ir.Unflatten: resizing.unflatten, ir.Linear: _linear,
          ir.Norm: _norm, ir.Scale: _per_channel, ir.Dropout: _free, ir.Softmax: _free,
          ir.Identity: _free, ir.Activation: _activation}
