"""Parsing: `.cnn` text -> syntax tree (`cnndsl.front.syntax.Program`) with spans.

Lark (LALR) parses; one non-recursive Transformer builds the typed tree, so
nothing after this module ever sees a Lark tree. Parser failures become
diagnostics in the language's own words.

The parse tables ship prebuilt in `grammars/cnn.tables.json` (plain JSON, built
by `python -m cnndsl.front.parser --write-tables`), so nothing is ever unpickled and no
cache file is written to a shared directory; building them from the grammar
takes ~200 ms, so they are only built when the grammar has changed (in a
development checkout whose tables are stale, which a test catches).

The parts live in `cnndsl.front.parsing`: `tables`, `transform`, `errors`.
"""

from __future__ import annotations

from dataclasses import replace

from lark.exceptions import UnexpectedInput

from cnndsl.diagnostics.diagnostic import Diagnostic, error
from cnndsl.front import syntax as ast
from cnndsl.front import trivia
from cnndsl.front.parsing.errors import _pasted_or, _syntax_error
from cnndsl.front.parsing.tables import (
    _OPTIONS,
    MAX_NESTING,
    _lark,
    _local,
    _NestingTooDeep,
    _PostLex,
    _write_tables,
    build_tables,
)
from cnndsl.front.parsing.transform import MAX_DIGITS, _ToSyntax
from cnndsl.front.source import Source

__all__ = ["MAX_DIGITS", "MAX_NESTING", "_OPTIONS", "_PostLex", "_lark", "build_tables",
           "parse"]


def parse(source: Source) -> tuple[ast.Program | None, list[Diagnostic]]:
    """Parse a source file into its syntax tree, or explain why it is not one."""
    _local.comments = comments = []
    try:
        tree = _lark().parse(source.text)
    except _NestingTooDeep as exc:
        span = source.span(exc.token.start_pos, exc.token.end_pos)
        return None, [error("E0005", "parentheses nest too deeply", span,
                            f"more than {MAX_NESTING} levels deep",
                            help="name the inner part as a `block` and use it")]
    except UnexpectedInput as exc:
        return None, _pasted_or(source, _syntax_error(source, exc))
    finally:
        _local.comments = None
    transformer = _ToSyntax(source)
    program = transformer.transform(tree)
    if transformer.diagnostics:
        return None, transformer.diagnostics
    notes = tuple(ast.Comment(span=source.span(c.start_pos, c.end_pos), text=str(c)[1:].strip())
                  for c in comments)
    return trivia.attach(replace(program, comments=notes), source), []


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--write-tables"]:
        raise SystemExit("usage: python -m cnndsl.front.parser --write-tables")
    _write_tables()
