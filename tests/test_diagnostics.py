"""The diagnostics catalogue: one small spec per error or warning, the exact
rendered text beside it (`tests/diagnostics/NAME.txt`)."""

from __future__ import annotations

from pathlib import Path

import pytest

import cnndsl
from cnndsl.diagnostics import render_text

CASES = sorted((Path(__file__).parent / "diagnostics").glob("*.cnn"))


def render(path: Path) -> tuple[str, object]:
    result = cnndsl.check_file(f"tests/diagnostics/{path.name}")
    text = "\n\n".join(render_text(d, result.source) for d in result.diagnostics)
    return text + "\n", result


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
