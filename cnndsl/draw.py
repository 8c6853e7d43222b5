"""Network diagrams: the annotated network drawn as a Graphviz graph, shapes on
every edge.

Built with the `graphviz` Python package as DOT text (deterministic, so it can
be a golden file); rendering needs Graphviz's `dot` binary, which `render` runs
within a time and a memory bound (the command line and the playground share it).
A network of more than `MAX_NODES` nodes is drawn folded: block uses as one node
each, a repetition as its first copy and a count. Every label is the user's text
made printable; the graphviz package quotes it for DOT.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
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

#: nodes drawn in full; beyond, block uses and repetitions are folded (Graphviz took
#: 49 s and 6 GB for 90,000 nodes; ResNet-50 has about 180 and lays out in 60 ms)
MAX_NODES = 2000
#: the longest repeated group that folding looks for, in items
_LONGEST_PERIOD = 256
#: what one `dot` run may take: seconds of wall-clock time and bytes of address space
DOT_SECONDS = 20
DOT_MEMORY = 1 << 30


class DrawProblem(ValueError):
    """The diagram cannot be drawn; the message is one line for the user."""


class _TooMany(Exception):
    """More nodes than the budget: draw again, folded."""


def _id(path: str) -> str:
    return path.replace(".", "__")


@dataclass(frozen=True)
class _End:
    """Where a chain stands in the picture: the node it comes from, its shape."""

    node: str
    shape: tuple[int, ...]


class _Drawer:
    def __init__(self, collapse: bool, fold: bool = False, budget: int | None = None) -> None:
        self.collapse = collapse
        self.fold = fold
        self.budget = budget
        self.count = 0
        self.edges: list[tuple[str, str, str, dict]] = []

    def finish(self, graph) -> None:
        for tail, head, label, extra in self.edges:
            graph.edge(tail, head, label=label, **extra)

    def node(self, graph, node_id: str, label: str, family: str, **extra) -> None:
        self.count += 1
        if self.budget is not None and self.count > self.budget:
            raise _TooMany
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
        items = seq.items
        # a repetition unrolls into copies written by the same text: equal spans
        keys = [(item.span.start, item.span.end) for item in items] if self.fold else []
        index = 0
        while index < len(items):
            period, copies = _repeats(keys, index) if self.fold else (1, 1)
            for item in items[index:index + period]:
                end = self.item(graph, item, end, path, labels)
            if copies > 1:
                group = items[index:index + period * copies]
                end = self.folded(graph, group[0], copies, end, _output(group, end), path)
            index += period * copies
        return end

    def item(self, graph, item, end: _End, path: str, labels: dict[str, _End]) -> _End:
        if isinstance(item, ir.Ref):
            return labels[item.label]
        if isinstance(item, ir.Label):
            labels[item.label] = end
            return end
        if isinstance(item, ir.BlockCall):
            return self.block(graph, item, end, path)
        if isinstance(item, ir.Merge):
            return self.merge(graph, item, end, path, labels)
        if isinstance(item, ir.Identity):
            return end   # the tensor itself: an edge, not a node
        return self.layer(graph, item, end, path)

    def folded(self, graph, first, copies: int, end: _End, shape, path: str) -> _End:
        """The copies after the first, as one node: how many in all, the shape after."""
        node_id = _id(path + first.name) + "__folded"
        self.node(graph, node_id, f"repeated × {copies}\n{fmt(shape)}", "other", shape="note")
        self.edge(end, node_id, style="dashed")
        return _End(node_id, shape)

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


def _repeats(keys: list, index: int) -> tuple[int, int]:
    """`(period, copies)` of the repetition starting at `index`, else `(1, 1)`."""
    try:
        period = keys.index(keys[index], index + 1, index + 1 + _LONGEST_PERIOD) - index
    except ValueError:
        return 1, 1
    pattern = keys[index:index + period]
    copies = 1
    while keys[index + copies * period:index + (copies + 1) * period] == pattern:
        copies += 1
    return (period, copies) if copies > 1 else (1, 1)


def _output(group, end: _End) -> tuple[int, ...]:
    """The shape after the last item of `group` that has one (a label has none)."""
    for item in reversed(group):
        if item.info is not None and not isinstance(item, (ir.Label, ir.Ref)):
            return item.info.output
    return end.shape


def layer_count(network: ir.Network) -> int:
    """The layers of the unrolled network (blocks and merges not counted)."""
    count, stack = 0, [network.body, *network.outputs]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Sequence):
            stack.extend(node.items)
        elif isinstance(node, ir.Merge):
            stack.extend(node.branches)
        elif isinstance(node, ir.BlockCall):
            stack.append(node.body)
        elif not isinstance(node, (ir.Label, ir.Ref)):
            count += 1
    return count


@dataclass(frozen=True)
class Drawing:
    """A diagram and whether it was folded to stay within `MAX_NODES`."""

    graph: graphviz.Digraph
    folded: bool = False
    layers: int = 0


def drawing(result: CheckResult, *, rankdir: str = "TB", collapse: bool = False) -> Drawing:
    """The diagram of a checked spec: in full up to `MAX_NODES` nodes, else folded
    (block uses as one node, repetitions as one copy and a count). Raises
    `DrawProblem` when even the folded diagram is over the budget."""
    try:
        return Drawing(_draw(result, rankdir, _Drawer(collapse, budget=MAX_NODES)))
    except _TooMany:
        pass
    layers = layer_count(result.network)
    note = f"folded: {layers:,} layers; block uses as one node, repetitions once"
    try:
        graph = _draw(result, rankdir, _Drawer(True, fold=True, budget=MAX_NODES), note)
    except _TooMany:
        raise DrawProblem(f"the network has {layers:,} layers, too many to draw: over "
                          f"{MAX_NODES:,} nodes even with block uses and repetitions "
                          "folded") from None
    return Drawing(graph, True, layers)


def draw(result: CheckResult, *, rankdir: str = "TB",
         collapse: bool = False) -> graphviz.Digraph:
    """The `graphviz.Digraph` of a checked spec (folded when huge, see `drawing`)."""
    return drawing(result, rankdir=rankdir, collapse=collapse).graph


def _draw(result: CheckResult, rankdir: str, drawer: _Drawer, note: str = ""):
    import graphviz

    summary = result.summary
    network = result.network
    graph = graphviz.Digraph(network.model, comment=MARK)
    title = (f"{network.model}\n{summary.params:,} parameters · "
             f"{human(summary.macs)} multiply-adds" + (f"\n({note})" if note else ""))
    graph.attr(comment=MARK, rankdir=rankdir, label=title, labelloc="t", fontname=FONT,
               fontsize="16")
    graph.attr("node", fontname=FONT, fontsize="11")
    graph.attr("edge", fontname=FONT, fontsize="9", color="#444444")
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


def render(source: str, fmt: str) -> bytes:
    """DOT source laid out by Graphviz's `dot` as `fmt` (svg, png, pdf), within
    `DOT_SECONDS` and `DOT_MEMORY`. Raises `DrawProblem` (one line) when `dot`
    cannot run, takes too long, fails or crashes."""
    argv = ["dot", f"-T{fmt}"]
    if os.name == "posix":   # the shell sets the limit, then becomes `dot`
        argv = ["/bin/sh", "-c", f'ulimit -v {DOT_MEMORY >> 10} 2>/dev/null; exec "$@"',
                "dot", *argv]
    try:
        done = subprocess.run(argv, input=source.encode("utf-8"), capture_output=True,
                              timeout=DOT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise DrawProblem(f"Graphviz took over {DOT_SECONDS} s to lay the diagram "
                          "out") from None
    except OSError as exc:
        raise DrawProblem(f"Graphviz's `dot` could not be run: "
                          f"{printable(exc.strerror or type(exc).__name__)}") from None
    if done.returncode:
        raise DrawProblem(_failure(done.returncode, done.stderr))
    return done.stdout


def _failure(status: int, stderr: bytes) -> str:
    """`dot`'s failure in one line: its exit status or signal, its first line of error."""
    if status < 0:
        try:
            why = f"was killed by {signal.Signals(-status).name}"
        except ValueError:
            why = f"was killed by signal {-status}"
        if -status == signal.SIGKILL or -status == signal.SIGSEGV:
            why += f" (it may have run out of memory: it may use {DOT_MEMORY >> 20} MiB)"
    else:
        why = f"failed (exit {status})"
    lines = stderr[:4096].decode("utf-8", "replace").splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    return f"Graphviz's `dot` {why}" + (f": {printable(first[:200])}" if first else "")


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
