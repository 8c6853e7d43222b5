"""`cnndsl explain CODE`: what a diagnostic code means, like `rustc --explain`."""

from __future__ import annotations

from cnndsl.cli import common


def add(sub) -> None:
    p = sub.add_parser("explain", help="explain a diagnostic code, e.g. `cnndsl explain E0301`")
    p.add_argument("code", nargs="?", metavar="CODE", help="a code such as E0301 (none: list all)")
    p.set_defaults(run=run)


def run(args) -> int:
    from cnndsl.diagnostics.codes import CODES, explain
    from cnndsl.diagnostics.suggest import did_you_mean
    from cnndsl.files import printable

    if args.code is None:
        for entry in CODES.values():
            print(f"{entry.code}  {entry.title}")
        return common.EXIT_OK
    text = explain(args.code)
    if text is None:
        close = did_you_mean(args.code.upper(), list(CODES))
        hint = f"; did you mean {close.word}?" if close else ""
        raise common.CommandError(f"no diagnostic code `{printable(args.code)}`{hint} "
                                  "(`cnndsl explain` lists them)", common.EXIT_USAGE)
    print(text)
    return common.EXIT_OK
