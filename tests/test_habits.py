"""The habits newcomers bring from PyTorch and Keras, each answered in the
language's words (issue 18, part 4), and lists that continue after a comma."""

from __future__ import annotations

import cnndsl


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


# ---- lists that continue after a comma ---------------------------------------------------

def test_an_output_list_continues_on_the_next_line_after_a_comma():
    result = cnndsl.check("input 1x28x28\nconv 8 k3 as a -> fc 10 as b\n"
                          "output @a,\n       @b -> relu\n")
    assert result.ok, codes(result)
    assert len(result.network.outputs) == 2


def test_a_comment_after_the_comma_does_not_end_the_list():
    result = cnndsl.check("input 1x28x28\nconv 8 k3 as a -> fc 10 as b\n"
                          "output @a,   # the features\n\n  @b\n")
    assert result.ok, codes(result)
    assert len(result.network.outputs) == 2


def test_a_trailing_comma_still_ends_the_list_at_the_end_of_the_file():
    result = cnndsl.check("input 1x28x28\nconv 8 k3 as a -> fc 10 as b\noutput @a, @b,\n")
    assert result.ok, codes(result)


def test_a_list_without_a_trailing_comma_still_ends_at_the_newline():
    result = cnndsl.check("input 1x28x28\nconv 8 k3 as a -> fc 10 as b\noutput @a, @b\n"
                          "assert params < 100k\n")
    assert result.ok, codes(result)
