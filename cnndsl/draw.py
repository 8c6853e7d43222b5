"""Network diagrams: the annotated network drawn as a Graphviz graph, shapes on
every edge.

Built with the `graphviz` Python package as DOT text (deterministic, so it can
be a golden file); rendering needs Graphviz's `dot` binary. Every label is the
user's text made printable; the graphviz package quotes it for DOT.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cnndsl import ir
from cnndsl.api import CheckResult
from cnndsl.files import PNG_SIGNATURE, png_marked, printable, read_head
from cnndsl.layers import LAYERS
from cnndsl.passes.infer import fmt
from cnndsl.report import human

if TYPE_CHECKING:
    import graphviz

# Okabe-Ito colours (safe for colour-blind readers), lightened for print;
# each family also has its own shape, so the picture reads in grey too.
FAMILIES = {
    "conv": ("#9ccbe9", "box"),           # sky blue
    "pool": ("#8fd3bd", "invtrapezium"),  # bluish green
    "norm": ("#f5ee9a", "box"),           # yellow
    "activation": ("#f4c77a", "ellipse"),  # orange
    "fc": ("#e3b3d0", "box3d"),           # reddish purple
    "reshape": ("#c8b6e2", "hexagon"),    # purple-grey
    "other": ("#dddddd", "box"),          # grey
    "merge": ("#ffffff", "circle"),
    "io": ("#ffffff", "box"),
}
_SYMBOLS = {"concat": "C", "add": "+", "mul": "×", "split": "C"}

FONT = "Helvetica"
MARK = "drawn by cnndsl"


def _id(path: str) -> str:
    return path.replace(".", "__")


@dataclass(frozen=True)
class _End:
    """Where a chain stands in the picture: the node it comes from, its shape."""

    node: str
    shape: tuple[int, ...]


class _Drawer:
    def __init__(self, collapse: bool) -> None:
        self.collapse = collapse
        self.edges: list[tuple[str, str, str, dict]] = []

    def finish(self, graph) -> None:
        for tail, head, label, extra in self.edges:
            graph.edge(tail, head, label=label, **extra)

    def node(self, graph, node_id: str, label: str, family: str, **extra) -> None:
        fill, shape = FAMILIES[family]
        shape = extra.pop("shape", shape)
        style = "filled,rounded" if shape == "box" and family != "io" else "filled"
        if family == "io":
            style = "bold"
        graph.node(node_id, label, shape=shape, style=style, fillcolor=fill, **extra)

    def edge(self, tail: _End, head: str, **extra) -> None:
        # Edges go to the top graph: an edge inside a cluster would pull the
        # node it comes from into that cluster.
        self.edges.append((tail.node, head, f" {fmt(tail.shape)} ", extra))

    def sequence(self, graph, seq: ir.Sequence, end: _End, path: str,
                 labels: dict[str, _End]) -> _End:
        for item in seq.items:
            if isinstance(item, ir.Ref):
                end = labels[item.label]
            elif isinstance(item, ir.Label):
                labels[item.label] = end
            elif isinstance(item, ir.BlockCall):
                end = self.block(graph, item, end, path)
            elif isinstance(item, ir.Merge):
                end = self.merge(graph, item, end, path, labels)
            elif isinstance(item, ir.Identity):
                continue   # the tensor itself: an edge, not a node
            else:
                end = self.layer(graph, item, end, path)
        return end

    def layer(self, graph, node, end: _End, path: str) -> _End:
        info = node.info
        params = f" · {info.params:,} params" if info.params else ""
        node_id = _id(path + node.name)
        self.node(graph, node_id, f"{printable(node.text)}\n{fmt(info.output)}{params}",
                  LAYERS[node.op].family)
        self.edge(end, node_id)
        return _End(node_id, info.output)

    def block(self, graph, node: ir.BlockCall, end: _End, path: str) -> _End:
        info = node.info
        node_id = _id(path + node.name)
        if self.collapse:
            label = (f"{printable(node.text)}\n{fmt(info.output)} · {info.params:,} params\n"
                     f"{human(info.macs)} MACs")
            self.node(graph, node_id, label, "other", peripheries="2")
            self.edge(end, node_id)
            return _End(node_id, info.output)
        with graph.subgraph(name=f"cluster_{node_id}") as cluster:
            cluster.attr(label=f"{printable(node.text)}  ({info.params:,} params)",
                         style="rounded,dashed", color="#555555", fontname=FONT)
            return self.sequence(cluster, node.body, end, f"{path}{node.name}.", {})

    def merge(self, graph, node: ir.Merge, end: _End, path: str,
              labels: dict[str, _End]) -> _End:
        merge_id = _id(path + node.name)
        start = end
        if node.op == "split":
            start = _End(merge_id + "__split", end.shape)
            self.node(graph, start.node, "split", "merge", xlabel=f"split {len(node.branches)}",
                      width="0.4", fixedsize="true", shape="invtriangle")
            self.edge(end, start.node)
        ends = []
        for index, branch in enumerate(node.branches):
            first = branch.items[0] if branch.items else None
            skip = node.form is not None and index == 0
            by_label = isinstance(first, ir.Ref) and len(branch.items) == 1
            tail = self.sequence(graph, branch, start, path, dict(labels))
            style = {"style": "dashed", "xlabel": "identity"} if skip else \
                {"style": "bold", "color": "#0072b2", "constraint": "false"} if by_label else {}
            ends.append((tail, style))
        symbol = _SYMBOLS[node.op]
        self.node(graph, merge_id, symbol, "merge", xlabel=f"{node.form or node.op} "
                  f"{fmt(node.info.output)}", width="0.4", fixedsize="true")
        for tail, style in ends:
            self.edge(tail, merge_id, **style)
        return _End(merge_id, node.info.output)


def draw(result: CheckResult, *, rankdir: str = "TB",
         collapse: bool = False) -> graphviz.Digraph:
    """The `graphviz.Digraph` of a checked spec."""
    import graphviz

    summary = result.summary
    network = result.network
    graph = graphviz.Digraph(network.model, comment=MARK)
    title = (f"{network.model}\n{summary.params:,} parameters · "
             f"{human(summary.macs)} multiply-adds")
    graph.attr(comment=MARK, rankdir=rankdir, label=title, labelloc="t", fontname=FONT,
               fontsize="16")
    graph.attr("node", fontname=FONT, fontsize="11")
    graph.attr("edge", fontname=FONT, fontsize="9", color="#444444")
    drawer = _Drawer(collapse)
    labels: dict[str, _End] = {}
    for index, net_input in enumerate(network.inputs):
        node_id = "input" if index == 0 else f"input_{net_input.name}"
        name = "input" if len(network.inputs) == 1 else f"input {net_input.name}"
        drawer.node(graph, node_id, f"{name}\n{fmt(net_input.shape)}", "io")
        labels[net_input.name] = _End(node_id, net_input.shape)
    end = drawer.sequence(graph, network.body, labels[network.inputs[0].name], "", labels)
    ends = [end] if not network.outputs else \
        [drawer.sequence(graph, chain, end, "", labels) for chain in network.outputs]
    for index, tail in enumerate(ends):
        node_id = "output" if len(ends) == 1 else f"output{index + 1}"
        name = "output" if len(ends) == 1 else f"output {index + 1}"
        drawer.node(graph, node_id, f"{name}\n{fmt(tail.shape)}", "io")
        drawer.edge(tail, node_id)
    drawer.finish(graph)
    return graph


def mark(data: bytes, fmt: str) -> bytes:
    """The rendered diagram with cnndsl's mark, so that a later run may replace it
    (and nothing else). DOT and SVG carry it already, as the graph's comment."""
    if fmt == "png" and data.startswith(PNG_SIGNATURE):
        # a tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR chunk)
        body = b"tEXt" + b"Software\x00" + MARK.encode()
        chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
        return data[:33] + chunk + data[33:]
    if fmt == "pdf":
        return data + b"%" + MARK.encode() + b"\n"   # a comment after %%EOF
    return data


def drawn_by_us(path: Path, fmt: str) -> bool:
    """True when the file at `path` is a diagram that cnndsl wrote."""
    if fmt == "png":
        return png_marked(path, MARK)
    head = read_head(path)
    if head is None:
        return False
    if fmt == "dot":
        return head.startswith(b"// " + MARK.encode())
    if fmt == "svg":
        return head.startswith(b"<?xml") and b"<!-- " + MARK.encode() in head
    tail = read_head(path, 64, tail=True) or b""
    return head.startswith(b"%PDF-") and tail.endswith(b"%" + MARK.encode() + b"\n")


def diagram(source_or_path: str | Path, *, rankdir: str = "TB",
            collapse: bool = False) -> graphviz.Digraph:
    """A spec (path or text) as a `graphviz.Digraph`; notebooks display it.

    Raises `cnndsl.codegen.api.SpecError` when the spec has errors.
    """
    from cnndsl.api import check_spec
    from cnndsl.codegen.api import SpecError

    result = check_spec(source_or_path)
    if not result.ok:
        raise SpecError(result)
    return draw(result, rankdir=rankdir, collapse=collapse)
