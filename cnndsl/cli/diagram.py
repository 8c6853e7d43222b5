"""`cnndsl diagram`: draw a spec with Graphviz."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from cnndsl.cli import common

FORMATS = ("svg", "png", "pdf", "dot")

NO_GRAPHVIZ = ("drawing {fmt} needs Graphviz's `dot` program, which is not installed "
               "(apt-get install graphviz | brew install graphviz | conda install graphviz); "
               "`--format dot` works now without it")


def add(sub) -> None:
    p = sub.add_parser("diagram", help="draw a spec as a Graphviz diagram with shapes")
    p.add_argument("file", metavar="SPEC")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output file (default: SPEC with .svg; `-` for standard output); "
                        "its extension sets the format")
    p.add_argument("--format", choices=FORMATS, help="svg, png, pdf or dot")
    p.add_argument("--rankdir", choices=("TB", "LR"), default="TB",
                   help="top to bottom (default) or left to right")
    p.add_argument("--collapse", action="store_true", help="draw each block use as one node")
    p.add_argument("--force", action="store_true",
                   help="overwrite OUT even if cnndsl did not write it")
    common.add_colour_option(p)
    common.add_allow_option(p)
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


def run(args) -> int:
    from cnndsl.draw import MAX_NODES, DrawProblem, drawing, drawn_by_us, mark, render
    from cnndsl.files import guard, is_directory, show_path, write_atomic

    fmt = output_format(args.output, args.format)
    out = None if args.output == "-" else Path(args.output) if args.output else \
        Path(args.file).with_suffix(f".{fmt}")
    if out is not None and is_directory(out):
        raise common.CommandError(f"`{show_path(out)}` is a directory; give a file name")
    if fmt != "dot" and shutil.which("dot") is None:
        raise common.CommandError(NO_GRAPHVIZ.format(fmt=fmt))
    result = common.load_checked(args.file, args.color, common.allowed_codes(args))
    if result is None:
        return common.EXIT_ERRORS
    try:
        drawn = drawing(result, rankdir=args.rankdir, collapse=args.collapse)
        source = drawn.graph.source
        if drawn.folded:
            common.say(f"note: {drawn.layers:,} layers are over the diagram's budget of "
                       f"{MAX_NODES:,} nodes; drawn folded: block uses as one node, "
                       "repetitions as their first copy and a count")
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
