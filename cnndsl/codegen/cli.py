"""`cnndsl compile`: write the generated module, never over a file it did not write."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# subprocess and tempfile are imported where used: every `cnndsl` command,
# `check` included, builds this command's parser, and start-up time counts.

HEADER_MARK = "compiled by cnndsl"


def add_compile_command(sub) -> None:
    p = sub.add_parser("compile", help="compile a spec to a self-contained PyTorch module")
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="where to write (default: FILE with .py; `-` for standard output)")
    p.add_argument("--force", action="store_true",
                   help="overwrite OUT even if cnndsl did not write it")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.set_defaults(run=cmd_compile)


def generated_by_us(path: Path) -> bool:
    """True when `path` starts with the header cnndsl writes."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return HEADER_MARK in handle.readline()
    except OSError:
        return False


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and a rename: readers never see half a file."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ruff_problems(code: str) -> str | None:
    """`ruff check`'s complaints about the code, when ruff is installed."""
    ruff = shutil.which("ruff")
    if ruff is None:
        return None
    import subprocess

    done = subprocess.run([ruff, "check", "--no-cache", "--isolated", "--stdin-filename",
                           "generated.py", "-"], input=code, text=True, capture_output=True)
    return done.stdout + done.stderr if done.returncode else None


def cmd_compile(args) -> int:
    from cnndsl.cli import _colour, load_checked
    from cnndsl.codegen.api import compile_result

    result = load_checked(args.file, _colour(sys.stderr, args.color))
    if result is None:
        return 1
    code = compile_result(result)
    problems = ruff_problems(code)
    if problems:
        raise RuntimeError(f"generated code fails `ruff check`:\n{problems}")
    if args.output == "-":
        sys.stdout.write(code)
        return 0
    out = Path(args.output) if args.output else Path(args.file).with_suffix(".py")
    if out.exists() and not args.force and not generated_by_us(out):
        print(f"error: `{out}` exists and was not written by cnndsl; not overwriting it\n"
              f"  = help: pass `-o` with another path, or `--force` to replace it",
              file=sys.stderr)
        return 1
    write_atomically(out, code)
    summary = result.summary
    print(f"wrote {out} ({result.network.model}, {summary.params:,} parameters)",
          file=sys.stderr)
    return 0
