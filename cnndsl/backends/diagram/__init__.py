"""Network diagrams: the annotated network drawn as a Graphviz graph, shapes on
every edge.

Built with the `graphviz` Python package as DOT text (deterministic, so it can
be a golden file); rendering needs Graphviz's `dot` binary, which `render` runs
within a time and a memory bound (the command line and the playground share it).
Repetitions are always drawn once with their count; a network still over
`MAX_NODES` nodes is drawn again with its block uses folded, and refused beyond.
Every label is the user's text made printable; the graphviz package quotes it for DOT.

One module per step: `style` (looks, options, limits), `folding` (runs and
stages), `drawer` (nodes and edges), `graph` (the whole diagram), `rendering` (`dot`
and the mark on its output; its limits, `DOT_SECONDS` and `DOT_MEMORY`, live there).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cnndsl.backends.diagram.drawer import _Drawer
from cnndsl.backends.diagram.folding import arguments, runs, stages, times, written
from cnndsl.backends.diagram.graph import Drawing, _body, draw, drawing
from cnndsl.backends.diagram.rendering import DOT_MEMORY, DOT_SECONDS, drawn_by_us, mark, render
from cnndsl.backends.diagram.style import (
    FAMILIES,
    FONT,
    LAYOUTS,
    MARK,
    MAX_NODES,
    RANKDIRS,
    THEMES,
    DrawProblem,
    Options,
)

if TYPE_CHECKING:
    import graphviz

__all__ = ["DOT_MEMORY", "DOT_SECONDS", "FAMILIES", "FONT", "LAYOUTS", "MARK", "MAX_NODES",
           "RANKDIRS", "THEMES", "DrawProblem", "Drawing", "Options", "_Drawer", "_body",
           "arguments", "diagram", "draw", "drawing", "drawn_by_us", "mark", "render", "runs",
           "stages", "times", "written"]


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
