"""Network diagrams: the annotated network drawn as a Graphviz graph, shapes on
every edge.

Built with the `graphviz` Python package as DOT text (deterministic, so it can
be a golden file); rendering needs Graphviz's `dot` binary, which `render` runs
within a time and a memory bound (the command line and the playground share it).
Repetitions are always drawn once with their count; a network still over
`MAX_NODES` nodes is drawn again with its block uses folded, and refused beyond.
Every label is the user's text made printable; the graphviz package quotes it for DOT.
"""

from __future__ import annotations

import math
import os
import re
import signal
import struct
import subprocess
import zlib
from dataclasses import dataclass, replace
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
# The same hues at full strength, for dark backgrounds.
_DARK = {"conv": "#56b4e9", "pool": "#009e73", "norm": "#f0e442", "activation": "#e69f00",
         "fc": "#cc79a7", "reshape": "#9d8ac7", "other": "#aaaaaa", "merge": "#ffffff",
         "io": "#ffffff"}
_FAMILY_NAMES = {"conv": "convolution", "pool": "pooling", "norm": "normalisation",
                 "activation": "activation", "fc": "fully connected", "reshape": "reshape",
                 "other": "other / block"}
_SYMBOLS = {"concat": "C", "add": "+", "mul": "×", "split": "C"}
# Shapes that point along the flow: turned a quarter for left-to-right drawings.
_POINTED = {"invtrapezium", "invtriangle"}

THEMES = ("light", "dark", "print")
RANKDIRS = ("TB", "LR")
LAYOUTS = ("auto", "u", "flow")
FONT = "Helvetica"
MARK = "drawn by cnndsl"

#: nodes drawn in full; beyond, block uses are folded, and beyond that the drawing is
#: refused (Graphviz took 49 s and 6 GB for 90,000 nodes; ResNet-50 lays out in 60 ms)
MAX_NODES = 2000
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


@dataclass(frozen=True)
class Options:
    """How a network is drawn (the same for DOT and TikZ).

    `collapse`: each block use is one node, except blocks named in `expand`;
    `node_shapes`: print each node's output shape inside it too (edges always
    carry them); `theme`: light, dark or print (greyscale, no fills); `layout`:
    `u` draws a U-Net in a U, `flow` never, `auto` where skips join mirrored levels.
    """

    rankdir: str = "TB"
    collapse: bool = False
    expand: frozenset[str] = frozenset()
    legend: bool = False
    theme: str = "light"
    node_shapes: bool = False
    dpi: int | None = None
    layout: str = "auto"

    def folded(self, node: ir.BlockCall) -> bool:
        return self.collapse and node.block not in self.expand


def runs(items) -> list[list]:
    """`items` grouped into runs of one repeated use: `Block(64) * 3` resolves to
    three calls with the same span and text, drawn as one node marked ×3."""
    out: list[list] = []
    for item in items:
        if out and _repeats(out[-1][0], item):
            out[-1].append(item)
        else:
            out.append([item])
    return out


def stages(groups: list[list], folded) -> list[list[list]]:
    """Runs of folded block uses joined into stages: consecutive uses whose shared
    arguments agree (`Down(128) -> Bottleneck(128) * 3`) are one stage, one node."""
    out: list[list[list]] = []
    for run in groups:
        item = run[0]
        prev = out[-1][-1][0] if out else None
        if isinstance(item, ir.BlockCall) and folded(item) and isinstance(prev, ir.BlockCall) \
                and folded(prev) and _agree(prev, item):
            out[-1].append(run)
        else:
            out.append([run])
    return out


def _agree(first: ir.BlockCall, item: ir.BlockCall) -> bool:
    mine, theirs = dict(first.args), dict(item.args)
    shared = mine.keys() & theirs.keys()
    return bool(shared) and all(mine[k] == theirs[k] for k in shared)


def _repeats(first, item) -> bool:
    if isinstance(item, (ir.Label, ir.Ref, ir.Identity)) or type(item) is not type(first):
        return False
    return item.span == first.span and item.text == first.text and \
        getattr(item, "args", None) == getattr(first, "args", None)


#: the longest repeated group that drawing looks for, in items
_LONGEST_PERIOD = 256


def _period(keys: list, index: int) -> tuple[int, int]:
    """`(period, copies)` of the repetition of a group starting at `index`, else `(1, 1)`."""
    if keys[index] is None:
        return 1, 1
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


def times(count: int) -> str:
    return f" ×{count}" if count > 1 else ""


def _value(value) -> str:
    if isinstance(value, tuple):
        return "x".join(_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def written(node: ir.Element, source: str) -> str:
    """The user's text of `node` with a block's parameters replaced by this use's
    values: `conv c*4 k1` inside `Bottleneck(64)` reads `conv 256 k1`."""
    spans = dict(node.spans)
    fields = sorted((spans[f].start, spans[f].end, f) for f, _ in node.sym if f in spans)
    if not fields or source[node.span.start:node.span.end] != node.text:
        return printable(node.text)
    pieces, pos = [], node.span.start
    for start, end, field in fields:
        value = getattr(node, field, None)
        if isinstance(value, bool) or not isinstance(value, (int, float, tuple)) or start < pos:
            continue
        text = source[start:end]
        cut = text.index("=") + 1 if "=" in text else 1 if re.match(r"[a-z]\(", text) else 0
        pieces += [source[pos:start + cut], _value(value)]
        pos = end
    pieces.append(source[pos:node.span.end])
    return printable("".join(pieces))


def arguments(node: ir.BlockCall) -> str:
    """`c = 64, s = 2`: a block use's argument values."""
    return ", ".join(f"{name} = {_value(value)}" for name, value in node.args)


class _Drawer:
    def __init__(self, options: Options, source: str, budget: int | None = None,
                 fold_groups: bool = False) -> None:
        self.options = options
        self.budget = budget
        self.fold_groups = fold_groups   # a repeated group: its first copy and a count
        self.source = source
        self.edges: list[tuple[str, str, str, dict]] = []
        self.families: set[str] = set()
        self.io: set[str] = set()
        self.family: dict[str, str] = {}                 # node id -> its layer family
        self.shapes: dict[str, tuple[int, ...]] = {}     # node id -> its output shape
        self.order: list[str] = []                       # node ids as drawn
        self.skips: list[tuple[str, str]] = []           # (label's node, merge) by `@label`

    def finish(self, graph) -> None:
        bottom = self.u_bottom() if self.options.layout != "flow" else None
        if bottom is None:
            for tail, head, label, extra in self.edges:
                graph.edge(tail, head, label=label, **extra)
            return
        self.u_edges(graph, bottom)

    def _spatial(self, node: str) -> int | None:
        shape = self.shapes.get(node, ())
        return math.prod(shape[1:]) if len(shape) > 1 else None

    def u_bottom(self) -> str | None:
        """The node at the bottom of a U: the smallest resolution between a skip's
        label and the merge it feeds, where both ends share one resolution (the
        mirrored levels of a U-Net). None when no skip connects mirrored levels,
        or a U was not asked for and is not apt."""
        where = {node: index for index, node in enumerate(self.order)}
        best: tuple[int, int] | None = None
        for tail, head in self.skips:
            level = self._spatial(tail)
            if level is None or level != self._spatial(head) or where[tail] > where[head]:
                continue
            between = [(self._spatial(n), -where[n]) for n in self.order[where[tail]:where[head]]
                       if self._spatial(n) is not None]
            low = min(between, default=None)
            if low is not None and low[0] < level and (best is None or low < best):
                best = low
        if best is None:
            return None
        return self.order[-best[1]]

    def u_edges(self, graph, bottom: str) -> None:
        """Encoder down the left, decoder up the right: the decoder's edges point
        back up (drawn reversed, arrows kept), each skip's ends share a row."""
        after = set(self.order[self.order.index(bottom) + 1:])
        pairs = set(self.skips)
        for tail, head, label, extra in self.edges:
            if (tail, head) in pairs and tail not in after:
                graph.edge(tail, head, label=label, **{**extra, "constraint": "true"})
            elif head in after and (tail in after or tail == bottom):
                graph.edge(head, tail, label=label, dir="back", **extra)
            else:
                graph.edge(tail, head, label=label, **extra)
        for tail, head in sorted(pairs):
            if tail not in after and head in after:
                with graph.subgraph() as row:
                    row.attr(rank="same")
                    row.node(tail)
                    row.node(head)

    def node(self, graph, node_id: str, label: str, family: str, **extra) -> None:
        if self.budget is not None and len(self.order) >= self.budget:
            raise _TooMany
        theme = self.options.theme
        fill, shape = FAMILIES[family]
        fill = _DARK[family] if theme == "dark" else fill
        shape = extra.pop("shape", shape)
        if shape in _POINTED and self.options.rankdir == "LR":
            extra["orientation"] = "90"
        if family in _FAMILY_NAMES:
            self.families.add(family)
        self.family.setdefault(node_id, family)
        self.order.append(node_id)
        style = "filled,rounded" if shape == "box" and family != "io" else "filled"
        if family == "io":
            style = "bold"
        if theme == "print":
            style = style.replace("filled", "").strip(",") or "solid"
            fill = "white"
        if theme == "dark" and family in ("io", "merge"):
            # drawn on the background: light ink (the merge's xlabel too)
            style, fill = ("bold,filled" if family == "io" else "filled"), "#1e1e1e"
            extra.setdefault("fontcolor", "#eeeeee")
            extra.setdefault("color", "#eeeeee")
        graph.node(node_id, label, shape=shape, style=style, fillcolor=fill, **extra)

    def label(self, text: str, shape, params: int, count: int = 1) -> str:
        lines = [text + times(count)]
        if self.options.node_shapes:
            lines.append(fmt(shape))
        if params:
            lines.append(f"{params:,} params")
        return "\n".join(lines)

    def edge(self, tail: _End, head: str, **extra) -> None:
        # Edges go to the top graph: an edge inside a cluster would pull the
        # node it comes from into that cluster. An input or output node shows
        # its shape already, so its edge goes unlabelled: one shape per edge.
        bare = tail.node in self.io or head in self.io
        self.shapes.setdefault(tail.node, tail.shape)
        if head in self.io:
            self.shapes.setdefault(head, tail.shape)
        if self.options.theme == "print" and "color" in extra:
            extra = {**extra, "color": "black"}   # greyscale: a skip is told by its weight
        self.edges.append((tail.node, head, "" if bare else f" {fmt(tail.shape)} ", extra))

    def sequence(self, graph, seq: ir.Sequence, end: _End, path: str,
                 labels: dict[str, _End]) -> _End:
        """The items in order; when folding groups, a repeated group (`(conv -> relu) *
        3000`, copies written by the same text) is drawn once, then one node for the rest."""
        items = seq.items
        if not self.fold_groups:
            return self.items(graph, items, end, path, labels)
        keys = [(item.span.start, item.span.end, item.text) if item.span else None
                for item in items]
        index, start = 0, 0
        while index < len(items):
            period, copies = _period(keys, index)
            if period == 1:
                index += 1
                continue
            end = self.items(graph, items[start:index + period], end, path, labels)
            group = items[index:index + period * copies]
            end = self.repeated(graph, group[0], copies, end, _output(group, end), path)
            index = start = index + period * copies
        return self.items(graph, items[start:], end, path, labels)

    def repeated(self, graph, first, copies: int, end: _End, shape, path: str) -> _End:
        """The copies after the first, as one node: how many in all, the shape after."""
        node_id = _id(path + first.name) + "__repeated"
        self.node(graph, node_id, f"repeated ×{copies} in all", "other", shape="note")
        self.edge(end, node_id, style="dashed")
        return _End(node_id, shape)

    def items(self, graph, items, end: _End, path: str, labels: dict[str, _End]) -> _End:
        for stage in stages(runs(items), self.options.folded):
            if len(stage) > 1:
                end = self.stage(graph, stage, end, path)
                continue
            run = stage[0]
            item = run[0]
            if isinstance(item, ir.Ref):
                end = labels[item.label]
            elif isinstance(item, ir.Label):
                labels[item.label] = end
            elif isinstance(item, ir.BlockCall):
                end = self.block(graph, run, end, path)
            elif isinstance(item, ir.Merge):
                end = self.merge(graph, item, end, path, labels, len(run))
                end = _End(end.node, run[-1].info.output)
            elif isinstance(item, ir.Identity):
                continue   # the tensor itself: an edge, not a node
            else:
                end = self.layer(graph, run, end, path)
                like = getattr(item, "like", None)
                if like is not None and like in labels:
                    # `upsample like=@f`: the size comes from `@f`, a dashed skip
                    self.edge(labels[like], end.node, style="dashed", color="#0072b2",
                              constraint="false")
        return end

    def layer(self, graph, run: list, end: _End, path: str) -> _End:
        node = run[0]
        params = sum(n.info.params for n in run)
        node_id = _id(path + node.name)
        self.node(graph, node_id, self.label(written(node, self.source), run[-1].info.output,
                                             params, len(run)), LAYERS[node.op].family)
        self.edge(end, node_id)
        return _End(node_id, run[-1].info.output)

    def block(self, graph, run: list[ir.BlockCall], end: _End, path: str) -> _End:
        node = run[0]
        params = sum(n.info.params for n in run)
        macs = sum(n.info.macs for n in run)
        node_id = _id(path + node.name)
        text = written(node, self.source) + times(len(run))
        if self.options.folded(node):
            label = self.label(text, run[-1].info.output, params) + f"\n{human(macs)} MACs"
            self.node(graph, node_id, label, "other", peripheries="2")
            self.edge(end, node_id)
            return _End(node_id, run[-1].info.output)
        with graph.subgraph(name=f"cluster_{node_id}") as cluster:
            args = f"\n{arguments(node)}" if node.args else ""
            colour = "#555555" if self.options.theme != "dark" else "#bbbbbb"
            cluster.attr(label=f"{text}  ({params:,} params){args}",
                         style="rounded,dashed", color=colour, fontname=FONT)
            inner = self.sequence(cluster, node.body, end, f"{path}{node.name}.", {})
        return _End(inner.node, run[-1].info.output)

    def stage(self, graph, stage: list[list[ir.BlockCall]], end: _End, path: str) -> _End:
        uses = [use for run in stage for use in run]
        text = " → ".join(written(run[0], self.source) + times(len(run)) for run in stage)
        output = uses[-1].info.output
        label = self.label(text, output, sum(n.info.params for n in uses))
        node_id = _id(path + uses[0].name)
        self.node(graph, node_id, label + f"\n{human(sum(n.info.macs for n in uses))} MACs",
                  "other", peripheries="2")
        self.edge(end, node_id)
        return _End(node_id, output)

    def merge(self, graph, node: ir.Merge, end: _End, path: str,
              labels: dict[str, _End], count: int = 1) -> _End:
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
            if by_label:
                self.skips.append((tail.node, merge_id))
        symbol = _SYMBOLS[node.op]
        self.node(graph, merge_id, symbol, "merge", xlabel=f"{node.form or node.op}"
                  f"{times(count)}", width="0.4", fixedsize="true")
        for tail, style in ends:
            self.edge(tail, merge_id, **style)
        return _End(merge_id, node.info.output)

    def legend(self, graph) -> None:
        """One node per layer family drawn, in a box of its own."""
        with graph.subgraph(name="cluster_legend") as box:
            box.attr(label="legend", style="rounded", fontname=FONT)
            names = [f for f in _FAMILY_NAMES if f in self.families]
            for family in names:
                self.node(box, f"legend_{family}", _FAMILY_NAMES[family], family)
            for upper, lower in zip(names, names[1:]):
                box.edge(f"legend_{upper}", f"legend_{lower}", style="invis")


_THEME_COLOURS = {"light": ("black", "#444444", None), "dark": ("#eeeeee", "#bbbbbb", "#1e1e1e"),
                  "print": ("black", "black", "white")}


@dataclass(frozen=True)
class Drawing:
    """A diagram and whether its block uses were folded to stay within `MAX_NODES`."""

    graph: graphviz.Digraph
    folded: bool = False
    layers: int = 0


def drawing(result: CheckResult, options: Options | None = None) -> Drawing:
    """The diagram of a checked spec within `MAX_NODES` nodes: as asked, else with
    its block uses folded. Raises `DrawProblem` when even that is over the budget."""
    options = options or Options()
    try:
        return Drawing(_draw(result, options, MAX_NODES))
    except _TooMany:
        pass
    layers = len(result.summary.layers)   # as `check` counts them, repetitions unrolled
    folded = replace(options, collapse=True, expand=frozenset())
    note = f"folded: {layers:,} layers; block uses as one node, repetitions once"
    try:
        return Drawing(_draw(result, folded, MAX_NODES, note, fold_groups=True), True, layers)
    except _TooMany:
        raise DrawProblem(f"the network has {layers:,} layers, too many to draw: over "
                          f"{MAX_NODES:,} nodes even with block uses and repetitions "
                          "folded") from None


def draw(result: CheckResult, *, rankdir: str = "TB", collapse: bool = False,
         options: Options | None = None) -> graphviz.Digraph:
    """The `graphviz.Digraph` of a checked spec (`options` wins over the two
    keyword shortcuts), folded when huge (see `drawing`)."""
    return drawing(result, options or Options(rankdir=rankdir, collapse=collapse)).graph


def _draw(result: CheckResult, options: Options, budget: int | None = None,
          note: str = "", fold_groups: bool = False) -> graphviz.Digraph:
    import graphviz

    summary = result.summary
    network = result.network
    graph = graphviz.Digraph(network.model, comment=MARK)
    title = (f"{network.model}\n{summary.params:,} parameters · "
             f"{human(summary.macs)} multiply-adds" + (f"\n({note})" if note else ""))
    ink, line, background = _THEME_COLOURS[options.theme]
    graph.attr(comment=MARK, rankdir=options.rankdir, label=title, labelloc="t",
               fontname=FONT, fontsize="16", fontcolor=ink)
    if background:
        graph.attr(bgcolor=background)
    if options.dpi:
        graph.attr(dpi=str(options.dpi))
    graph.attr("node", fontname=FONT, fontsize="11", color=line if options.theme != "light"
               else "black")
    graph.attr("edge", fontname=FONT, fontsize="9", color=line, fontcolor=ink)
    drawer = _Drawer(options, result.source.text, budget, fold_groups)
    _body(drawer, graph, network)
    if options.legend:
        drawer.legend(graph)
    drawer.finish(graph)
    return graph


def _body(drawer: _Drawer, graph, network: ir.Network) -> None:
    labels: dict[str, _End] = {}
    for index, net_input in enumerate(network.inputs):
        node_id = "input" if index == 0 else f"input_{net_input.name}"
        name = "input" if len(network.inputs) == 1 else f"input {net_input.name}"
        drawer.node(graph, node_id, f"{name}\n{fmt(net_input.shape)}", "io")
        drawer.io.add(node_id)
        labels[net_input.name] = _End(node_id, net_input.shape)
    end = drawer.sequence(graph, network.body, labels[network.inputs[0].name], "", labels)
    ends = [end] if not network.outputs else \
        [drawer.sequence(graph, chain, end, "", labels) for chain in network.outputs]
    for index, tail in enumerate(ends):
        node_id = "output" if len(ends) == 1 else f"output{index + 1}"
        name = "output" if len(ends) == 1 else f"output {index + 1}"
        drawer.node(graph, node_id, f"{name}\n{fmt(tail.shape)}", "io")
        drawer.io.add(node_id)
        drawer.edge(tail, node_id)


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
    if fmt == "tex":
        return head.startswith(b"% " + MARK.encode() + b"\n")
    if fmt == "svg":
        return head.startswith(b"<?xml") and b"<!-- " + MARK.encode() in head
    tail = read_head(path, 64, tail=True) or b""
    return head.startswith(b"%PDF-") and tail.endswith(b"%" + MARK.encode() + b"\n")


def diagram(source_or_path: str | Path, *, rankdir: str = "TB", collapse: bool = False,
            options: Options | None = None) -> graphviz.Digraph:
    """A spec (path or text) as a `graphviz.Digraph`; notebooks display it.

    Raises `cnndsl.api.SpecError` when the spec has errors.
    """
    from cnndsl.api import SpecError, check_spec

    result = check_spec(source_or_path)
    if not result.ok:
        raise SpecError(result)
    return draw(result, rankdir=rankdir, collapse=collapse, options=options)
