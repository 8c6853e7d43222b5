"""The parser cache in the shared temporary directory (issue 9).

Lark's `cache=True` keeps the parser as a pickle at a predictable name in
`tempfile.gettempdir()` (`.lark_cache_<user>_<sha256>_<py>.tmp`, see
`lark/lark.py`) and unpickles whatever is there: anyone who can write to /tmp
runs code in every `cnndsl check`, and a symlink planted there makes check
overwrite its target. The tests find every path cnndsl opens in the temporary
directory (an audit hook in a probe run, so they keep working whatever the
cache becomes), plant an attacker's file or link at each, and run a plain
`cnndsl check`.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from attacks import harness

SPEC = "model Small\ninput 1x8x8\nconv 4 k3 -> relu -> fc 2\n"

#: A probe: which paths under $TMPDIR does `cnndsl check` open (or create)?
PROBE = """
import json, os, sys
tmp = os.path.abspath(os.environ["TMPDIR"])
seen = set()

def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(tmp + os.sep):
            seen.add(path)

sys.addaudithook(hook)
from cnndsl.cli import main
status = main(["check", "--quiet", sys.argv[1]])
print(json.dumps({"status": status, "opened": sorted(seen)}))
"""


class _Exec:
    """Unpickling this runs `code` (what an attacker's pickle does)."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


def poisoned_pickle(proof: Path) -> bytes:
    """Two pickles that each create `proof`, the first free of newlines: a
    reader that unpickles from the first byte runs the first, Lark (which reads
    a hash line first) runs the second."""
    code = f"import pathlib; pathlib.Path({str(proof)!r}).touch()"
    first = pickle.dumps(_Exec(code), protocol=4)
    while b"\n" in first:
        code += " "
        first = pickle.dumps(_Exec(code), protocol=4)
    return first + b"\n" + pickle.dumps(_Exec(code), protocol=4)


def _env(tmp_path: Path, shared: Path) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return dict(os.environ, TMPDIR=str(shared), HOME=str(home),
                XDG_CACHE_HOME=str(home / ".cache"))


def cache_paths(tmp_path: Path, spec: Path) -> list[Path]:
    """Paths (relative to the temporary directory) that `check` opens in two runs
    (a name that changes from run to run cannot be planted), or leaves there."""
    probe = tmp_path / "probe-tmp"
    probe.mkdir()
    first, second = (_opened(tmp_path, spec, probe) for _ in range(2))
    left = {p.relative_to(probe) for p in probe.rglob("*") if not p.is_dir()}
    return sorted((first & second) | left)


def _opened(tmp_path: Path, spec: Path, probe: Path) -> set[Path]:
    done = harness.python(PROBE, str(spec), cwd=tmp_path, env=_env(tmp_path, probe))
    assert done.status == 0, str(done)
    report = json.loads(done.out.decode().strip().splitlines()[-1])
    assert report["status"] == 0, str(done)
    return {Path(p).relative_to(probe) for p in report["opened"]}


def _shared_tmp(tmp_path: Path) -> Path:
    """A directory like /tmp: everyone may create files in it."""
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    return shared


def _plant_dirs(shared: Path, relative: Path) -> Path:
    """An attacker creates any directory cnndsl would use inside /tmp before it
    does, writable by all."""
    target = shared / relative
    for parent in reversed(relative.parents[:-1]):
        (shared / parent).mkdir(exist_ok=True)
        os.chmod(shared / parent, 0o777)
    return target


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "small.cnn"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The paths to plant, found once for the module's tests (two probe runs of
    `check` in a folder of their own: what `check` opens does not depend on them)."""
    root = tmp_path_factory.mktemp("probe")
    path = root / "small.cnn"
    path.write_text(SPEC, encoding="utf-8")
    return cache_paths(root, path)


def test_a_planted_parser_cache_is_never_unpickled(tmp_path, spec, planted):
    shared = _shared_tmp(tmp_path)
    proof = tmp_path / "proof"
    for relative in planted:
        _plant_dirs(shared, relative).write_bytes(poisoned_pickle(proof))
    for _ in range(2):
        done = harness.cnndsl("check", str(spec), cwd=tmp_path, env=_env(tmp_path, shared))
        harness.assert_no_crash(done, allowed=(0,))
    assert not proof.exists(), f"`cnndsl check` unpickled a planted file: {planted}"


def test_a_planted_symlink_in_the_temporary_directory_leaves_its_target_alone(tmp_path, spec,
                                                                              planted):
    shared = _shared_tmp(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's own file\n", encoding="utf-8")
    before = harness.fingerprint(victim)
    for relative in planted:
        _plant_dirs(shared, relative).symlink_to(victim)
    for _ in range(2):
        done = harness.cnndsl("check", str(spec), cwd=tmp_path, env=_env(tmp_path, shared))
        harness.assert_no_crash(done, allowed=(0,))
    assert harness.fingerprint(victim) == before, "check wrote through a planted symlink"


def test_the_poisoned_pickle_is_a_real_attack(tmp_path):
    """The payload the tests plant does run when unpickled, both ways a cache
    reader could read it (otherwise the tests above would prove nothing)."""
    proof = tmp_path / "proof"
    data = poisoned_pickle(proof)
    pickle.loads(data)
    assert proof.exists()
    proof.unlink()
    _, rest = data.split(b"\n", 1)
    pickle.loads(rest)
    assert proof.exists()
