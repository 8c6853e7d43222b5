"""Comments as trivia: the parser gives a trailing comment to the element that
ends last on its line, and resolve copies it onto the IR (and so to the line
the generated code writes for it)."""

from __future__ import annotations

from cnndsl.api import check
from cnndsl.front import syntax as ast
from cnndsl.front.parser import parse
from cnndsl.front.source import Source

SPEC = """\
# a heading: on no line of code, so no element's
block Down(c) {
  conv c k3 p1 s2   # halve
}
input 3x32x32
conv 8 k3 p1 -> relu ->   # the stem's activation
add(identity, conv 8 k3 p1) ->   # the merge, not its branch
Down(16) ->   # a block use
relu * 2 ->   # the last copy
gap -> flatten -> fc 10
"""


def _program():
    program, problems = parse(Source(SPEC, "spec.cnn"))
    assert not problems
    return program


def _carriers(node):
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(item)
        elif isinstance(item, ast.Chain):
            stack.extend(item.items)
        elif isinstance(item, (ast.Repeat, ast.Labelled)):
            stack.append(item.item)
        elif isinstance(item, ast.Combine):
            yield item
            stack.extend(item.branches)
        elif isinstance(item, (ast.LayerUse, ast.BlockUse)):
            yield item


def test_the_parser_attaches_a_trailing_comment_to_the_element_ending_its_line():
    program = _program()
    found = {(SPEC[i.span.start:i.span.end], i.comment)
             for body in (program.bodies, program.blocks[0].body) for i in _carriers(body)
             if i.comment}
    assert found == {("conv c k3 p1 s2", "halve"), ("relu", "the stem's activation"),
                     ("add(identity, conv 8 k3 p1)", "the merge, not its branch"),
                     ("Down(16)", "a block use"), ("relu", "the last copy")}


def test_resolve_copies_the_comments_onto_the_elements():
    network = check(SPEC, "spec.cnn").network
    comments = [(n.name, n.comment) for n in network.body.items if n.comment]
    assert comments == [("relu1", "the stem's activation"),
                        ("add1", "the merge, not its branch"),
                        ("down1", "a block use"), ("relu3", "the last copy")]
    down = next(n for n in network.body.items if n.name == "down1")
    assert [n.comment for n in down.body.items] == ["halve"]
