"""`cnndsl diagram`: draw a spec with Graphviz."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

FORMATS = ("svg", "png", "pdf", "dot")

NO_GRAPHVIZ = ("error: drawing {fmt} needs Graphviz's `dot` program, which is not installed "
               "(apt-get install graphviz | brew install graphviz | conda install graphviz); "
               "`--format dot` works now without it")


def add_diagram_command(sub) -> None:
    p = sub.add_parser("diagram", help="draw a spec as a Graphviz diagram with shapes")
    p.add_argument("file", metavar="SPEC")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output file (default: SPEC with .svg); its extension sets the format")
    p.add_argument("--format", choices=FORMATS, help="svg, png, pdf or dot")
    p.add_argument("--rankdir", choices=("TB", "LR"), default="TB",
                   help="top to bottom (default) or left to right")
    p.add_argument("--collapse", action="store_true", help="draw each block use as one node")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.set_defaults(run=cmd_diagram)


def cmd_diagram(args) -> int:
    from cnndsl.cli import _colour, load_checked
    from cnndsl.codegen.cli import write_atomically
    from cnndsl.draw import draw

    fmt = args.format
    out = Path(args.output) if args.output and args.output != "-" else None
    if fmt is None:
        suffix = out.suffix.lstrip(".").lower() if out else ""
        fmt = suffix if suffix in FORMATS else "svg"
    if out is None and args.output != "-":
        out = Path(args.file).with_suffix(f".{fmt}")
    if fmt != "dot" and shutil.which("dot") is None:
        print(NO_GRAPHVIZ.format(fmt=fmt), file=sys.stderr)
        return 1
    result = load_checked(args.file, _colour(sys.stderr, args.color))
    if result is None:
        return 1
    graph = draw(result, rankdir=args.rankdir, collapse=args.collapse)
    if fmt == "dot":
        if out is None:
            sys.stdout.write(graph.source)
        else:
            write_atomically(out, graph.source)
    else:
        data = graph.pipe(format=fmt)
        if out is None:
            sys.stdout.buffer.write(data)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".{out.name}.tmp")
            tmp.write_bytes(data)
            tmp.replace(out)
    if out is not None:
        print(f"wrote {out}", file=sys.stderr)
    return 0
