"""The diagnostics catalogue: one small spec per error or warning, the exact
rendered text beside it (`tests/diagnostics/NAME.txt`)."""

from __future__ import annotations

from pathlib import Path

import pytest

import cnndsl
from cnndsl.diagnostics.diagnostic import render_text

CASES = sorted((Path(__file__).parent / "diagnostics").glob("*.cnn"))


def render(path: Path) -> tuple[str, object]:
    result = cnndsl.check_file(f"tests/diagnostics/{path.name}", overrides=_flags(path))
    if path.stem.startswith("compile_") and result.ok:   # an error only `compile` finds
        from cnndsl.backends.pytorch.build import SpecError, compile_result

        with pytest.raises(SpecError) as raised:
            compile_result(result)
        result = raised.value.result
    text = "\n\n".join(render_text(d, result.source) for d in result.diagnostics)
    return text + "\n", result


def _flags(path: Path):
    """An `override_` case's first line gives its flags: `# flags: --set w=2 --input 8x8`."""
    if not path.stem.startswith("override_"):
        return None
    from cnndsl.ir.overrides import parse_flags

    words = path.read_text(encoding="utf-8").splitlines()[0].split()[2:]
    pairs = list(zip(words[::2], words[1::2], strict=True))
    return parse_flags(sets=[v for f, v in pairs if f == "--set"],
                       inputs=[v for f, v in pairs if f == "--input"])


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(Path(__file__).parent.parent)


def test_catalogue_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_diagnostic_text(path, golden):
    text, result = render(path)
    golden(path.with_suffix(".txt"), text)
    assert result.diagnostics, "every catalogue entry must produce a diagnostic"
    warnings_only = path.stem.startswith("warning_")
    assert result.ok == warnings_only
    for d in result.diagnostics:
        if d.span is not None:   # every located diagnostic has a caret
            assert "^" in render_text(d, result.source)


def test_several_errors_are_reported_at_once():
    _, result = render(Path("tests/diagnostics/several_errors_at_once.cnn"))
    assert len(result.errors) >= 3


def test_checking_goes_on_past_a_layer_that_keeps_its_shape():
    _, result = render(Path("tests/diagnostics/checking_goes_on_past_a_bad_activation.cnn"))
    assert [d.code for d in result.errors] == ["E0409", "E0404", "E0301"]
    assert result.summary is None


def test_a_misspelt_layer_stops_shape_checking_without_a_cascade():
    # what `rleu` does to the shape is unknown, so the too-large kernel after it is not
    # reported: it may be right once the word is
    result = cnndsl.check("input 1x28x28\nconv 6 k5 -> rleu -> conv 16 k50\n")
    assert [d.code for d in result.errors] == ["E0201"]
