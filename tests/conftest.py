"""Shared fixtures. `pytest --update-goldens` rewrites every golden file from the
current output; review the diff like any other change."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# One intra-op thread per pytest-xdist worker (scripts/test.sh runs one worker per
# core), inherited by every child: a worker's torch threads otherwise spin-wait for
# cores the other workers hold (a 1-epoch run took 10 s of CPU with two threads
# against 4 s with one, on the two-core CI machine). Set before torch is imported.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _threads in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_threads, "1")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

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


@dataclass(frozen=True)
class Ran:
    """A finished in-process command, shaped like `subprocess.CompletedProcess`."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def fresh_python(code: str) -> str:
    """The output of `python -c CODE` in a new interpreter, from the repository: for
    what a process imports or does on its own (start-up, lazy imports)."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


def in_process(run: Callable[[], int | None], args, cwd: Path | str | None = None) -> Ran:
    """Call `run()` in this process, from `cwd`, with its output captured, and give
    what a process running it would: the exit status (what `run` returns, or its
    `SystemExit`'s code) and the two streams as text."""
    out, err = (io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace",
                                 write_through=True) for _ in range(2))
    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = run() or 0
            except SystemExit as exc:   # argparse's usage errors, a script's exit
                status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        os.chdir(here)
    return Ran(tuple(args), status, *(s.buffer.getvalue().decode("utf-8", "replace")
                                      for s in (out, err)))


def cnndsl_in_process(*args, cwd: Path | str | None = None) -> Ran:
    """`cnndsl ARGS...` run by `cnndsl.cli.main` in this process, from `cwd`, its
    output captured: no interpreter start-up and no torch import per command. For
    tests where the process boundary is not what is tested (`cnndsl_cmd` is)."""
    from cnndsl.cli import main

    argv = [os.fspath(a) for a in args]
    return in_process(lambda: main(argv), argv, cwd)


@pytest.fixture
def cli():
    """`cli("train", spec, "--out", out, cwd=tmp_path)`: see `cnndsl_in_process`."""
    return cnndsl_in_process


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`scripts/test.sh`: `-n auto --dist loadgroup`), the tests
    that share a module- or session-scoped fixture of this suite (a trained run,
    the security sweep's child, a browser) form one `xdist_group`, so that one
    worker builds it once; every other test goes to whichever worker is free.
    (Autouse fixtures set state up, cheaply: they do not group.)"""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group"):
            continue
        shared = sorted(f"{d.baseid}::{name}" for name, defs in info.name2fixturedefs.items()
                        for d in defs[-1:] if d.scope != "function" and d.baseid
                        and not getattr(d, "_autouse", False))
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))
