"""`cnndsl compile`: write the generated module, never over a file it did not write."""

from __future__ import annotations

import sys
from pathlib import Path

from cnndsl.cli import common


def add(sub) -> None:
    p = sub.add_parser("compile", help="compile a spec to a self-contained PyTorch module")
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="where to write (default: FILE with .py; `-` for standard output)")
    p.add_argument("--force", action="store_true",
                   help="overwrite OUT even if cnndsl did not write it")
    common.add_colour_option(p)
    common.add_allow_option(p)
    common.add_override_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from cnndsl.backends.pytorch.build import SpecError, compile_result, is_generated
    from cnndsl.files import guard, is_directory, show_path, write_atomic

    result = common.load_checked(args.file, args.color, common.allowed_codes(args),
                                 common.overrides(args))
    if result is None:
        return common.EXIT_ERRORS
    try:
        code = compile_result(result)
    except SpecError as exc:   # a bound of the generated code (E0417), located in the spec
        common.print_diagnostics(exc.result, colour=common.colour(sys.stderr, args.color))
        return common.EXIT_ERRORS
    if args.output == "-":
        sys.stdout.write(code)
        return common.EXIT_OK
    out = Path(args.output) if args.output else Path(args.file).with_suffix(".py")
    if is_directory(out):
        raise common.CommandError(f"`{show_path(out)}` is a directory; give a file name, "
                                  f"e.g. `-o {show_path(out / (Path(args.file).stem + '.py'))}`")
    written = write_atomic(out, code, before=guard(is_generated, args.force))
    common.say(f"wrote {show_path(written)} ({result.network.model}, "
               f"{result.summary.params:,} parameters)")
    return common.EXIT_OK
