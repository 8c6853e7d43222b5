"""The check that nothing but layout changed: the result parses to the same tree
(spans aside) with the same comments, and silences the same warnings."""

from __future__ import annotations

import dataclasses

from cnndsl.backends.cnn.notes import comments
from cnndsl.backends.cnn.problems import FormatError
from cnndsl.front import syntax as ast
from cnndsl.front.parser import parse
from cnndsl.front.source import Source, Span


def _shape(node):
    """`node` with every span, and every spelling a layout may change, left out."""
    if isinstance(node, tuple | list):
        return tuple(_shape(n) for n in node)
    if isinstance(node, Span):
        return None   # as in `allow`'s codes
    if dataclasses.is_dataclass(node):
        skip = {"span", "name_span", "shape_span", "metric_span", "value_span", "label_span",
                "keyword_span", "key_span", "train_spans", "comments", "comment"}
        if isinstance(node, ast.TrainValue):
            skip.add("text")   # `momentum = 0.9` is `momentum=0.9`; its value is compared
        return (type(node).__name__, tuple((f.name, _shape(getattr(node, f.name)))
                                           for f in dataclasses.fields(node)
                                           if f.name not in skip))
    return node


def _verify_allows(source: Source, program: ast.Program, result: str, name: str) -> None:
    """Where a line ends with `# allow ...`, the same warnings must be silenced after."""
    from cnndsl.api import check
    from cnndsl.passes.allow import line_allows

    if not line_allows(program, source):
        return

    def verdict(text: str):
        return sorted((d.severity, d.code, d.message) for d in check(text, name).diagnostics)

    if verdict(source.text) != verdict(result):
        raise FormatError("the formatted text would move code onto or off a line that "
                          "ends with `# allow`; put that code on a line of its own")


def _verify(source: Source, program: ast.Program, result: str) -> None:
    again, diagnostics = parse(Source(result, "<formatted>"))
    if again is None:
        raise FormatError("the formatted text does not parse: "
                          + "; ".join(d.message for d in diagnostics))
    if _shape(again) != _shape(program):
        raise FormatError("the formatted text would mean something else")
    before = [c.text.rstrip() for c in comments(source)]
    after = [c.text.rstrip() for c in comments(Source(result))]
    if before != after:
        raise FormatError("the formatted text would lose or change a comment")
