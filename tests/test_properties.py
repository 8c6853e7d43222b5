"""Property tests with PyTorch as the oracle for the first version's chains, and fuzzing
of the front end.

Generated chains are checked by cnndsl and, independently, built layer by layer in PyTorch
on a real tensor (tests/properties_torch.py): `check` accepts exactly when PyTorch runs, and
then every inferred shape, parameter and buffer count equals PyTorch's; the compiled module
holds the same parameters and computes the same numbers. Issue 11's layers are in
test_properties_layers.py, graphs in test_properties_graphs.py."""

from __future__ import annotations

import pytest
from conftest import SPECS
from hypothesis import given, settings
from hypothesis import strategies as st
from properties_adapter import layer_rows, outputs
from properties_chains import PLAIN, chain_specs, examples, property_settings
from properties_compare import assert_compiled, assert_rows, verdicts

import cnndsl


@property_settings(200)
@given(chain_specs(PLAIN, final_fc=True))
def test_check_agrees_with_pytorch(spec):
    """Plain chains: `check` accepts exactly what PyTorch runs, with every layer's shape,
    parameters and buffers."""
    text, result, evaluation = verdicts(spec)
    if evaluation is not None:
        assert_rows(text, result, evaluation)


@property_settings(40)
@given(chain_specs(PLAIN, final_fc=True))
def test_compiled_module_matches_inference(spec):
    assert_compiled(spec)


# ---- fuzzing: never an uncaught exception -------------------------------------------------

def _no_crash(text: str) -> None:
    result = cnndsl.check(text, "fuzz.cnn")
    assert result.ok or result.diagnostics


@settings(max_examples=examples(400), deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_crashes(text):
    _no_crash(text)


ALPHABET = list("()->,*=+/{}\n #x0123456789@.") + [
    "conv", "relu", "fc", "input", "block", "concat(", "add(", "residual(", "k3", "s2", "let",
    "model", "train", "assert", "Name(",
    # issues 11 and 12: the new words reach the front end too
    "convt", "upsample", "size=", "linear", "align", "layernorm", "groupnorm", "unflatten",
    "output_padding=", "eps=", " as e1", "@e1", "in", "mul(", "gate(", "split(", "output ",
    "input image "]


@settings(max_examples=examples(400), deadline=None)
@given(st.sampled_from(SPECS), st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 5),
                                                  st.sampled_from(ALPHABET)), max_size=6))
def test_mutated_specs_never_crash(path, edits):
    text = path.read_text()
    for pos, delete, insert in edits:
        pos = pos % (len(text) + 1)
        text = text[:pos] + insert + text[pos + delete:]
    _no_crash(text)


def test_deep_nesting_is_an_error_not_a_crash():
    text = "input 1x8x8\n" + "(" * 10_000 + "relu" + ")" * 10_000 + "\n"
    result = cnndsl.check(text)
    assert [d.code for d in result.diagnostics] == ["E0005"]


def test_long_expressions():
    result = cnndsl.check("input 1x8x8\nfc " + "+".join(["1"] * 200) + "\n")
    assert result.ok and outputs(result) == ((200,),)
    absurd = cnndsl.check("input 1x8x8\nfc " + "+".join(["1"] * 50_000) + "\n")
    assert [d.code for d in absurd.diagnostics] == ["E0005"]


def test_hundred_thousand_line_file():
    text = "input 1x8x8\nrelu\n" + "-> relu\n" * 100_000
    result = cnndsl.check(text)
    assert result.ok and len(layer_rows(result)) == 100_001


def test_huge_repetition_is_refused():
    result = cnndsl.check("input 1x8x8\nrelu * 100000000\n")
    assert [d.code for d in result.diagnostics] == ["E0006"]


@pytest.mark.parametrize("data", [b"\x00\x01\x02garbage", b"input 1x8x8\n\xff\xfe relu\n",
                                  b"", b"\xef\xbb\xbfinput 1x8x8\nrelu\n"])
def test_binary_and_undecodable_files(tmp_path, data):
    path = tmp_path / "x.cnn"
    path.write_bytes(data)
    result = cnndsl.check_file(path)
    if data.startswith(b"\xef\xbb\xbf"):
        assert result.ok
    else:
        assert not result.ok and result.diagnostics
