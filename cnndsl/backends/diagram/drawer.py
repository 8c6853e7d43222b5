"""The drawer: the network's nodes, edges, clusters and legend added to a
`graphviz.Digraph`, within a node budget."""

from __future__ import annotations

import math

from cnndsl.backends.diagram.folding import (
    _output,
    _period,
    arguments,
    runs,
    stages,
    times,
    written,
)
from cnndsl.backends.diagram.style import (
    _DARK,
    _FAMILY_NAMES,
    _POINTED,
    _SYMBOLS,
    FAMILIES,
    FONT,
    Options,
    _End,
    _id,
    _TooMany,
)
from cnndsl.backends.table.report import human
from cnndsl.ir import nodes as ir
from cnndsl.ir.layers import LAYERS
from cnndsl.ir.shapes import fmt


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
