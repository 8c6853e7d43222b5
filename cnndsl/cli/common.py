"""What every command shares: colour, printing diagnostics, loading a checked
spec, exit statuses, and turning failures into one line for the user."""

from __future__ import annotations

import argparse
import os
import sys

from cnndsl.files import FileProblem, printable, printable_lines

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_PIPE = 128 + 13  # as a tool killed by SIGPIPE: the reader (`| head`) stopped reading


class CommandError(Exception):
    """A problem a command reports in one line (`error: ...`), with its exit status."""

    def __init__(self, message: str, status: int = EXIT_ERRORS) -> None:
        super().__init__(message)
        self.status = status


def colour(stream, choice: str) -> bool:
    """Whether to colour output on `stream` (`--color auto|always|never`, NO_COLOR)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def add_colour_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour diagnostics (default: on a terminal)")


def add_allow_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow", action="append", default=None, metavar="CODE",
                        type=lambda text: [c.strip() for c in text.split(",") if c.strip()],
                        help="silence a warning (`--allow W0101`, repeatable or comma-separated)")


def allowed_codes(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(code for group in getattr(args, "allow", None) or () for code in group)


def add_override_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=None, metavar="NAME=VALUE",
                        dest="sets", help="replace a `let` constant's value (`--set w=0.5`, "
                        "repeatable)")
    parser.add_argument("--input", action="append", default=None, metavar="[NAME=]SIZE",
                        dest="inputs", help="check the network at another input size "
                        "(`--input 3x64x64`; `--input image=3x64x64` with several inputs)")


def overrides(args: argparse.Namespace):
    """The `--set`/`--input` flags as `cnndsl.ir.overrides.Overrides` (None without any);
    a value they cannot read is one line naming the flag, a usage error."""
    from cnndsl.ir.overrides import OverrideError, parse_flags

    try:
        found = parse_flags(getattr(args, "sets", None) or (),
                            getattr(args, "inputs", None) or ())
    except OverrideError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    return found or None


def print_diagnostics(result, *, colour: bool, stream=None) -> None:
    """Print a check result's diagnostics, rustc-style, and a one-line tally."""
    from cnndsl.diagnostics.diagnostic import render_all

    stream = stream or sys.stderr
    text = render_all(result.diagnostics, result.source, colour=colour)
    if text:
        print(text, file=stream)


def load_checked(path: str, colour_choice: str = "auto", allow: tuple[str, ...] = (),
                 overrides=None):
    """Check a spec for a command that needs a valid one (with the `--set`/`--input`
    `overrides`, if any); print why not, else return it."""
    from cnndsl.api import check_file

    result = check_file(path, allow, overrides)
    if not result.ok:
        print_diagnostics(result, colour=colour(sys.stderr, colour_choice))
        return None
    return result


def say(text: str) -> None:
    """One line of progress for the user, on standard error."""
    print(text, file=sys.stderr)


def guarded(args: argparse.Namespace) -> int:
    """Run the chosen command; every failure becomes a line and an exit status,
    never a traceback (unless `--debug`)."""
    try:
        return args.run(args)
    except (CommandError, FileProblem) as exc:
        print("error: " + printable_lines(str(exc)), file=sys.stderr)
        return exc.status
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
        print(f"internal error: {type(exc).__name__}: {printable(str(exc))}\n"
              "this is a bug in cnndsl; run with `--debug` for the traceback and report it",
              file=sys.stderr)
        return EXIT_INTERNAL
