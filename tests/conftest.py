"""Shared fixtures. `pytest --update-goldens` rewrites every golden file from the
current output; review the diff like any other change."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# `.ci/run` picks the "ci" profile: a fixed sequence of examples, so that a landing
# never depends on the draw; elsewhere every run draws new ones.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.cnn"))
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true",
                     help="rewrite golden files from the current output")


@pytest.fixture
def golden(request):
    """`golden(path, text)`: compare with (or, with --update-goldens, write) a golden file."""
    update = request.config.getoption("--update-goldens")

    def compare(path: Path, text: str) -> None:
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"missing golden file {path}; run pytest --update-goldens"
        assert text == path.read_text(encoding="utf-8"), (
            f"output differs from {path}; if the change is intended, run "
            "pytest --update-goldens and review the diff")

    return compare


@pytest.fixture
def cnndsl_cmd():
    """The installed `cnndsl` console script (CI runs the tests against an install)."""
    script = Path(sys.executable).parent / "cnndsl"   # the virtual environment's own
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "cnndsl"]


@pytest.fixture(autouse=True)
def _no_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("WORLD_SIZE", raising=False)


def spec_id(path: Path) -> str:
    return path.stem


HAS_DOT = shutil.which("dot") is not None
