"""Network diagrams as TikZ, for LaTeX papers: the same drawing as `cnndsl.backends.diagram` (the
same folding, one shape per edge), laid out here in layers, so that plain
pdflatex with TikZ compiles it (no graph-drawing library, no lualatex).

Two styles: `flow`, the graph as the Graphviz diagram draws it, top to bottom;
`boxes`, PlotNeuralNet's look, left to right: each convolution, pooling, block or
fully connected layer a 3-D box whose thickness grows with its channels and whose
height and depth grow with its resolution; activations and normalisations ride
on the box before them. Every label is the user's text escaped for LaTeX.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from cnndsl.api import CheckResult
from cnndsl.backends.diagram import FAMILIES, MARK, Options, _body, _Drawer
from cnndsl.backends.table.markup import tex_escape, tex_shape

STYLES = ("flow", "boxes")
LIBRARIES = "shapes.geometric,arrows.meta,fit"
_SHAPES = {"box": "rectangle,rounded corners=2pt", "invtrapezium": "trapezium,"
           "trapezium stretches=true,shape border rotate=180", "ellipse": "ellipse",
           "box3d": "rectangle,double", "hexagon": "regular polygon,regular polygon sides=6,"
           "inner sep=0pt", "circle": "circle,inner sep=1pt", "invtriangle": "circle"}
_SKIPPED = {"activation", "norm"}   # folded onto the box before them in `boxes`


@dataclass
class _Node:
    id: str
    label: str
    shape: str
    cluster: str = ""


@dataclass
class _Picture:
    """What the drawer drew: nodes in drawing order (a topological order), edges."""

    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: list[tuple[str, str, str, dict]] = field(default_factory=list)
    clusters: dict[str, str] = field(default_factory=dict)   # cluster path -> its label


class _Recorder:
    """Stands in for `graphviz.Digraph` under `_Drawer`: keeps what is drawn."""

    def __init__(self, picture: _Picture, cluster: str = "") -> None:
        self.picture = picture
        self.cluster = cluster
        self.label = ""

    def attr(self, *args, **kwargs) -> None:
        if "label" in kwargs and self.cluster:
            self.picture.clusters[self.cluster] = kwargs["label"]

    def node(self, node_id: str, label: str, **attrs) -> None:
        self.picture.nodes[node_id] = _Node(node_id, label, attrs.get("shape", "box"),
                                            self.cluster)

    def edge(self, tail: str, head: str, label: str = "", **extra) -> None:
        self.picture.edges.append((tail, head, label.strip(), extra))

    @contextmanager
    def subgraph(self, name: str = ""):
        yield _Recorder(self.picture, f"{self.cluster}/{name}" if self.cluster else name)


def picture(result: CheckResult, options: Options) -> tuple[_Picture, _Drawer]:
    """The drawing of a checked spec, recorded rather than handed to Graphviz."""
    recorded = _Picture()
    drawer = _Drawer(options, result.source.text)
    graph = _Recorder(recorded)
    _body(drawer, graph, result.network)
    drawer.finish(graph)
    return recorded, drawer


def ranks(nodes: list[str], edges) -> dict[str, int]:
    """Each node's layer: the longest path to it (nodes come in topological order)."""
    rank = dict.fromkeys(nodes, 0)
    heads: dict[str, list[str]] = {}
    for tail, head, *_ in edges:
        heads.setdefault(head, []).append(tail)
    for node in nodes:
        rank[node] = max((rank[t] + 1 for t in heads.get(node, ()) if t in rank), default=0)
    return rank


def _columns(rank: dict[str, int]) -> dict[str, int]:
    seen: dict[int, int] = {}
    column = {}
    for node, r in rank.items():
        column[node] = seen.get(r, 0)
        seen[r] = column[node] + 1
    return column


def lanes(nodes: list[str], edges) -> dict[str, int]:
    """Each node's column: a chain stays in its lane, a second branch opens the next
    one to the right, a merge sits in the leftmost lane it joins."""
    into: dict[str, list[str]] = {}
    for tail, head, *_ in edges:
        into.setdefault(head, []).append(tail)
    lane: dict[str, int] = {}
    children: dict[str, int] = {}
    for node in nodes:
        tails = [t for t in into.get(node, ()) if t in lane]
        if len(tails) > 1:
            lane[node] = min(lane[t] for t in tails)
        elif tails:
            lane[node] = lane[tails[0]] + children.get(tails[0], 0)
            children[tails[0]] = children.get(tails[0], 0) + 1
        else:
            lane[node] = max(lane.values(), default=-1) + 1
    return lane


def untangled(nodes: list[str], edges, rank: dict[str, int],
              lane: dict[str, int]) -> dict[str, int]:
    """`lane`, with no two nodes in one cell (lane, rank): a merge whose leftmost lane is
    taken at its rank (a second output head rejoining the first's lane) moves right to
    the first free lane, and the chain after it follows. Where `lane` has no clash, the
    result is `lane` itself."""
    into: dict[str, list[str]] = {}
    for tail, head, *_ in edges:
        into.setdefault(head, []).append(tail)
    claimed = {}
    for node in nodes:   # a chain's continuation keeps its cell; merges yield to it
        if len([t for t in into.get(node, ()) if t in lane]) <= 1:
            claimed.setdefault((lane[node], rank[node]), node)
    final: dict[str, int] = {}
    taken: set[tuple[int, int]] = set()
    for node in nodes:
        tails = [t for t in into.get(node, ()) if t in final]
        if len(tails) > 1:
            want = min(final[t] for t in tails)
        elif tails:
            want = final[tails[0]] + lane[node] - lane[tails[0]]
        else:
            want = lane[node]
        while (want, rank[node]) in taken or claimed.get((want, rank[node]), node) != node:
            want += 1
        final[node] = want
        taken.add((want, rank[node]))
    return final


def _colours(theme: str) -> list[str]:
    out = []
    for family, (fill, _) in FAMILIES.items():
        fill = "FFFFFF" if theme == "print" else fill.lstrip("#").upper()
        out.append(f"\\definecolor{{cnn{family}}}{{HTML}}{{{fill}}}")
    return out


def _text(label: str) -> str:
    return r"\\".join(tex_escape(line) for line in label.split("\n"))


# ---- flow --------------------------------------------------------------------------------

def _flow(pic: _Picture, drawer: _Drawer) -> list[str]:
    order = list(pic.nodes)
    rank = ranks(order, pic.edges)
    column = untangled(order, pic.edges, rank, lanes(order, pic.edges))
    row = min(1.4, 480 / max(1, max(rank.values()) + 1))   # under TeX's largest dimension
    out = _colours(drawer.options.theme)
    out += [f"\\begin{{tikzpicture}}[>=Stealth, every node/.style={{font=\\footnotesize, "
            f"align=center, draw, inner sep=3pt}}, y={row:.3f}cm]"]
    names = {node: f"n{index}" for index, node in enumerate(order)}
    for node in order:
        item = pic.nodes[node]
        x = column[node] * 5.2
        family = drawer.family.get(node, "other")
        shape = _SHAPES.get(item.shape, "rectangle")
        thick = ",very thick" if family == "io" else ""
        out.append(f"  \\node[{shape},fill=cnn{family}{thick}] ({names[node]}) at "
                   f"({x:.2f},{-rank[node]}) {{{_text(item.label)}}};")
    for path, label in pic.clusters.items():   # a block use: a dashed box around its nodes
        inside = "".join(f"({names[n]})" for n in order
                         if (pic.nodes[n].cluster + "/").startswith(path + "/"))
        if inside:
            out.append(f"  \\node[draw,dashed,rounded corners,inner sep=6pt,fit={inside},"
                       f"label={{[draw=none,font=\\scriptsize,align=right]left:"
                       f"{{{_text(label)}}}}}] {{}};")
    for tail, head, label, extra in pic.edges:
        around = rank[head] - rank[tail] > 1 and column[head] == column[tail]
        out.append("  " + _flow_edge(names[tail], names[head], around, label, extra))
    out.append("\\end{tikzpicture}")
    return out


def _flow_edge(tail: str, head: str, around: bool, label: str, extra: dict) -> str:
    style = "->" + (",dashed" if extra.get("style") == "dashed" else "") + \
        (",thick" if extra.get("style") == "bold" else "")
    text = f" node[midway,right,draw=none,font=\\scriptsize] {{{tex_shape(label.split('x'))}}}" \
        if label else ""
    if around:   # around the nodes between it in its lane, on the right
        return (f"\\draw[{style}] ({tail}.east) to[out=0,in=0,looseness=0.6]{text} "
                f"({head}.east);")
    return f"\\draw[{style}] ({tail}) --{text} ({head});"


# ---- boxes -------------------------------------------------------------------------------

def _contracted(pic: _Picture, drawer: _Drawer) -> tuple[list[str], list]:
    """The nodes drawn as boxes, and the edges between them (through the skipped)."""
    keep = [n for n in pic.nodes if drawer.family.get(n) not in _SKIPPED]
    into: dict[str, list[tuple[str, dict]]] = {}
    for tail, head, _, extra in pic.edges:
        into.setdefault(head, []).append((tail, extra))

    def source(node: str) -> str:
        while drawer.family.get(node) in _SKIPPED and into.get(node):
            node = into[node][0][0]
        return node

    edges = [(source(tail), head, "", extra) for head in keep
             for tail, extra in into.get(head, ())]
    return keep, edges


def _box_size(shape: tuple[int, ...], biggest: int) -> tuple[float, float, float]:
    """Thickness (channels), height and depth (resolution) of a box, in cm."""
    channels = shape[0] if shape else 1
    thick = 0.15 + 0.12 * math.log2(max(channels, 1))
    if len(shape) < 2:   # a vector: a thin, tall bar
        return 0.15, 0.6 + 0.25 * math.log2(max(channels, 1)), 0.15
    side = math.sqrt(shape[1] / biggest) if biggest else 1
    return thick, 0.6 + 3.4 * side, 0.3 + 1.7 * side


def _boxes(pic: _Picture, drawer: _Drawer) -> list[str]:
    keep, edges = _contracted(pic, drawer)
    rank = ranks(keep, edges)
    column = _columns(rank)
    shapes = {n: drawer.shapes.get(n, ()) for n in keep}
    biggest = max((s[1] for s in shapes.values() if len(s) > 1), default=1)
    sizes = {n: _box_size(shapes[n], biggest) for n in keep}
    step = {}
    for node in keep:
        step[rank[node]] = max(step.get(rank[node], 0), sizes[node][0] + sizes[node][2] * 0.6)
    xs, x = {}, 0.0
    for r in sorted(step):
        xs[r] = x
        x += step[r] + 1.9
    out = _colours(drawer.options.theme)
    out += ["\\begin{tikzpicture}[>=Stealth, every node/.style={font=\\footnotesize, "
            "align=center}]"]
    names = {node: f"n{index}" for index, node in enumerate(keep)}
    for node in keep:
        out += _box(names[node], pic.nodes[node].label, drawer.family.get(node, "other"),
                    xs[rank[node]], -column[node] * 6.0, sizes[node])
    for tail, head, _, _ in edges:
        label = tex_shape(shapes[tail]) if drawer.family.get(tail) != "io" else ""
        span = rank[head] - rank[tail]
        path = "to[out=60,in=120]" if span > 1 or column[head] != column[tail] else "--"
        where = "above" if path == "--" else "above,pos=0.5"
        out.append(f"  \\draw[->] ({_side(names[tail], 'e', drawer.family.get(tail))}) {path} "
                   f"node[{where},font=\\tiny] {{{label}}} "
                   f"({_side(names[head], 'w', drawer.family.get(head))});")
    out.append("\\end{tikzpicture}")
    return out


def _side(name: str, side: str, family: str | None) -> str:
    """Where an arrow leaves (`e`) or meets (`w`) a box, or a drawn node."""
    if family in ("merge", "io"):
        return f"{name}.{'east' if side == 'e' else 'west'}"
    return name + side


def _box(name: str, label: str, family: str, x: float, y: float,
         size: tuple[float, float, float]) -> list[str]:
    thick, height, depth = size
    dx, dy = depth * 0.6, depth * 0.45
    text = _text(label.split("\n")[0])
    if family in ("merge", "io"):
        shape = "circle,draw,inner sep=1pt" if family == "merge" else "draw,very thick"
        return [f"  \\node[{shape},fill=cnn{family}] ({name}) at ({x + 0.2:.2f},{y:.2f}) "
                f"{{{_text(label)}}};"]
    y0 = y - height / 2
    return [f"  \\filldraw[fill=cnn{family}] ({x:.2f},{y0:.2f}) rectangle ++({thick:.2f},"
            f"{height:.2f});",
            f"  \\filldraw[fill=cnn{family}!70!black!60] ({x:.2f},{y0 + height:.2f}) -- "
            f"++({dx:.2f},{dy:.2f}) -- ++({thick:.2f},0) -- ++({-dx:.2f},{-dy:.2f}) -- cycle;",
            f"  \\filldraw[fill=cnn{family}!80!black!50] ({x + thick:.2f},{y0:.2f}) -- "
            f"++({dx:.2f},{dy:.2f}) -- ++(0,{height:.2f}) -- ++({-dx:.2f},{-dy:.2f}) -- cycle;",
            f"  \\coordinate ({name}) at ({x + thick / 2:.2f},{y:.2f});",
            f"  \\coordinate ({name}w) at ({x:.2f},{y:.2f});",
            f"  \\coordinate ({name}e) at ({x + thick + dx:.2f},{y:.2f});",
            f"  \\node[anchor=north,text width=1.8cm] at ({x + thick / 2:.2f},{y0 - 0.1:.2f}) "
            f"{{{text}}};"]


# ---- documents ---------------------------------------------------------------------------

def tikz(result: CheckResult, options: Options | None = None, style: str = "flow",
         standalone: bool = True) -> str:
    """The TikZ picture of a checked spec: a whole LaTeX document (`standalone`,
    cropped to the picture, for pdflatex) or the `tikzpicture` alone, to `\\input`."""
    # TikZ lays out its own layers (no U yet); boxes fold every block as --collapse
    options = replace(options or Options(), layout="flow",
                      collapse=(options or Options()).collapse or style == "boxes")
    pic, drawer = picture(result, options)
    body = (_boxes if style == "boxes" else _flow)(pic, drawer)
    summary = result.summary
    title = (f"% {tex_escape(result.network.model)}: {summary.params:,} parameters, "
             f"{summary.macs:,} multiply-adds")
    needs = f"% needs \\usepackage{{tikz}} and \\usetikzlibrary{{{LIBRARIES}}}"
    if not standalone:
        return "\n".join([f"% {MARK}", title, needs, *body]) + "\n"
    return "\n".join([f"% {MARK}", title, r"\documentclass{article}", r"\usepackage{tikz}",
                      f"\\usetikzlibrary{{{LIBRARIES}}}", r"\pagestyle{empty}",
                      r"\newsavebox{\cnnpicture}", r"\begin{document}",
                      r"\savebox{\cnnpicture}{%", *body, "}",
                      "% the page cropped to the picture", r"\pdfpagewidth=\wd\cnnpicture",
                      r"\pdfpageheight=\dimexpr\ht\cnnpicture+\dp\cnnpicture\relax",
                      r"\hoffset=-1in \voffset=-1in \topskip=0pt \parindent=0pt",
                      r"\oddsidemargin=0pt \topmargin=0pt \headheight=0pt \headsep=0pt",
                      r"\vsize=\pdfpageheight \textheight=\pdfpageheight",
                      r"\noindent\usebox{\cnnpicture}", r"\end{document}"]) + "\n"
