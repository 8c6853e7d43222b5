"""The warnings about what is never used are lint's, computed from what
resolve recorded on the network."""

from __future__ import annotations

from cnndsl.front.parser import parse
from cnndsl.front.source import Source
from cnndsl.passes.lint import unused
from cnndsl.passes.resolve import resolve

SPEC = """\
let width = 16
let spare = 3
block Down(c, stride) { conv c k3 p1 -> relu }
block Unused { relu }
input 3x32x32
Down(width, 2) -> gap -> flatten -> fc 10
"""


def _resolved(text: str):
    source = Source(text, "spec.cnn")
    program, problems = parse(source)
    assert not problems
    network, diagnostics = resolve(program, source)
    return program, network, diagnostics


def test_resolve_records_what_it_used_and_lint_warns_about_the_rest():
    program, network, diagnostics = _resolved(SPEC)
    assert not [d for d in diagnostics if d.code in ("W0104", "W0105", "W0106")]
    assert {"width", "c"} <= set(network.used)
    assert "spare" not in network.used and "stride" not in network.used
    assert [name for name, _ in network.blocks] == ["Down"]
    found = [(d.code, d.message) for d in unused(program, network)]
    assert found == [("W0105", "the parameter `stride` of block `Down` is never used"),
                     ("W0104", "the block `Unused` is never used"),
                     ("W0106", "the constant `spare` is never used")]


def test_the_unused_warnings_still_come_with_errors():
    """As before the move: a network with an error still warns about what it never used."""
    from cnndsl.api import check

    result = check(SPEC.replace("fc 10", "fc 10 -> conv 3 k3"), "spec.cnn")
    codes = [d.code for d in result.diagnostics]
    assert "E0309" in codes and {"W0104", "W0105", "W0106"} <= set(codes)
