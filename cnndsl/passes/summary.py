"""The summary: a flat, row-per-element view of an annotated network.

Each row points at its network element (`row.node`), whose `info` holds what
inference found; the row adds where the element sits (its module path and
depth). `check` prints these rows as its table, `--format json` lists them, the
linter and the training harness read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cnndsl.ir import nodes as ir


@dataclass(frozen=True)
class Row:
    """One row of the summary: a layer, a block use (a header) or a merge."""

    index: int           # 1, 2, ... over the layer rows; 0 for block and merge rows
    path: str            # module path: `conv1`, `inception1.branch2_conv1`
    node: ir.Element
    depth: int
    kind: str            # "layer" | "block" | "merge"

    @property
    def name(self) -> str:
        return self.path

    @property
    def op(self) -> str:
        node = self.node
        if isinstance(node, ir.Merge):
            return node.form or node.op
        return node.op

    @property
    def text(self) -> str:
        return self.node.text

    @property
    def span(self):
        return self.node.span

    @property
    def input(self) -> ir.Shape:
        return self.node.info.input

    @property
    def output(self) -> ir.Shape:
        return self.node.info.output

    @property
    def params(self) -> int:
        return self.node.info.params

    @property
    def buffers(self) -> int:
        return self.node.info.buffers

    @property
    def macs(self) -> int:
        return self.node.info.macs

    @property
    def rf(self):
        return self.node.info.rf

    @property
    def jump(self):
        return self.node.info.jump

    @property
    def flatten(self) -> bool:
        """An `fc` that flattens its spatial input first."""
        return isinstance(self.node, ir.Linear) and len(self.input) > 1


@dataclass(frozen=True)
class Summary:
    model: str
    inputs: tuple[tuple[str, ir.Shape], ...]
    outputs: tuple[ir.Shape, ...]
    rows: tuple[Row, ...]

    @property
    def input(self) -> ir.Shape:
        return self.inputs[0][1]

    @property
    def output(self) -> ir.Shape:
        return self.outputs[0]

    @cached_property
    def layers(self) -> tuple[Row, ...]:
        """The layer rows: no block headers, no merges."""
        return tuple(r for r in self.rows if r.kind == "layer")

    @cached_property
    def params(self) -> int:
        return sum(r.params for r in self.layers)

    @property
    def trainable(self) -> int:
        return self.params

    @cached_property
    def buffers(self) -> int:
        return sum(r.buffers for r in self.layers)

    @cached_property
    def macs(self) -> int:
        return sum(r.macs for r in self.layers)

    @cached_property
    def top(self) -> tuple[Row, ...]:
        """The rows of the model class itself (depth 0)."""
        return tuple(r for r in self.rows if r.depth == 0)

    @property
    def activations(self) -> int:
        """Elements of every layer's output for one sample (what a forward holds)."""
        total = 0
        for row in self.layers:
            count = 1
            for n in row.output:
                count *= n
            total += count
        return total


def summarize(network: ir.Network) -> Summary:
    """The rows of a fully annotated network, in execution order."""
    rows: list[Row] = []
    _sequence(network.body, "", 0, rows)
    for chain in network.outputs:
        _sequence(chain, "", 0, rows)
    numbered = []
    index = 0
    for row in rows:
        if row.kind == "layer":
            index += 1
            row = Row(index, row.path, row.node, row.depth, row.kind)
        numbered.append(row)
    inputs = tuple((i.name, i.shape) for i in network.inputs)
    return Summary(network.model, inputs, network.output_shapes, tuple(numbered))


def _sequence(seq: ir.Sequence, prefix: str, depth: int, rows: list[Row]) -> None:
    for node in seq.items:
        if isinstance(node, ir.BlockCall):
            rows.append(Row(0, prefix + node.name, node, depth, "block"))
            _sequence(node.body, f"{prefix}{node.name}.", depth + 1, rows)
        elif isinstance(node, ir.Merge):
            for branch in node.branches:
                _sequence(branch, prefix, depth + 1, rows)
            rows.append(Row(0, prefix + node.name, node, depth, "merge"))
        elif isinstance(node, ir.Sequence):
            _sequence(node, prefix, depth, rows)
        elif not isinstance(node, (ir.Ref, ir.Label, ir.Unresolved)):
            rows.append(Row(0, prefix + node.name, node, depth, "layer"))
