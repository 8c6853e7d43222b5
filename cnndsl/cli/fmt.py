"""`cnndsl fmt`: rewrite specs in the canonical layout (`--check`, `--diff` to only look)."""

from __future__ import annotations

import sys

from cnndsl.cli import common

BOM = b"\xef\xbb\xbf"   # kept where the file had one


def add(sub) -> None:
    p = sub.add_parser("fmt", help="rewrite specs in the canonical layout, comments kept")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="spec files; `-` reads standard input and prints the result")
    p.add_argument("--check", action="store_true",
                   help="change nothing; show a diff and exit 1 if a file would change")
    p.add_argument("--diff", action="store_true",
                   help="change nothing; show what would change as a diff")
    common.add_colour_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    status, counts = common.EXIT_OK, {"changed": 0, "same": 0, "failed": 0}
    for path in args.files:
        outcome = _one(path, args)
        if isinstance(outcome, int):
            counts["failed"] += 1
            status = max(status, outcome)
        else:
            counts[outcome] += 1
    if args.check and counts["changed"] and status == common.EXIT_OK:
        status = common.EXIT_ERRORS
    if (not args.diff or args.check) and set(args.files) != {"-"}:
        common.say(_tally(counts, "would reformat" if args.check else "reformatted"))
    return status


def _tally(counts: dict[str, int], verb: str) -> str:
    """`2 files reformatted, 1 unchanged, 1 not formatted`."""
    def files(n: int) -> str:
        return f"{n} file{'s' if n != 1 else ''}"

    parts = [f"{files(counts['changed'])} {verb}" if verb == "reformatted"
             else f"{verb} {files(counts['changed'])}", f"{counts['same']} unchanged"]
    if counts["failed"]:
        parts.append(f"{counts['failed']} not formatted")
    return ", ".join(parts)


def _one(path: str, args):
    """Format one file: "changed", "same", or the exit status of a failure."""
    from cnndsl.api import read_source
    from cnndsl.backends.cnn import FormatError, SyntaxProblem, format_source
    from cnndsl.files import FileProblem, UnreadableFile, printable, read_bytes

    if path == "-":
        return _stdin(args)
    try:
        data = read_bytes(path, what="spec file")
        source, problem = read_source(path)
    except UnreadableFile as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return common.EXIT_USAGE
    if problem is not None:
        return _refuse(source, [problem], args)
    try:
        text = format_source(source.text, source.name)
    except SyntaxProblem as exc:
        return _refuse(source, exc.diagnostics, args)
    except FormatError as exc:   # the printer's own check refused its result
        common.say(f"{source.name}: not formatted, the file is left as it is: "
                   f"{printable(str(exc))} (a bug in `cnndsl fmt`: please report it)")
        return common.EXIT_ERRORS
    bom = BOM if data.startswith(BOM) else b""
    before = data[len(bom):].decode("utf-8")
    after = text.replace("\n", "\r\n") if _crlf(before) else text
    if after == before:
        return "same"
    if args.check or args.diff:
        sys.stdout.write(diff(before, after, source.name))
        return "changed"
    try:
        _write(path, data, bom + after.encode("utf-8"))
    except FileProblem as exc:   # said, and the other files are still formatted
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return exc.status
    common.say(f"reformatted {source.name}")
    return "changed"


def _stdin(args):
    """`cnndsl fmt -`: the spec on standard input, formatted, on standard output (what
    an editor runs); `--check`/`--diff` as for a file."""
    from cnndsl.backends.cnn import FormatError, SyntaxProblem, format_source
    from cnndsl.files import MAX_SPEC_BYTES, printable
    from cnndsl.front.source import Source

    data = sys.stdin.buffer.read(MAX_SPEC_BYTES + 1)
    if len(data) > MAX_SPEC_BYTES:
        raise common.CommandError(f"standard input is over {MAX_SPEC_BYTES:,} bytes; a spec "
                                  f"file may be at most {MAX_SPEC_BYTES:,}", common.EXIT_USAGE)
    bom = BOM if data.startswith(BOM) else b""
    try:
        before = data[len(bom):].decode("utf-8")
    except UnicodeDecodeError:
        raise common.CommandError("standard input is not valid UTF-8 text",
                                  common.EXIT_USAGE) from None
    source = Source(before, "<stdin>")
    try:
        text = format_source(before, "<stdin>")
    except SyntaxProblem as exc:
        return _refuse(source, exc.diagnostics, args)
    except FormatError as exc:
        common.say(f"<stdin>: not formatted: {printable(str(exc))}")
        return common.EXIT_ERRORS
    after = text.replace("\n", "\r\n") if _crlf(before) else text
    if args.check or args.diff:
        if after != before:
            sys.stdout.write(diff(before, after, "<stdin>"))
            return "changed"
        return "same"
    sys.stdout.buffer.write(bom + after.encode("utf-8"))
    return "changed" if after != before else "same"


def _refuse(source, diagnostics, args) -> int:
    """A file that does not parse is shown its located errors and left as it is."""
    from types import SimpleNamespace

    result = SimpleNamespace(diagnostics=tuple(diagnostics), source=source)
    common.print_diagnostics(result, colour=common.colour(sys.stderr, args.color))
    common.say(f"{source.name}: not formatted, the file is left as it is")
    return common.EXIT_ERRORS


def _crlf(text: str) -> bool:
    """Whether the file's lines end in CRLF (its first line ending decides)."""
    at = text.find("\n")
    return at > 0 and text[at - 1] == "\r"


def _write(path: str, data: bytes, payload: bytes) -> None:
    """Replace the file atomically, unless it changed since it was read."""
    from cnndsl.files import FileProblem, read_bytes, show_path, write_atomic

    def unchanged(target) -> None:
        if read_bytes(target, what="spec file") != data:
            raise FileProblem(f"`{show_path(path)}` changed while it was formatted; "
                              "nothing written, run `cnndsl fmt` again")

    write_atomic(path, payload, before=unchanged)


def diff(before: str, after: str, name: str) -> str:
    """A unified diff of a file's text, every line escaped for the terminal."""
    import difflib

    from cnndsl.files import printable

    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), f"{name} (as it is)",
                                 f"{name} (formatted)", lineterm="")
    return "".join(printable(line) + "\n" for line in lines)
