"""How a diagram looks and what it may hold: the families' colours and shapes,
themes, the node budget, and the drawing options shared by DOT and TikZ."""

from __future__ import annotations

from dataclasses import dataclass

from cnndsl.ir import nodes as ir

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


_THEME_COLOURS = {"light": ("black", "#444444", None), "dark": ("#eeeeee", "#bbbbbb", "#1e1e1e"),
                  "print": ("black", "black", "white")}
