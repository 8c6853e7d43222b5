"""`cnndsl check`: shapes, parameters, multiply-adds and errors of specs."""

from __future__ import annotations

import json
import sys

from cnndsl.cli import common

BOM = b"\xef\xbb\xbf"   # kept by `--fix` where the file had one
TABLES = ("markdown", "csv", "latex")


def add(sub) -> None:
    p = sub.add_parser("check", help="check specs: shapes, parameters, MACs, errors")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--quiet", "-q", action="store_true", help="print only diagnostics")
    p.add_argument("--format", choices=("text", "json") + TABLES, default="text",
                   help="text (default), json, or the layer table as markdown, csv or latex")
    p.add_argument("--collapse", action="store_true",
                   help="with markdown, csv or latex: one row per block use, repeats folded")
    p.add_argument("--fix", action="store_true",
                   help="apply the exact fixes in place (only when every one is unambiguous)")
    common.add_colour_option(p)
    common.add_allow_option(p)
    common.add_override_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from cnndsl.api import check_file
    from cnndsl.backends.table.report import render_summary, result_json, unreadable_json
    from cnndsl.files import UnreadableFile, printable

    if args.collapse and args.format not in TABLES:
        raise common.CommandError("`--collapse` folds a table; add `--format markdown`, "
                                  "`csv` or `latex`", common.EXIT_USAGE)
    if args.format == "csv" and len(args.files) > 1:
        raise common.CommandError("`--format csv` writes one file's table; check one file "
                                  "at a time", common.EXIT_USAGE)
    if args.fix and (args.sets or args.inputs):
        raise common.CommandError("`--fix` edits the file as written; leave out `--set` and "
                                  "`--input`", common.EXIT_USAGE)
    given = common.overrides(args)
    entries, status = [], common.EXIT_OK
    paint = common.colour(sys.stdout, args.color)
    for path in args.files:
        try:
            result = check_file(path, common.allowed_codes(args), given)
        except UnreadableFile as exc:
            status = common.EXIT_USAGE
            if args.format == "json":
                entries.append(unreadable_json(path, str(exc)))
            else:
                print(f"error: {printable(str(exc))}", file=sys.stderr)
            continue
        if args.fix:
            result = _fix(path, result, common.allowed_codes(args))
        if not result.ok and status == common.EXIT_OK:
            status = common.EXIT_ERRORS
        if args.format == "json":
            entries.append(result_json(result))
            continue
        if args.format in TABLES:
            _table(result, args.format, args.collapse, common.colour(sys.stderr, args.color))
            continue
        if result.summary is not None and not args.quiet:
            print(render_summary(result.summary, result.source.name))
        common.print_diagnostics(result, colour=paint, stream=sys.stdout)
    if args.format == "json":
        # ensure_ascii: no raw control or undecodable character reaches the reader
        print(json.dumps({"files": entries}, indent=2, ensure_ascii=True))
    return status


def _table(result, fmt: str, collapse: bool, paint: bool) -> None:
    """The table on standard output, clean to paste; diagnostics on standard error."""
    if result.summary is not None:
        text = {"markdown": result.to_markdown, "csv": result.to_csv,
                "latex": result.to_latex}[fmt](collapse)
        sys.stdout.write(text)
    common.print_diagnostics(result, colour=paint, stream=sys.stderr)


def _fix(path: str, result, allow: tuple[str, ...] = ()):
    """Apply the result's exact fixes to the file, say what changed, check again."""
    from cnndsl.api import check
    from cnndsl.diagnostics.fix import plan
    from cnndsl.files import printable, write_atomic

    edits = plan(result.diagnostics, result.network)
    if edits.refused:
        common.say(f"{printable(result.source.name)}: nothing fixed: {edits.refused}")
        return result
    for diagnostic, fix, why in edits.skipped:
        common.say(f"{printable(result.source.name)}:{fix.span.line}:{fix.span.column}: not "
                   f"fixed [{diagnostic.code}]: {why}")
    if not edits.edits:
        return result
    text = edits.apply(result.source.text)
    after = check(text, result.source.name, allow)
    if result.program is not None and after.program is None:
        common.say(f"{printable(result.source.name)}: nothing fixed: the fixes together would "
                   "not parse; fix it by hand")
        return result
    bom = _unchanged(path, result)
    if bom is None:
        return result
    write_atomic(path, bom + text.encode("utf-8"))
    for diagnostic, fix in edits.edits:
        old = result.source.text[fix.span.start:fix.span.end]
        common.say(f"{printable(result.source.name)}:{fix.span.line}:{fix.span.column}: fixed "
                   f"[{diagnostic.code}] `{printable(old)}` -> `{printable(fix.replacement)}`")
    return after


def _unchanged(path: str, result) -> bytes | None:
    """The file's byte-order mark (`b""` if none) when it still holds what was
    checked; None, said in a line, when it cannot be read or has changed since."""
    from cnndsl.files import UnreadableFile, printable, read_bytes

    try:
        data = read_bytes(path, what="spec file")
    except UnreadableFile as exc:
        common.say(f"{printable(result.source.name)}: nothing fixed: {printable(str(exc))}")
        return None
    bom = BOM if data.startswith(BOM) else b""
    if data[len(bom):] != result.source.text.encode("utf-8"):
        common.say(f"{printable(result.source.name)}: nothing fixed: the file changed while "
                   "it was checked; check it again")
        return None
    return bom
