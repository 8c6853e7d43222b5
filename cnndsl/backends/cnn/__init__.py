"""`cnndsl fmt`: the canonical printer of `.cnn` text, comments kept.

`format_source(text)` parses the text, attaches every comment to the syntax node
it belongs to (an own-line comment *leads* the next node, a comment ending a line
*trails* the node before it), then prints the tree in one layout: four-space
indentation, `->` starting a continued line, a chain broken only past
`WIDTH` columns or where a comment ends a line, one space around `->`, none around
arithmetic (`in*t`, `k//2`, `-c`; a space separates arguments) and one around
comparisons, `and`, `or`, `not` and `if ... else` (`s == 1 and in == c`), with the
fewest parentheses that keep the tree (Python's precedence, as the grammar has it).
An `if` item stays on one line where it fits, else is broken like a block body, one
branch a block, `} else {` / `} else if C {` joining them. A line ending with
`# allow W0101` keeps the code it had: nothing of it moves to another line, and
nothing joins it (checked: the same warnings are silenced after). Trailing comments
of consecutive lines are aligned, as gofmt does. A layer's arguments take one order
(positional values, short flags, switches, options) and an option with a literal
value its short flag, where the spec checks alike after.

The printer is one small method per syntax node kind (`_item_<kind>`,
`_expr_<kind>`, `_stmt_<Class>`); an unknown node raises `FormatError`, so new
syntax is a one-method addition. The result is checked before it is returned:
it must parse to the same tree (spans aside) with the same comments, or nothing
is formatted (`FormatError`), so a printer bug can never change a spec's meaning.

One module per step: `tree` (the tree to print), `notes` (comments to nodes),
`printer` (one method per node kind), `lines` (layout and line breaking),
`verify` (nothing but layout changed), `problems` (what it raises).
"""

from __future__ import annotations

from cnndsl.backends.cnn.lines import INDENT, WIDTH
from cnndsl.backends.cnn.notes import comments
from cnndsl.backends.cnn.printer import _Printer
from cnndsl.backends.cnn.problems import FormatError, SyntaxProblem
from cnndsl.backends.cnn.tree import _canonical, _closed_ifs, _same_meaning
from cnndsl.backends.cnn.verify import _verify, _verify_allows
from cnndsl.diagnostics.diagnostic import error
from cnndsl.front.parser import parse
from cnndsl.front.source import Source

__all__ = ["INDENT", "WIDTH", "FormatError", "SyntaxProblem", "_Printer", "comments",
           "format_source"]


def format_source(text: str, name: str = "<string>") -> str:
    """The canonical layout of `.cnn` text, comments kept; idempotent.

    >>> format_source("conv 6 k5->relu   # first\\n")
    'conv 6 k5 -> relu  # first\\n'

    Raises `SyntaxProblem` when the text does not parse.
    """
    source = Source(text.replace("\r\n", "\n"), name)
    try:
        return _format(source, name)
    except RecursionError:
        raise SyntaxProblem([error("E0005", "the spec nests too deeply to format", None,
                                   help="name inner parts as blocks")]) from None


def _format(source: Source, name: str) -> str:
    program, diagnostics = parse(source)
    if program is None:
        raise SyntaxProblem(diagnostics)
    program = _closed_ifs(program, source)
    canonical = _canonical(program)
    if canonical is not program:
        result = _Printer(source, canonical).program()
        _verify(source, canonical, result)
        if _same_meaning(source.text, result, name):   # the warnings too: `# allow` kept
            return result
    result = _Printer(source, program).program()
    _verify(source, program, result)
    _verify_allows(source, program, result, name)
    return result
