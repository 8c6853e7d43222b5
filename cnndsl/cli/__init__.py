"""The `cnndsl` command: one module per command over the library API.

Each command module holds `add(subparsers)` and its `run(args)`; they share
`cnndsl.cli.common` and never import each other or this package's root.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cnndsl.cli import common
from cnndsl.version import __version__

COMMANDS = ("check", "compile", "diagram", "train", "predict", "evaluate", "explain", "serve",
            "export", "schema", "fmt", "lsp", "import")
#: Commands whose module is not named after them (`import` is a Python keyword).
MODULES = {"import": "importer"}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The `cnndsl` command line; with `only`, that command's parser alone (what a
    command line naming it needs: the others' flags would only cost start-up)."""
    parser = argparse.ArgumentParser(
        prog="cnndsl", description="A declarative language and compiler for convolutional "
                                   "networks.",
        epilog="The language, every layer word and every command are documented in docs/ "
               "(docs/language.md, docs/layers.md); `cnndsl explain CODE` explains a "
               "diagnostic.")
    parser.add_argument("--version", action="version", version=f"cnndsl {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show Python tracebacks for internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    from importlib import import_module

    for name in COMMANDS if only is None else (only,):
        import_module(f"cnndsl.cli.{MODULES.get(name, name)}").add(sub)
    return parser


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
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    return common.guarded(args), args.command
