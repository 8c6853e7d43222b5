"""A checked spec as a `graphviz.Digraph`: its title and theme, its inputs and
outputs around the drawn body, folded when it is over `MAX_NODES` nodes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cnndsl.api import CheckResult
from cnndsl.backends.diagram.drawer import _Drawer
from cnndsl.backends.diagram.style import (
    _THEME_COLOURS,
    FONT,
    MARK,
    MAX_NODES,
    DrawProblem,
    Options,
    _End,
    _TooMany,
)
from cnndsl.backends.table.report import human
from cnndsl.ir import nodes as ir
from cnndsl.ir.shapes import fmt

if TYPE_CHECKING:
    import graphviz


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
