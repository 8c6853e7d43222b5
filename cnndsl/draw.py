"""Network diagrams: the IR drawn as a Graphviz graph, shapes on every edge.

Built with the `graphviz` Python package as DOT text (deterministic, so it can
be a golden file); rendering needs Graphviz's `dot` binary.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from cnndsl import ir
from cnndsl.api import CheckResult, check, check_file
from cnndsl.passes.infer import LayerInfo, Summary, fmt
from cnndsl.report import human

# Okabe-Ito colours (safe for colour-blind readers), lightened for print;
# each family also has its own shape, so the picture reads in grey too.
FAMILIES = {
    "conv": ("#9ccbe9", "box"),           # sky blue
    "pool": ("#8fd3bd", "invtrapezium"),  # bluish green
    "norm": ("#f5ee9a", "box"),           # yellow
    "activation": ("#f4c77a", "ellipse"),  # orange
    "fc": ("#e3b3d0", "box3d"),           # reddish purple
    "other": ("#dddddd", "box"),          # grey
    "merge": ("#ffffff", "circle"),
    "io": ("#ffffff", "box"),
}
_FAMILY = {"conv": "conv", "maxpool": "pool", "avgpool": "pool", "gap": "pool",
           "adaptiveavgpool": "pool", "adaptivemaxpool": "pool", "batchnorm": "norm",
           "fc": "fc", "relu": "activation", "relu6": "activation", "sigmoid": "activation",
           "tanh": "activation", "gelu": "activation", "silu": "activation",
           "elu": "activation", "leakyrelu": "activation", "softmax": "activation",
           "logsoftmax": "activation"}

FONT = "Helvetica"


def _id(path: str) -> str:
    return path.replace(".", "__")


class _Drawer:
    def __init__(self, summary: Summary, collapse: bool) -> None:
        import graphviz

        self.graphviz = graphviz
        self.rows: dict[str, LayerInfo] = {r.name: r for r in summary.rows}
        self.collapse = collapse
        self.edges: list[tuple[str, str, str, dict]] = []

    def finish(self, graph) -> None:
        for tail, head, label, extra in self.edges:
            graph.edge(tail, head, label=label, **extra)

    def node(self, graph, node_id: str, label: str, family: str, **extra) -> None:
        fill, shape = FAMILIES[family]
        style = "filled,rounded" if shape == "box" and family != "io" else "filled"
        if family == "io":
            style = "bold"
        graph.node(node_id, label, shape=shape, style=style, fillcolor=fill, **extra)

    def edge(self, graph, tail: str, head: str, shape, **extra) -> None:
        # Edges go to the top graph: an edge inside a cluster would pull the
        # node it comes from into that cluster.
        self.edges.append((tail, head, f" {fmt(shape)} ", extra))

    def sequence(self, graph, seq: ir.Sequence, tail: str, shape, path: str):
        for item in seq.items:
            tail, shape = self.element(graph, item, tail, shape, path)
        return tail, shape

    def element(self, graph, node, tail: str, shape, path: str):
        if isinstance(node, ir.BlockCall):
            return self.block(graph, node, tail, shape, path)
        if isinstance(node, ir.Branches):
            return self.branches(graph, node, tail, shape, path)
        row = self.rows[path + node.name]
        params = f" · {row.params:,} params" if row.params else ""
        label = f"{node.text}\n{fmt(row.output)}{params}"
        self.node(graph, _id(row.name), label, _FAMILY.get(node.op, "other"))
        self.edge(graph, tail, _id(row.name), shape)
        return _id(row.name), row.output

    def block(self, graph, node: ir.BlockCall, tail: str, shape, path: str):
        row = self.rows[path + node.name]
        if self.collapse:
            label = (f"{node.text}\n{fmt(row.output)} · {row.params:,} params\n"
                     f"{human(row.macs)} MACs")
            self.node(graph, _id(row.name), label, "other", peripheries="2")
            self.edge(graph, tail, _id(row.name), shape)
            return _id(row.name), row.output
        with graph.subgraph(name=f"cluster_{_id(row.name)}") as cluster:
            cluster.attr(label=f"{node.text}  ({row.params:,} params)", style="rounded,dashed",
                         color="#555555", fontname=FONT)
            return self.sequence(cluster, node.body, tail, shape, f"{row.name}.")

    def branches(self, graph, node: ir.Branches, tail: str, shape, path: str):
        row = self.rows[path + node.name]
        merge = _id(row.name)
        ends = []
        for branch in node.branches:
            if branch.items:
                ends.append(self.sequence(graph, branch, tail, shape, path))
            else:
                ends.append((tail, shape))
        symbol = "C" if node.op == "concat" else "+"
        self.node(graph, merge, f"{symbol}", "merge", xlabel=f"{node.op} {fmt(row.output)}",
                  width="0.4", fixedsize="true")
        for index, (end, end_shape) in enumerate(ends):
            skip = node.residual and index == 0
            self.edge(graph, end, merge, end_shape,
                      **({"style": "dashed", "xlabel": "identity"} if skip else {}))
        return merge, row.output


def draw(result: CheckResult, *, rankdir: str = "TB", collapse: bool = False):
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
    drawer = _Drawer(summary, collapse)
    drawer.node(graph, "input", f"input\n{fmt(network.input)}", "io")
    tail, shape = drawer.sequence(graph, network.body, "input", network.input, "")
    drawer.node(graph, "output", f"output\n{fmt(shape)}", "io")
    drawer.edge(graph, tail, "output", shape)
    drawer.finish(graph)
    return graph


MARK = "drawn by cnndsl"


def mark(data: bytes, fmt: str) -> bytes:
    """The rendered diagram with cnndsl's mark, so that a later run may replace it
    (and nothing else). DOT and SVG carry it already, as the graph's comment."""
    if fmt == "png" and data.startswith(_PNG):
        # a tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR chunk)
        body = b"tEXt" + b"Software\x00" + MARK.encode()
        chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
        return data[:33] + chunk + data[33:]
    if fmt == "pdf":
        return data + b"%" + MARK.encode() + b"\n"   # a comment after %%EOF
    return data


def drawn_by_us(path: Path, fmt: str) -> bool:
    """True when the file at `path` is a diagram that cnndsl wrote."""
    from cnndsl.files import read_head

    head = read_head(path)
    if head is None:
        return False
    if fmt == "dot":
        return head.startswith(b"// " + MARK.encode())
    if fmt == "svg":
        return head.startswith(b"<?xml") and b"<!-- " + MARK.encode() in head
    if fmt == "png":
        return head.startswith(_PNG) and b"Software\x00" + MARK.encode() in head[:200]
    tail = read_head(path, 64, tail=True) or b""
    return head.startswith(b"%PDF-") and tail.endswith(b"%" + MARK.encode() + b"\n")


_PNG = b"\x89PNG\r\n\x1a\n"


def diagram(source_or_path: str | Path, *, rankdir: str = "TB", collapse: bool = False):
    """A spec (path or text) as a `graphviz.Digraph`; notebooks display it.

    Raises `cnndsl.codegen.api.SpecError` when the spec has errors.
    """
    from cnndsl.codegen.api import SpecError

    text = str(source_or_path)
    if isinstance(source_or_path, Path) or ("\n" not in text and text.endswith(".cnn")):
        result = check_file(source_or_path)
    else:
        result = check(text)
    if not result.ok:
        raise SpecError(result)
    return draw(result, rankdir=rankdir, collapse=collapse)
