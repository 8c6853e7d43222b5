"""Silencing warnings: `allow W0101, W0103` (the whole file), `# allow W0101` ending a
line (that line), and `--allow W0101` on the command line (the whole run).

Only warnings can be allowed: allowing an error code is an error (E0421), a code that
does not exist a warning (W0111), and an `allow` in the file that silences nothing a
warning (W0112), so a stale one does not outlive the warning it was written for.
"""

from __future__ import annotations

import re

from cnndsl.diagnostics.codes import CODES
from cnndsl.diagnostics.diagnostic import Diagnostic, error, warning
from cnndsl.files import printable
from cnndsl.front import syntax as ast
from cnndsl.front.source import Source, Span

#: `# allow W0101, W0103` as the whole text of a comment that ends a line
_LINE = re.compile(r"allow[ \t]+([A-Za-z0-9_]+(?:[ \t]*,[ \t]*[A-Za-z0-9_]+)*)[ \t]*,?[ \t]*$")
#: at most this many codes are read from one `allow` (there are fewer than 200 codes)
MAX_CODES = 64


def line_allows(program: ast.Program, source: Source) -> list[ast.Allow]:
    """The `# allow ...` comments of a program, each for its own line."""
    found = []
    for comment in program.comments:
        if _LINE.match(comment.text) is None:
            continue
        raw = source.text[comment.span.start:comment.span.end]
        at = raw.index("allow") + len("allow")
        codes = tuple((part.group(0), source.span(comment.span.start + at + part.start(),
                                                  comment.span.start + at + part.end()))
                      for part in re.finditer(r"[A-Za-z0-9_]+", raw[at:]))
        found.append(ast.Allow(span=comment.span, codes=codes[:MAX_CODES],
                               line=comment.span.line))
    return found


def _problem(code: str, span: Span | None) -> Diagnostic | None:
    entry = CODES.get(code)
    shown = printable(code)[:20]
    if entry is None:
        return warning("W0111", f"unknown warning code `{shown}`" + ("" if span else " in --allow"),
                       span, "not a code of cnndsl",
                       help="`cnndsl explain CODE` says what a code means; warnings are "
                            "W0101 to W0199")
    if entry.severity == "error":
        return error("E0421", f"`{code}` is an error, and errors cannot be allowed", span,
                     "an error", help="fix what it reports; only warnings "
                     "(W codes) can be allowed") if span is not None else \
            error("E0421", f"`{code}` is an error, and errors cannot be allowed (--allow)",
                  None, help="only warnings (W codes) can be allowed")
    return None


def allowed(program: ast.Program, source: Source, diagnostics: list[Diagnostic],
            cli: tuple[str, ...] = ()) -> list[Diagnostic]:
    """`diagnostics` less the warnings allowed, plus what is wrong with the allows."""
    problems: list[Diagnostic] = []
    everywhere: set[str] = set()
    for code in cli[:MAX_CODES]:
        found = _problem(code.upper(), None)
        if found is None:
            everywhere.add(code.upper())
        else:
            problems.append(found)
    in_file: list[tuple[str, Span, int | None]] = []
    for allow in (*program.allows, *line_allows(program, source)):
        for written, span in allow.codes:
            code = written.upper()
            found = _problem(code, span)
            if found is None:
                in_file.append((code, span, allow.line))
            else:
                problems.append(found)
    file_wide = {code for code, _, line in in_file if line is None}
    by_line = {(code, line) for code, _, line in in_file if line is not None}
    kept, silenced = [], set()
    for d in diagnostics:
        if d.is_error:
            kept.append(d)
            continue
        line = d.span.line if d.span is not None else None
        if d.code in everywhere:
            continue
        if d.code in file_wide:
            silenced.add((d.code, None))
            continue
        if (d.code, line) in by_line:
            silenced.add((d.code, line))
            continue
        kept.append(d)
    if not any(d.is_error for d in diagnostics):
        # lint ran: an allow in the file that silenced nothing is stale
        for code, span, line in in_file:
            if (code, line) not in silenced and code not in everywhere:
                problems.append(warning(
                    "W0112", f"`allow {code}` silences nothing", span,
                    "no such warning " + ("in this file" if line is None else "on this line"),
                    help="remove it"))
    return kept + problems
