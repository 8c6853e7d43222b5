"""A spec is data, never code (issue 9): hostile text in every place user text can
reach the generated Python, through the command line and the API.

Each payload tries to create a proof file; after `compile`, importing the
compiled file, running its `__main__` with `--help`, `cnndsl.load`,
`cnndsl.build` and a forward pass, no proof may exist. Every spec either
compiles to a module that parses and defines only the expected names, or is a
located error. The file-safety, resource and parser-cache attacks live in
`test_security_files.py`, `test_security_bounds.py` and `test_security_cache.py`.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from pathlib import Path

import pytest
from attacks import adapter, harness, hostile
from attacks.generated import check_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnndsl

PIPELINE = Path(__file__).resolve().parent / "attacks" / "pipeline.py"
SWEEP = hostile.cases()
CODE_MARKER = "__import__"   # in every payload; generated code never names it


# ---- the sweep: every position x every escape, run for real in one child ---------

@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Write every case's spec, run them all through `attacks/pipeline.py` in one
    child (importing torch once), and return (root, outcomes by id, the run)."""
    root = tmp_path_factory.mktemp("sweep")
    entries = []
    for n, case in enumerate(SWEEP):
        spec = Path(f"{n:03d}") / case.path()
        (root / spec).parent.mkdir(parents=True, exist_ok=True)
        (root / spec).write_bytes(case.spec().encode("utf-8", "surrogateescape"))
        entries.append({"id": case.id, "spec": str(spec)})
    (root / "cases.json").write_text(json.dumps(entries, ensure_ascii=True), encoding="utf-8")
    done = harness.run([sys.executable, str(PIPELINE), "cases.json", "results.jsonl"],
                       cwd=root, cpu=900, wall=1800)
    results = root / "results.jsonl"
    lines = results.read_text(encoding="utf-8").splitlines() if results.exists() else []
    return root, {o["id"]: o for o in map(json.loads, lines)}, done


@functools.cache
def _proofs(root: Path) -> tuple[str, ...]:
    """The proof files under the sweep's folder, listed once for all its cases (a
    walk of ~900 files each): nothing runs there once the sweep's child is done."""
    return tuple(harness.proofs(root))


def _spec_path(root: Path, case: hostile.Case) -> Path:
    return root / f"{SWEEP.index(case):03d}" / case.path()


@pytest.mark.parametrize("case", SWEEP, ids=lambda c: c.id)
def test_hostile_text_never_runs(case, sweep):
    root, outcomes, done = sweep
    ran = [p for p in _proofs(root) if Path(p).name == case.proof]
    assert not ran, f"the payload ran: {ran}"
    outcome = outcomes.get(case.id)
    assert outcome is not None, f"the pipeline child stopped before this case; {done}"
    assert outcome["cli"] in (0, 1), f"`cnndsl compile` exited {outcome['cli']}:\n" \
                                      f"{outcome['cli_output'][-2000:]}"
    if outcome["cli"] == 1:
        assert harness.LOCATED.search(outcome["cli_output"]), outcome["cli_output"][-2000:]
    assert not outcome["failures"], "\n".join(outcome["failures"])


@pytest.mark.parametrize("case", SWEEP, ids=lambda c: c.id)
def test_hostile_text_compiles_to_a_clean_module(case, sweep):
    root, outcomes, _ = sweep
    outcome = outcomes.get(case.id)
    if outcome is None or outcome["api_code"] is None:
        pytest.skip("no module to read (a located error, or see test_hostile_text_never_runs)")
    compiled = _spec_path(root, case).with_suffix(".py")
    texts = {"api": outcome["api_code"]}
    if outcome["cli"] == 0 and compiled.exists():
        texts["cli"] = compiled.read_text(encoding="utf-8", errors="surrogateescape")
    marker = None if case.position in hostile.NAME_SPECS else CODE_MARKER
    for how, code in texts.items():
        problems = check_module(code, model=outcome["model"],
                                blocks=hostile.blocks_of(case.position, case.text),
                                marker=marker)
        assert not problems, f"{how}: " + "\n".join(problems)


# ---- the reproducers of issue 9, through the installed command ---------------------

def _issue_spec(proof: str, padding: str = "") -> str:
    return ("input 1x8x8\nblock B { relu }\n"
            f'B( # {padding}"""+str({hostile.touch(proof)})+"""\n) -> fc 10\n')


REPRODUCERS = {
    "comment-in-block-call": ("spec.cnn", _issue_spec("proof")),
    "comment-in-block-call-padded": ("spec.cnn", _issue_spec("proof", "." * 40)),
    "windows-path-comment": ("spec.cnn",
                             "input 1x8x8\nblock B { relu }\nB( # C:\\Users\\me\n) -> fc 10\n"),
    "triple-quote-file-name": (f'x"""+str({hostile.touch("proof")})+""".cnn', hostile.PATH_SPEC),
    "newline-dir-name": (f"a\n{hostile.touch('proof')}\n/spec.cnn", hostile.PATH_SPEC),
    "backslash-file-name": ("C:\\new\\x41\\N{x}.cnn", hostile.PATH_SPEC),
    "parameter-named-like-a-block": ("spec.cnn", "input 1x8x8\nblock Inner { relu }\n"
                                     "block Outer(Inner) { conv Inner k3 p1 -> Inner }\n"
                                     "Outer(4) -> fc 2\n"),
    "default-model-name-is-a-block": ("res.cnn", "input 1x8x8\nblock Res { conv 4 k3 p1 }\n"
                                      "Res -> relu -> fc 2\n"),
}

COMPILED = Path(__file__).resolve().parent / "attacks" / "compiled.py"


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """Each reproducer compiled by its own `cnndsl compile` process, from its own
    folder; then every module compiled is run with `--help`, imported, and its
    spec loaded, built and run, by one child (`attacks/compiled.py`: torch
    imported once). Returns (root, compile runs by name, child outcomes by folder)."""
    root = tmp_path_factory.mktemp("reproducers")
    compiled, entries = {}, []
    for name, (path, text) in REPRODUCERS.items():
        (root / name / path).parent.mkdir(parents=True, exist_ok=True)
        (root / name / path).write_text(text, encoding="utf-8")
        compiled[name] = harness.cnndsl("compile", path, cwd=root / name)
        if compiled[name].status == 0:
            entries.append({"dir": name, "spec": path,
                            "module": str(Path(path).with_suffix(".py"))})
    (root / "cases.json").write_text(json.dumps(entries), encoding="utf-8")
    done = harness.run([sys.executable, str(COMPILED), "cases.json", "results.jsonl"],
                       cwd=root, cpu=120)
    results = root / "results.jsonl"
    lines = results.read_text(encoding="utf-8").splitlines() if results.exists() else []
    return root, compiled, {o["dir"]: o for o in map(json.loads, lines)}, done


def _step(argv: tuple[str, ...], status: int, output: str) -> harness.Run:
    return harness.Run(argv, status, output.encode("utf-8", "surrogateescape"), b"")


@pytest.mark.parametrize("name", REPRODUCERS)
def test_issue_reproducer_through_the_command_line(name, reproduced):
    root, compiled, outcomes, child = reproduced
    path = REPRODUCERS[name][0]
    done = compiled[name]
    harness.assert_no_crash(done)
    if done.status == 0:
        outcome = outcomes.get(name)
        assert outcome is not None, f"the child stopped before this case; {child}"
        out = str(Path(path).with_suffix(".py"))
        harness.assert_no_crash(_step(("python", out, "--help"), outcome["help"],
                                      outcome["help_output"]), allowed=(0,))
        harness.assert_no_crash(_step(("import, load and build", out, path), outcome["build"],
                                      outcome["build_output"]), allowed=(0,))
    else:
        harness.assert_located(done)
    assert harness.proofs(root / name) == [], "the payload ran"


# ---- the property: any text, anywhere -----------------------------------------------

TOKENS = ('"""', "'''", '"', "'", "\\", "\r", "\n", "\r\n", "\x0c", "\x0b", "\x00", "\t",
          "\x1b[2J", "\u202e", "\u2066", "\u2028", "\x85", "\udcff", "{", "}", "{0}", "%s",
          "#", " ", "    ", "        ", "+", "(", ")", "->", ",", "\\N{", "\\u", "\\x",
          f"{CODE_MARKER}('os')", "PWNED", "\u2026", "\u00e9", "\U0001f600", "model",
          "relu", "B(", "conv 2 k1")
ALL_POSITIONS = hostile.COMMENT_SLOTS + hostile.PATH_SLOTS + tuple(hostile.NAME_SPECS)


def hostile_text() -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(TOKENS), st.text(max_size=3))
    return st.lists(piece, max_size=8).map("".join)


def name_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(hostile.NAMES),
                     st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
                     hostile_text())


def _spec_and_name(position: str, text: str) -> tuple[str, str]:
    case = hostile.Case("property", position, text)
    return case.spec(), case.path()


@pytest.mark.parametrize("position", ALL_POSITIONS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_text_anywhere_is_a_located_error_or_a_clean_module(position, data):
    text = data.draw(name_text() if position in hostile.NAME_SPECS else hostile_text())
    spec, filename = _spec_and_name(position, text)
    result = cnndsl.check(spec, filename)
    if not result.ok:
        unlocated = [f for f in adapter.findings(result) if f.is_error and not f.located]
        assert not unlocated, f"errors without a place: {unlocated}"
        return
    expected = hostile.expected_model(position, text)
    if expected is not None:
        assert adapter.model_name(result) == expected
    code = adapter.compiled_source(result)
    problems = check_module(code, model=adapter.model_name(result),
                            blocks=hostile.blocks_of(position, text),
                            marker=None if position in hostile.NAME_SPECS else CODE_MARKER)
    assert not problems, "\n".join(problems)


def test_the_sweep_covers_every_position_and_escape():
    """Guards the sweep itself: each comment and path slot meets every escape."""
    ids = {c.id for c in SWEEP}
    for slot in hostile.COMMENT_SLOTS + hostile.PATH_SLOTS:
        for family in hostile.ESCAPES:
            assert f"{slot}-{family}" in ids
    assert all(os.sep not in c.text for c in SWEEP if c.is_path), "a path text holds a /"


# ---- the module checker itself: it accepts what cnndsl writes, and catches the rest --

@pytest.mark.parametrize("path", sorted((harness.ROOT / "specs").glob("*.cnn")),
                         ids=lambda p: p.stem)
def test_every_shipped_spec_compiles_to_a_clean_module(path):
    result = cnndsl.check_file(path)
    blocks = set(re.findall(r"^\s*block\s+([A-Za-z_]\w*)", path.read_text("utf-8"), re.M))
    code = adapter.compiled_source(result)
    assert check_module(code, model=adapter.model_name(result), blocks=blocks,
                        marker=CODE_MARKER) == []


CLEAN = ('"""Net: compiled by cnndsl."""\nimport torch\nfrom torch import nn\n\n\n'
         "class B(nn.Module):\n    pass\n\n\nclass Net(nn.Module):\n"
         "    def forward(self, x):\n        return x  # a comment\n\n\n"
         "SPEC = ('input 1x8x8\\n',)\n"
         "if __name__ == '__main__':\n    raise SystemExit(0)\n")
TAMPERED = {
    "foreign-import": CLEAN + "import os\n",
    "extra-statement": CLEAN + "print('hello')\n",
    "extra-function": CLEAN + "def helper():\n    pass\n",
    "unknown-class": CLEAN + "class Other:\n    pass\n",
    "class-twice": CLEAN + "class B(nn.Module):\n    pass\n",
    "raw-bidi": CLEAN.replace("a comment", "a \u202e comment"),
    "raw-carriage-return": CLEAN.replace("a comment", "a\r comment"),
    "marker-as-code": CLEAN.replace("return x  #", f"{CODE_MARKER}('os')\n        return x  #"),
    "non-literal-constant": CLEAN.replace("SPEC = ('input 1x8x8\\n',)", "SPEC = open('x')"),
    "no-model": CLEAN.replace("class Net(", "class Nt("),
    "does-not-parse": CLEAN + '"""\n',
}


def test_the_module_checker_accepts_a_clean_module():
    assert check_module(CLEAN, model="Net", blocks={"B"}, marker=CODE_MARKER) == []


@pytest.mark.parametrize("name", TAMPERED)
def test_the_module_checker_catches_tampering(name):
    assert check_module(TAMPERED[name], model="Net", blocks={"B"}, marker=CODE_MARKER) != []
