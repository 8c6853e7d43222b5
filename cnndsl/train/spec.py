"""The one adapter between the harness and a checked spec.

Everything the training harness, `predict`, `evaluate` and the memory guard need
from `CheckResult.summary` and `CheckResult.network` is read here and nowhere
else, so that the compiler's IR can change (annotated nodes, several inputs and
outputs) by re-pointing these few functions.
"""

from __future__ import annotations

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
    top = [row for row in summary.rows if row.depth == 0 and row.kind == "layer"]
    layers = [row for row in summary.rows if row.kind != "block"]
    return SpecFacts(
        model=network.model, input=tuple(network.input), output=tuple(summary.output),
        params=int(summary.params),
        activations=sum(_elements(row.output) for row in layers),
        inputs=_input_count(network), outputs=_output_count(network),
        last_op=top[-1].op if top else None, last_name=top[-1].name if top else None,
        ops=frozenset(row.op for row in layers))


def _elements(shape: Shape) -> int:
    count = 1
    for n in shape:
        count *= int(n)
    return count


def _input_count(network) -> int:
    """Today's IR has one `input`; the lead's next IR may hold several."""
    inputs = getattr(network, "inputs", None)
    return len(inputs) if inputs is not None else 1


def _output_count(network) -> int:
    """Today's IR has one output; the lead's next IR may hold several."""
    outputs = getattr(network, "outputs", None)
    return len(outputs) if outputs is not None else 1


def train_config(result):
    """The spec's `train { }` section (`cnndsl.training.TrainConfig`)."""
    return result.network.train
