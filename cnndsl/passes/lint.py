"""Lint: warnings about networks that work but are likely wrong, the spec's
own `assert` statements checked against the inferred figures, and (`unused`)
the blocks, parameters and constants the network never reads."""

from __future__ import annotations

import math
import operator
from fractions import Fraction

from cnndsl.diagnostics.diagnostic import Diagnostic, error, warning
from cnndsl.diagnostics.suggest import did_you_mean, offer
from cnndsl.front import syntax as ast
from cnndsl.ir import nodes as ir
from cnndsl.ir.shapes import fmt
from cnndsl.passes.declare import block_defs
from cnndsl.passes.summary import Summary
from cnndsl.passes.uses import names_in

#: An `fc` holding more than this share of the parameters is worth a warning,
#: in networks of at least MIN_PARAMS (tiny nets are all fully connected).
FC_SHARE = 0.5
MIN_PARAMS = 100_000

METRICS = ("params", "trainable_params", "macs", "output", "layers")
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


def lint(network: ir.Network, summary: Summary, program: ast.Program) -> list[Diagnostic]:
    """Warnings and failed assertions for a network that inferred cleanly."""
    return [*_softmax_before_cross_entropy(network, summary), *_heavy_fc(summary),
            *_assertions(program, summary)]


def unused(program: ast.Program, network: ir.Network) -> list[Diagnostic]:
    """Blocks, block parameters and constants the resolved network never reads
    (W0104–W0106): from what resolve recorded, for any network it built."""
    used_blocks = {name for name, _ in network.blocks}
    defined = block_defs(program, [])     # the blocks resolve could use
    out = []
    for block in program.blocks:
        if block.name in defined and block.name not in used_blocks:
            out.append(warning("W0104", f"the block `{block.name}` is never used",
                               block.name_span, "defined here",
                               help="use it in the body, or remove it"))
        elif block.name in defined:
            out += _unused_parameters(block)
    used = set(network.used).union(*(names_in(let.value) for let in program.lets))
    return out + [warning("W0106", f"the constant `{let.name}` is never used", let.name_span,
                          "defined here", help="use it, or remove it")
                  for let in program.lets if let.name not in used]


def _unused_parameters(block: ast.BlockDef) -> list[Diagnostic]:
    used = set(names_in(block.body))
    return [warning("W0105", f"the parameter `{param.name}` of block `{block.name}` is never "
                    "used", param.span, "defined here",
                    help="use it in the block's body, or remove it; a short flag such as "
                         "`s2` takes only a number, so pass a parameter by name: "
                         f"`stride={param.name}`")
            for param in block.params if param.name not in used]


def _softmax_before_cross_entropy(network: ir.Network, summary: Summary) -> list[Diagnostic]:
    last = summary.top[-1] if summary.top else None
    loss = network.train.loss or "crossentropy"
    if last is None or last.op != "softmax" or loss != "crossentropy" or network.outputs:
        return []
    return [warning("W0102", "`softmax` as the last layer of a net trained with cross-entropy",
                    last.span, "cross-entropy applies log-softmax itself",
                    notes=["`nn.CrossEntropyLoss` expects raw scores (logits); after a "
                           "softmax the loss saturates and training slows down",
                           "`cnndsl train` leaves this softmax out while training and "
                           "keeps it in the compiled module for inference"],
                    help="remove `-> softmax`, and apply `torch.softmax(logits, dim=1)` "
                         "where you need probabilities")]


def _heavy_fc(summary: Summary) -> list[Diagnostic]:
    total = summary.params
    if total < MIN_PARAMS:
        return []
    out = []
    flattened = None    # the spatial shape an explicit `flatten` just flattened
    for row in summary.layers:
        spatial = row.input if row.flatten else flattened
        flattened = row.input if row.op == "flatten" and len(row.input) > 1 else None
        if row.op == "fc" and spatial and row.params > Fraction(FC_SHARE) * total:
            share = 100 * row.params / total
            out.append(warning(
                "W0103", f"this fully connected layer holds {share:.0f}% of the parameters",
                row.span, f"{row.params:,} of {total:,} parameters",
                notes=[f"its input is {fmt(spatial)} = {math.prod(spatial):,} features, "
                       "flattened"],
                help="pool the feature map first (`gap`, or `adaptiveavgpool 1`) to cut "
                     "its size"))
    return out


def _assertions(program: ast.Program, summary: Summary) -> list[Diagnostic]:
    figures = {"params": summary.params, "trainable_params": summary.trainable,
               "macs": summary.macs, "output": summary.output,
               "layers": len(summary.layers)}
    aliases = {"parameters": "params", "trainable": "trainable_params", "mac": "macs",
               "madds": "macs", "depth": "layers"}
    out = []
    for check in program.asserts:
        metric = aliases.get(check.metric, check.metric)
        if metric not in figures:
            close = did_you_mean(check.metric, METRICS, cutoff=0.5)
            out.append(error("E0502", f"unknown metric `{check.metric}`", check.metric_span,
                             "not a metric", notes=["metrics: " + ", ".join(METRICS)],
                             **offer(close, check.metric_span)))
            continue
        actual = figures[metric]
        expected = check.value
        if metric == "output":
            expected = expected if isinstance(expected, tuple) else (expected,)
            if check.op not in ("==", "!="):
                out.append(error("E0503", "`output` is a shape: compare it with `==` or `!=`",
                                 check.span, "not comparable"))
                continue
        elif isinstance(expected, tuple):
            out.append(error("E0503", f"`{metric}` is a number, not a size",
                             check.value_span, "a size"))
            continue
        if not _OPS[check.op](actual, expected):
            shown = fmt(actual) if metric == "output" else f"{actual:,}"
            out.append(error("E0501", f"assertion failed: {metric} {check.op} "
                             f"{check.value_text}", check.span, f"{metric} is {shown}",
                             help="change the network, or the bound if it was too tight"))
    return out
