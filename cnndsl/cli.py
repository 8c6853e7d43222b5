"""The `cnndsl` command: a thin layer over the library API."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from cnndsl import __version__
from cnndsl.frozen import set_validation

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_PIPE = 128 + 13  # as a tool killed by SIGPIPE: the reader (`| head`) stopped reading


def _colour(stream, choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def print_diagnostics(result, *, colour: bool, stream=None) -> None:
    """Print a check result's diagnostics, rustc-style, and a one-line tally."""
    from cnndsl.diagnostics import render_text

    stream = stream or sys.stderr
    for diagnostic in result.diagnostics:
        print(render_text(diagnostic, result.source, colour=colour), file=stream)
        print(file=stream)
    errors = len(result.errors)
    warnings = len(result.diagnostics) - errors
    if errors:
        plural = "s" if errors > 1 else ""
        tail = f"; {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
        print(f"{result.source.name}: {errors} error{plural}{tail}", file=stream)


def load_checked(path: str, colour: bool):
    """Check a spec for a command that needs a valid one; print why not, else return it."""
    from cnndsl.api import check_file

    result = check_file(path)
    if not result.ok:
        print_diagnostics(result, colour=colour)
        return None
    return result


# ---- check --------------------------------------------------------------------------

def cmd_check(args) -> int:
    from cnndsl.api import check_file
    from cnndsl.report import render_summary, result_json

    results = [check_file(path) for path in args.files]
    if args.format == "json":
        print(json.dumps({"files": [result_json(r) for r in results]}, indent=2,
                         ensure_ascii=False))
    else:
        colour = _colour(sys.stdout, args.color)
        for result in results:
            if result.summary is not None and not args.quiet:
                print(render_summary(result.summary, result.source.name))
            print_diagnostics(result, colour=colour, stream=sys.stdout)
    return EXIT_OK if all(r.ok for r in results) else EXIT_ERRORS


# ---- the parser ---------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnndsl", description="A declarative language and compiler for convolutional "
                                   "networks.")
    parser.add_argument("--version", action="version", version=f"cnndsl {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="validate every IR node and show Python tracebacks for "
                             "internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = sub.add_parser("check", help="check specs: shapes, parameters, MACs, errors")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--quiet", "-q", action="store_true", help="print only diagnostics")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    check.set_defaults(run=cmd_check)

    for extra in _extensions():
        extra(sub)
    return parser


def _extensions():
    from cnndsl.codegen.cli import add_compile_command
    from cnndsl.diagram_cli import add_diagram_command
    from cnndsl.train.cli import add_train_command

    return (add_compile_command, add_diagram_command, add_train_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `cnndsl` command line; returns the exit status."""
    return _dispatch(argv)[0]


def run() -> None:
    """The `cnndsl` console script: `main`, then, after `check`, a fast exit.

    Like clang's `-disable-free`, a finished `check` skips tearing down its heap:
    freeing the imported pydantic and Lark modules object by object took ~20 ms,
    a tenth of the whole process. Other commands exit normally, since torch,
    multiprocessing and matplotlib leave work to exit handlers.
    """
    status, command = _dispatch(sys.argv[1:])
    if command == "check":
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a closed pipe (`cnndsl check x | head`): nothing to add
            pass
        os._exit(status)
    sys.exit(status)


def _dispatch(argv: Sequence[str] | None) -> tuple[int, str]:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.debug:
        set_validation(True)
    return _run(args), args.command


def _run(args: argparse.Namespace) -> int:
    try:
        return args.run(args)
    except FileNotFoundError as exc:
        print(f"error: cannot read `{exc.filename}`: no such file", file=sys.stderr)
        return EXIT_USAGE
    except IsADirectoryError as exc:
        print(f"error: `{exc.filename}` is a directory, not a spec file", file=sys.stderr)
        return EXIT_USAGE
    except PermissionError as exc:
        print(f"error: cannot read `{exc.filename}`: permission denied", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it where a write cannot fail
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    except Exception as exc:  # never a traceback for users, unless asked
        if args.debug:
            raise
        print(f"internal error: {type(exc).__name__}: {exc}\n"
              "this is a bug in cnndsl; run with `--debug` for the traceback and report it",
              file=sys.stderr)
        return EXIT_INTERNAL
