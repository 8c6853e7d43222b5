"""What the formatter raises: a tree it cannot print faithfully, or text that does not parse."""

from __future__ import annotations

from cnndsl.diagnostics.diagnostic import Diagnostic


class FormatError(Exception):
    """The formatter cannot print this tree faithfully (a bug: an unknown node or a
    result whose meaning differs); the file is left as it is."""


class SyntaxProblem(Exception):
    """The text does not parse; `diagnostics` say where and why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("the spec does not parse")
        self.diagnostics = diagnostics
