"""`cnndsl lsp`: the language server, over stdin and stdout, for editors."""

from __future__ import annotations

from cnndsl.cli import common

NO_EXTRA = ("`cnndsl lsp` needs pygls and lsprotocol, which are not installed: "
            "pip install 'cnndsl[lsp]'")


def add(sub) -> None:
    p = sub.add_parser("lsp", help="the language server for editors (Language Server "
                                   "Protocol over stdin and stdout)")
    p.add_argument("--stdio", action="store_true",
                   help="talk over stdin and stdout (the default and only transport; "
                        "accepted because editors pass it)")
    p.set_defaults(run=run)


def run(args) -> int:
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError as exc:
        raise common.CommandError(NO_EXTRA, common.EXIT_USAGE) from exc
    from cnndsl.lsp.server import main

    main()
    return common.EXIT_OK
