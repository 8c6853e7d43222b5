"""`cnndsl diagram`: draw a spec with Graphviz."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from cnndsl.cli import common

FORMATS = ("svg", "png", "pdf", "dot", "tex")
DPI = (36, 600)   # a bound: a 600 dpi PNG of a large network is already tens of megapixels

NO_GRAPHVIZ = ("drawing {fmt} needs Graphviz's `dot` program, which is not installed "
               "(apt-get install graphviz | brew install graphviz | conda install graphviz); "
               "`--format dot` works now without it")


def add(sub) -> None:
    p = sub.add_parser("diagram", help="draw a spec as a Graphviz diagram with shapes")
    p.add_argument("file", metavar="SPEC")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output file (default: SPEC with .svg; `-` for standard output); "
                        "its extension sets the format")
    p.add_argument("--format", choices=FORMATS,
                   help="svg, png, pdf, dot, or tex (a LaTeX document drawn with TikZ)")
    p.add_argument("--style", choices=("flow", "boxes"), default="flow",
                   help="with tex: flow (the graph, default) or boxes (3-D boxes sized by "
                        "channels and resolution)")
    p.add_argument("--tikz-only", action="store_true",
                   help="with tex: the tikzpicture alone, to \\input into a paper")
    p.add_argument("--rankdir", choices=("TB", "LR"), default="TB",
                   help="top to bottom (default) or left to right")
    p.add_argument("--collapse", action="store_true", help="draw each block use as one node")
    p.add_argument("--expand", action="append", default=[], metavar="BLOCK",
                   help="with --collapse, open the uses of this block (may be repeated)")
    p.add_argument("--layout", choices=("auto", "u", "flow"), default="auto",
                   help="u: encoder down the left, decoder up the right, skips across; "
                        "auto (default) where skips join mirrored resolutions; flow: never")
    p.add_argument("--legend", action="store_true", help="add a legend of the layer families")
    p.add_argument("--theme", choices=("light", "dark", "print"), default="light",
                   help="light (default), dark, or print (greyscale, no fills)")
    p.add_argument("--dpi", type=int, metavar="N",
                   help=f"resolution of a PNG ({DPI[0]} to {DPI[1]}; Graphviz's default is 96)")
    p.add_argument("--node-shapes", action="store_true",
                   help="print each node's output shape inside it too (edges carry them always)")
    p.add_argument("--force", action="store_true",
                   help="overwrite OUT even if cnndsl did not write it")
    common.add_colour_option(p)
    common.add_allow_option(p)
    common.add_override_options(p)
    p.set_defaults(run=run)


def output_format(output: str | None, chosen: str | None) -> str:
    """The format to write: `--format`, else OUT's extension, else svg; an
    extension cnndsl cannot write is refused rather than silently ignored."""
    suffix = Path(output).suffix.lstrip(".").lower() if output and output != "-" else ""
    if suffix == "gv":
        suffix = "dot"
    if chosen is not None:
        if suffix in FORMATS and suffix != chosen:
            raise common.CommandError(f"`-o {output}` has the extension `.{suffix}` but "
                                      f"`--format {chosen}` was asked for; make them agree",
                                      common.EXIT_USAGE)
        return chosen
    if not suffix:
        return "svg"
    if suffix not in FORMATS:
        raise common.CommandError(f"cannot write `.{suffix}` files; diagrams are "
                                  + ", ".join(f".{f}" for f in FORMATS), common.EXIT_USAGE)
    return suffix


def options(args, fmt: str):
    """The drawing options the command line asks for; `--dpi` only where it means something."""
    from cnndsl.backends.diagram import Options

    if args.dpi is not None and fmt != "png":
        raise common.CommandError(f"`--dpi` sets a PNG's resolution; this diagram is {fmt}",
                                  common.EXIT_USAGE)
    if args.dpi is not None and not DPI[0] <= args.dpi <= DPI[1]:
        raise common.CommandError(f"`--dpi {args.dpi}` is out of range; give {DPI[0]} to "
                                  f"{DPI[1]}", common.EXIT_USAGE)
    if args.expand and not args.collapse:
        raise common.CommandError("`--expand` opens a block that `--collapse` closed; add "
                                  "`--collapse`", common.EXIT_USAGE)
    return Options(rankdir=args.rankdir, collapse=args.collapse, expand=frozenset(args.expand),
                   legend=args.legend, theme=args.theme, node_shapes=args.node_shapes,
                   dpi=args.dpi, layout=args.layout)


def _known_blocks(names, network) -> None:
    from cnndsl.files import printable

    known = [name for name, _ in network.blocks]
    for name in sorted(names):
        if name not in known:
            have = ", ".join(f"`{k}`" for k in known) or "none"
            raise common.CommandError(f"`--expand {printable(name)}`: the spec has no block "
                                      f"of that name (its blocks: {have})", common.EXIT_USAGE)


def run(args) -> int:
    from cnndsl.backends.diagram import MAX_NODES, DrawProblem, drawing, drawn_by_us, mark, render
    from cnndsl.files import guard, is_directory, show_path, write_atomic

    fmt = output_format(args.output, args.format)
    out = None if args.output == "-" else Path(args.output) if args.output else \
        Path(args.file).with_suffix(f".{fmt}")
    if out is not None and is_directory(out):
        raise common.CommandError(f"`{show_path(out)}` is a directory; give a file name")
    if fmt != "tex" and (args.tikz_only or args.style != "flow"):
        raise common.CommandError("`--tikz-only` and `--style` shape a TikZ picture; write "
                                  "one with `-o NAME.tex`", common.EXIT_USAGE)
    if fmt not in ("dot", "tex") and shutil.which("dot") is None:
        raise common.CommandError(NO_GRAPHVIZ.format(fmt=fmt))
    chosen = options(args, fmt)
    result = common.load_checked(args.file, args.color, common.allowed_codes(args),
                                 common.overrides(args))
    if result is None:
        return common.EXIT_ERRORS
    _known_blocks(chosen.expand, result.network)
    try:
        if fmt == "tex":
            from cnndsl.backends.tikz import tikz

            text = tikz(result, chosen, args.style, standalone=not args.tikz_only)
            data = text.encode("utf-8")
        else:
            drawn = drawing(result, chosen)
            source = drawn.graph.source
            if drawn.folded:
                common.say(f"note: {drawn.layers:,} layers are over the diagram's budget of "
                           f"{MAX_NODES:,} nodes; drawn folded: block uses as one node, "
                           "repeated groups as their first copy and a count")
            data = mark(source.encode("utf-8") if fmt == "dot" else render(source, fmt), fmt)
    except DrawProblem as exc:
        raise common.CommandError(str(exc)) from None
    if out is None:
        sys.stdout.buffer.write(data)
        return common.EXIT_OK
    written = write_atomic(out, data, before=guard(lambda path: drawn_by_us(path, fmt),
                                                   args.force))
    common.say(f"wrote {show_path(written)}")
    return common.EXIT_OK
