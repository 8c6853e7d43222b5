"""Symbolic shapes in generated block classes: every size a comment writes as a
formula of the block's input (`(H + 1) // 2`) equals the checker's size for
every input the property test draws."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

import cnndsl
from cnndsl.backends.pytorch import symbolic
from cnndsl.ir import nodes as ir

SCALE = int(os.environ.get("CNNDSL_EXAMPLES_SCALE", "1"))


@st.composite
def layer(draw) -> str:
    kind = draw(st.sampled_from(["conv", "conv", "pool", "convt", "up", "shuffle", "relu"]))
    k, s, p = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(0, 2))
    if kind == "conv":
        return f"conv 4 k{k} s{s} p{min(p, k)} d{draw(st.integers(1, 2))}"
    if kind == "pool":
        word = draw(st.sampled_from(["maxpool", "avgpool"]))
        ceil = " ceil" if draw(st.booleans()) else ""
        return f"{word} {k} s{s} p{min(p, k // 2)}{ceil}"
    if kind == "convt":
        return f"convt 4 k{k} s{s} p{min(p, k - 1)} output_padding={draw(st.integers(0, s - 1))}"
    if kind == "up":
        return f"upsample {draw(st.integers(1, 3))}"
    if kind == "shuffle":
        return draw(st.sampled_from(["pixelshuffle 2 -> conv 4 k1", "pixelunshuffle 2"]))
    return "relu"


@settings(max_examples=60 * SCALE, deadline=None)
@given(body=st.lists(layer(), min_size=1, max_size=5),
       sizes=st.lists(st.tuples(st.integers(8, 40), st.integers(8, 40)), min_size=2,
                      max_size=3))
def test_symbolic_sizes_equal_the_checkers(body, sizes):
    for h, w in sizes:
        # the block used twice in a row: the second use sees another input size
        text = f"input 4x{h}x{w}\nblock B {{ {' -> '.join(body)} }}\nB -> B\n"
        result = cnndsl.check(text)
        if not result.ok:
            continue
        for call in result.network.body.items:
            assert isinstance(call, ir.BlockCall)
            values = dict(zip(("H", "W"), call.info.input[1:]))
            dims = symbolic.start(2)
            for node in call.body.items:
                dims = symbolic.advance(node, dims)
                if dims is None:
                    break
                assert tuple(d.value(values) for d in dims) == node.info.output[1:], \
                    (node.text, [d.render() for d in dims])


@st.composite
def parametric_layer(draw) -> str:
    """A layer whose geometry is a block parameter's (`stride=s`)."""
    kind = draw(st.sampled_from(["conv", "pool", "convt", "relu", "unshuffle"]))
    if kind == "conv":
        return draw(st.sampled_from(["conv 4 kernel=k stride=s padding=k//2",
                                     "conv 4 kernel=k stride=s", "conv 4 k3 stride=s p1",
                                     "conv 4 kernel=k padding=p dilation=s"]))
    if kind == "pool":
        return draw(st.sampled_from(["maxpool k", "avgpool kernel=k stride=s",
                                     "maxpool kernel=k stride=s padding=p"]))
    if kind == "convt":
        return "convt 4 kernel=k stride=s padding=p"
    if kind == "unshuffle":
        return "pixelunshuffle factor=s -> conv 4 k1"
    return "relu"


@settings(max_examples=60 * SCALE, deadline=None)
@given(body=st.lists(parametric_layer(), min_size=1, max_size=4),
       k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 1),
       h=st.integers(12, 40), w=st.integers(12, 40))
def test_sizes_over_block_parameters_equal_the_checkers(body, k, s, p, h, w):
    """Where a block parameter sets the geometry, the comment is a formula of the
    input size and the parameters (no fall-back to the first use's numbers)."""
    text = (f"input 4x{h}x{w}\nblock B(k, s, p) {{ {' -> '.join(body)} }}\n"
            f"B({k}, {s}, {p}) -> B({k}, {s}, {p})\n")
    result = cnndsl.check(text)
    if not result.ok:
        return
    params = {"k": k, "s": s, "p": p}
    for call in result.network.body.items:
        values = dict(zip(("H", "W"), call.info.input[1:]))
        dims = symbolic.start(2)
        for node in call.body.items:
            dims = symbolic.advance(node, dims)
            if dims is None:
                break
            assert tuple(d.value(values, params) for d in dims) == node.info.output[1:], \
                (node.text, [d.render() for d in dims])
