"""The one adapter between the harness and a checked spec.

Everything the training harness, `predict`, `evaluate` and the memory guard need
from `CheckResult.summary` and `CheckResult.network` is read here and nowhere
else, so that the compiler's IR can change (annotated nodes, several inputs and
outputs) by re-pointing these few functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Shape = tuple[int, ...]


@dataclass(frozen=True)
class SpecFacts:
    """What the harness knows about a network, as plain data."""

    model: str                 # the generated class name
    input: Shape               # one sample, without the batch: (C, *spatial)
    output: Shape              # one sample's output
    params: int
    activations: int           # output elements of every layer, for one sample
    inputs: int                # how many inputs the network takes
    outputs: int               # how many outputs it gives
    last_op: str | None        # the op of the last top-level layer (`softmax`)
    last_name: str | None      # its attribute name on the module (`softmax1`)
    ops: frozenset[str]        # every layer word used (`batchnorm`, `logsoftmax`)
    lone_norm: str | None = None   # the first batch norm over one value per channel, shown

    @property
    def task(self) -> str | None:
        """`classify` (scores), `segment` (scores per pixel of a 2-D input, at the
        input's size), or None when the harness cannot train it."""
        if len(self.output) == 1:
            return "classify"
        if len(self.output) == len(self.input) == 3 and self.output[1:] == self.input[1:]:
            return "segment"
        return None


def facts(result) -> SpecFacts:
    """Read a checked `CheckResult` (one without errors) into `SpecFacts`."""
    summary, network = result.summary, result.network
    top = [row for row in summary.top if row.kind == "layer"]
    return SpecFacts(
        model=network.model, input=tuple(network.input), output=tuple(summary.output),
        params=int(summary.params), activations=summary.activations,
        inputs=len(network.inputs), outputs=len(network.output_chains),
        last_op=top[-1].op if top else None, last_name=top[-1].name if top else None,
        ops=frozenset(row.op for row in summary.layers), lone_norm=_lone_norm(summary))


def _lone_norm(summary) -> str | None:
    """The first `batchnorm` that sees one value per channel (after `fc` or `gap`), as
    "`text` on line N": in training it needs two samples or more in every batch."""
    for row in summary.layers:
        if row.op == "batchnorm" and math.prod(row.input[1:]) == 1:
            return f"`{row.text}` on line {row.span.line}"
    return None


def train_config(result):
    """The spec's `train { }` section (`cnndsl.ir.train_section.TrainConfig`)."""
    return result.network.train


def data_line(result) -> int | None:
    """The line of the spec's `train { data ... }` setting, if it has one."""
    program = getattr(result, "program", None)
    for item in getattr(program, "trains", ()) or ():
        if item.key == "data":
            return item.span.line
    return None
