"""Bounded time, memory and output (issue 9): hostile inputs end in a result or a
located diagnostic, within 2 GiB of address space, without hanging.

Every command runs under `RLIMIT_AS` = 2 GiB beyond what importing torch and
cnndsl maps (`harness.memory_limit`), with 30 s of CPU time as a hang
detector (not a speed target); a group of commands whose outcome is tested, not their
process (the values' and the misspelt names' `check` and `compile`, the terminal
attacks' `check`), shares one child under that address-space limit,
with 30 s of CPU time per command (`harness.cnndsl_batch`). The limits the compiler
promises: spec files of at most 1 MiB (bigger is a one-line error), at most 100
diagnostics printed per file, at most 200,000 layers after unrolling, every integer
bounded and every float finite (a located error beyond).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from attacks import harness

MAX_PRINTED = 100
DIAGNOSTIC_LINE = re.compile(r"^(error|warning)\[[A-Z]\d+\]", re.M)


def cnndsl(work: Path, *args, **kwargs) -> harness.Run:
    return harness.cnndsl(*args, cwd=work, **kwargs)


def spec_file(work: Path, text: str | bytes, name: str = "spec.cnn") -> str:
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    (work / name).write_bytes(data)
    return name


# ---- inputs that are not spec files ---------------------------------------------

def test_check_dev_zero_is_refused_at_once(tmp_path):
    done = cnndsl(tmp_path, "check", "/dev/zero")
    harness.assert_one_line_error(done, (2,))


def test_check_a_fifo_without_a_writer_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.cnn")
    harness.assert_one_line_error(cnndsl(tmp_path, "check", "pipe.cnn"), (2,))


def test_check_a_fifo_with_an_endless_writer_is_bounded(tmp_path):
    os.mkfifo(tmp_path / "pipe.cnn")
    writer = subprocess.Popen(["sh", "-c", 'exec yes "-> relu" > "$1"', "sh", "pipe.cnn"],
                              cwd=tmp_path, stderr=subprocess.DEVNULL)
    try:
        done = cnndsl(tmp_path, "check", "pipe.cnn")
    finally:
        writer.kill()
        writer.wait()
    harness.assert_no_crash(done, (1, 2))


@pytest.mark.parametrize("size", [(1 << 20) + 1, 8 << 20])
def test_a_spec_over_one_mebibyte_is_a_one_line_error(tmp_path, size):
    line = b"-> relu  # padding padding padding\n"
    body = b"input 1x8x8\nidentity\n" + line * (size // len(line) + 1)
    name = spec_file(tmp_path, body[:size])
    harness.assert_one_line_error(cnndsl(tmp_path, "check", name))
    harness.assert_one_line_error(cnndsl(tmp_path, "compile", name))


# ---- memory: big but legal specs ---------------------------------------------------

def one_mebibyte_of_layers() -> str:
    lines = ["input 1x8x8", "identity"]
    size = 0
    while size < (1 << 20) - 100:
        lines.append("-> relu")
        size += 8
    return "\n".join(lines) + "\n"


def block_uses_with_long_calls() -> str:
    """400 KB of block uses, each a multi-line call with comments."""
    call = ("-> B(\n    a=1,  # " + "x" * 60 + "\n    b=2,\n    # " + "y" * 200 + "\n)\n")
    head = "input 1x8x8\nblock B(a=1, b=2) { conv 4 k3 p1 stride=a groups=b//2 }\nidentity\n"
    return head + call * (400_000 // len(call))


def one_long_call_repeated() -> str:
    """A 390 KB call repeated 50,000 times: each copy must not keep its own text."""
    comments = "".join(f"    # {'z' * 70}\n" for _ in range(5000))
    return f"input 1x8x8\nblock B {{ relu }}\nidentity -> (B(\n{comments})) * 50000\n"


BIG = {
    "1MiB-of-one-layer-lines": one_mebibyte_of_layers,
    "400KB-of-block-uses": block_uses_with_long_calls,
    "one-long-call-repeated": one_long_call_repeated,
}


@pytest.mark.parametrize("name", BIG)
def test_a_big_spec_fits_in_memory(tmp_path, name):
    spec = spec_file(tmp_path, BIG[name]())
    # a hang detector, not a speed target: the 1 MiB spec takes ~15 s of CPU on a quiet machine
    done = cnndsl(tmp_path, "check", "--quiet", spec, cpu=120, wall=900)
    harness.assert_no_crash(done)
    if done.status == 1:
        harness.assert_located(done)


UNROLLED = {
    "nested-repetition": "input 1x8x8\n((relu) * 1000) * 1000\n",
    "nested-blocks": ("input 1x8x8\nblock A { relu * 100 }\nblock Bb { A * 100 }\n"
                      "block Cc { Bb * 100 }\nCc\n"),
    "huge-count": "input 1x8x8\n(relu) * 99999999999999\n",
    "huge-count-of-a-block": "input 1x8x8\nblock A { conv 4 k3 p1 -> relu }\nA * 9999999999\n",
}


def checked_and_compiled(root: Path, specs: dict[str, str]):
    """`check` and `compile` of each spec, from a folder of its own, all in one child
    under the same limits (`harness.cnndsl_batch`): an interpreter's start-up is
    hundreds of milliseconds, most of these commands take a few."""
    for name, text in specs.items():
        (root / name).mkdir()
        spec_file(root / name, text)
    entries = [(name, (command, "spec.cnn")) for name in specs for command in COMMANDS]
    return harness.cnndsl_batch(root, entries, cpu=harness.HANG_S * len(entries),
                                wall=harness.WALL_S * len(entries))


def assert_located_errors(batch, name: str) -> None:
    """Both commands of `name` ended in exit 1 with a located error."""
    runs, child = batch
    for command in COMMANDS:
        done = runs.get((name, (command, "spec.cnn")))
        assert done is not None, f"the child stopped before `{command}`; {child}"
        harness.assert_no_crash(done, (1,))
        harness.assert_located(done)


COMMANDS = ("check", "compile")


@pytest.mark.parametrize("name", UNROLLED)
def test_more_than_200k_layers_after_unrolling_is_a_located_error(tmp_path, name):
    """A process per command: these take seconds each, and in one child the later
    ones took longer than a start-up saves."""
    spec = spec_file(tmp_path, UNROLLED[name])
    for command in COMMANDS:
        done = cnndsl(tmp_path, command, spec)
        harness.assert_no_crash(done, (1,))
        harness.assert_located(done)


# ---- many diagnostics: quick, and at most 100 printed --------------------------------

def misspelt(kind: str, n: int = 2000) -> str:
    if kind == "layers":
        return "input 1x8x8\nidentity\n" + "".join(f"-> rleu{i}\n" for i in range(n))
    if kind == "blocks":
        return ("input 1x8x8\n" + "".join(f"block Blk{i} {{ relu }}\n" for i in range(n))
                + "identity\n" + "".join(f"-> Bkl{i}\n" for i in range(n)))
    return ("input 1x8x8\n" + "".join(f"let width{i} = 4\n" for i in range(n))
            + "identity\n" + "".join(f"-> conv widht{i} k3 p1\n" for i in range(n)))


KINDS = ("layers", "blocks", "constants")


@pytest.fixture(scope="module")
def misspelt_checked(tmp_path_factory):
    """`check` of each kind's spec, from a folder of its own, in one child."""
    root = tmp_path_factory.mktemp("misspelt")
    for kind in KINDS:
        (root / kind).mkdir()
        spec_file(root / kind, misspelt(kind))
    return harness.cnndsl_batch(root, [(kind, ("check", "spec.cnn")) for kind in KINDS],
                                cpu=harness.HANG_S * len(KINDS))


@pytest.mark.parametrize("kind", KINDS)
def test_2000_misspelt_names(misspelt_checked, kind):
    runs, child = misspelt_checked
    done = runs.get((kind, ("check", "spec.cnn")))
    assert done is not None, f"the child stopped before this kind; {child}"
    harness.assert_no_crash(done, (1,))
    harness.assert_located(done)
    printed = len(DIAGNOSTIC_LINE.findall(done.text))
    assert printed <= MAX_PRINTED, f"{printed} diagnostics printed for one file"


def test_2000_errors_on_one_16kb_line(tmp_path):
    line = " ".join(["-> conv 0 k0"] * 1230)
    assert 15_900 <= len(line) <= 16_100
    done = cnndsl(tmp_path, "check", spec_file(tmp_path, f"input 1x8x8\nidentity {line}\n"))
    harness.assert_no_crash(done, (1,))     # includes: stdout + stderr under 1 MB
    harness.assert_located(done)
    assert len(DIAGNOSTIC_LINE.findall(done.text)) <= MAX_PRINTED


# ---- values: integers bounded, floats finite -----------------------------------------

BIG_INT = "9" * 5000
VALUES = {
    "5000-digit-channels": f"input 1x8x8\nconv {BIG_INT} k3 -> fc 2\n",
    "5000-digit-flag": f"input 1x8x8\nconv 4 k{BIG_INT} -> fc 2\n",
    "5000-digit-input": f"input 1x{BIG_INT}x8\nconv 4 k3 -> fc 2\n",
    "5000-digit-constant": f"input 1x8x8\nlet n = {BIG_INT}\nconv n k3 -> fc 2\n",
    "5000-digit-count": f"input 1x8x8\n(relu) * {BIG_INT}\n",
    "2049-digit-features": "input 1x8x8\nfc 1" + "0" * 2048 + "\n",
    "squaring-lets": ("input 1x8x8\nlet sq0 = 99999 * 99999\n"
                      + "".join(f"let sq{i} = sq{i - 1} * sq{i - 1}\n" for i in range(1, 40))
                      + "conv 4 k3 -> fc sq39\n"),
    "squaring-let-repeated": ("input 1x8x8\nlet a = 99999 * 99999 * 99999 * 99999 * 99999 * "
                              "99999 * 99999 * 99999\nconv a k3 -> fc a * a * a * a\n"),
    "dropout-1e2048": "input 1x8x8\nconv 4 k3 -> dropout 1e2048 -> fc 2\n",
    "constant-1e2048": "input 1x8x8\nlet r = 1e2048\nconv 4 k3 -> leakyrelu r -> fc 2\n",
    "leakyrelu-1e400": "input 1x8x8\nconv 4 k3 -> leakyrelu 1e400 -> fc 2\n",
    "elu-1e400": "input 1x8x8\nconv 4 k3 -> elu 1e400 -> fc 2\n",
    "eps-1e400": "input 1x8x8\nconv 4 k3 -> batchnorm eps=1e400 -> fc 2\n",
    "float-product-overflows": "input 1x8x8\nconv 4 k3 -> leakyrelu 1e308 * 1e308 -> fc 2\n",
}


@pytest.fixture(scope="module")
def values_checked(tmp_path_factory):
    return checked_and_compiled(tmp_path_factory.mktemp("values"), VALUES)


@pytest.mark.parametrize("name", VALUES)
def test_an_out_of_range_value_is_a_located_error(values_checked, name):
    assert_located_errors(values_checked, name)


#: How PyTorch's allocator words its failure: the sign that cnndsl tried to allocate.
TORCH_ALLOCATOR = ("DefaultCPUAllocator", "alloc_cpu", "enforce fail", "CUDA out of memory")
HUGE_MODELS = {
    "conv-1e9-channels": "input 1x8x8\nconv 1000000000 k3\n",
    "fc-1e10-weights": "input 1x8x8\nfc 100000 -> fc 100000\n",
}
#: Build each spec named on the command line, in one child (torch imported once):
#: a JSON line per spec. `grown_kib` counts from before the first build, so that
#: each figure bounds its own build and every one before it.
BUILD = """
import json, sys, resource
import torch, cnndsl
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for spec in sys.argv[1:]:
    try:
        cnndsl.build(open(spec, encoding="utf-8").read())
        outcome = {"built": True}
    except Exception as exc:
        outcome = {"built": False, "type": type(exc).__module__ + "." + type(exc).__qualname__,
                   "message": str(exc)[:500]}
    outcome["grown_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps(outcome), flush=True)
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every huge model's spec, built by one child: (the folder, outcomes by name, the run)."""
    work = tmp_path_factory.mktemp("huge")
    specs = [spec_file(work, HUGE_MODELS[name], f"{name}.cnn") for name in HUGE_MODELS]
    done = harness.python(BUILD, *specs, cwd=work)
    lines = done.out.decode().strip().splitlines()
    return work, dict(zip(HUGE_MODELS, map(json.loads, lines))), done


@pytest.mark.parametrize("name", HUGE_MODELS)
def test_building_a_model_too_big_for_memory_is_a_clear_error(built, name):
    """`check` may accept it; `cnndsl.build` must refuse in cnndsl's own words
    before allocating (here under 2 GiB more, where torch's allocator would fail)."""
    work, outcomes, done = built
    harness.assert_no_crash(cnndsl(work, "check", f"{name}.cnn"))
    harness.assert_no_crash(done, (0,))
    outcome = outcomes[name]
    assert not outcome["built"], "a model of many GB was built"
    assert not outcome["type"].startswith(("torch", "builtins.RuntimeError")), outcome
    assert not any(word in outcome["message"] for word in TORCH_ALLOCATOR), outcome
    assert outcome["grown_kib"] < (1 << 20), f"{outcome['grown_kib']:,} KiB more resident"


# ---- what reaches the terminal ---------------------------------------------------------

ESC = "\x1b[2J\x1b]0;owned\x07\x1b[31m"
RLO = "\u202e"
TERMINAL = {
    "comment-on-an-error-line": f"input 1x8x8\nconv 4 k99  # {ESC}{RLO}evil\n",
    "control-in-the-chain": f"input 1x8x8\nconv 4 k3 {ESC} -> relu\n",
    "bidi-in-a-name": f"input 1x8x8\nrel{RLO}u -> fc 2\n",
    "bidi-isolates": "input 1x8x8\nconv 4 k3 \u2066\u2067\u2068\u2069 -> relu\n",
    "line-separator": "input 1x8x8\nconv 4 k3 \u2028 -> relu\n",
    "comment-in-a-good-block-call": (f"input 1x8x8\nblock B {{ relu }}\nB( # {ESC}{RLO}x\n)"
                                     " -> fc 2\n"),
    "misspelt-with-escape": f"input 1x8x8\nrelu{ESC} -> fc 2\n",
}


HOSTILE_NAME = f"{ESC}{RLO}evil\u2066.cnn"
FORMATS = ("text", "json")


@pytest.fixture(scope="module")
def terminal_checked(tmp_path_factory):
    """`check --format FMT` of every terminal attack, and of a spec under a hostile
    name, from a folder of its own, in one child (`harness.cnndsl_batch`: stdout
    strict UTF-8 and stderr with backslash escapes, as a process's streams are)."""
    root = tmp_path_factory.mktemp("terminal")
    entries = []
    for name, text in TERMINAL.items():
        (root / name).mkdir()
        spec_file(root / name, text)
        entries += [(name, ("check", "--format", fmt, "spec.cnn")) for fmt in FORMATS]
    (root / "hostile-name").mkdir()
    spec_file(root / "hostile-name", "input 1x8x8\nconv 4 k99\n", HOSTILE_NAME)
    entries += [("hostile-name", ("check", "--format", fmt, HOSTILE_NAME)) for fmt in FORMATS]
    return harness.cnndsl_batch(root, entries, cpu=harness.HANG_S * len(entries))


def _terminal_run(batch, folder: str, spec: str, fmt: str) -> harness.Run:
    runs, child = batch
    done = runs.get((folder, ("check", "--format", fmt, spec)))
    assert done is not None, f"the child stopped before this case; {child}"
    return done


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", TERMINAL)
def test_escapes_and_bidi_controls_never_reach_the_terminal(terminal_checked, name, fmt):
    done = _terminal_run(terminal_checked, name, "spec.cnn", fmt)
    harness.assert_no_crash(done)
    harness.assert_nothing_raw(done)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_hostile_file_name_never_reaches_the_terminal(terminal_checked, fmt):
    done = _terminal_run(terminal_checked, "hostile-name", HOSTILE_NAME, fmt)
    harness.assert_no_crash(done, (1,))
    harness.assert_nothing_raw(done)


def test_check_json_with_a_missing_file_is_valid_json(tmp_path):
    good = spec_file(tmp_path, "input 1x8x8\nconv 4 k3 -> fc 2\n", "good.cnn")
    done = cnndsl(tmp_path, "check", "--format", "json", good, "missing.cnn")
    harness.assert_no_crash(done, (1, 2))
    harness.assert_nothing_raw(done)
    files = json.loads(done.out.decode("utf-8"))["files"]
    assert [f["ok"] for f in files] == [True, False]
    assert files[0]["summary"] is not None


def test_check_json_never_prints_an_undecodable_byte(tmp_path):
    good = spec_file(tmp_path, "input 1x8x8\nconv 4 k3 -> fc 2\n", "good.cnn")
    latin = spec_file(tmp_path, b"input 1x8x8\n# caf\xe9\nconv 4 k3 -> fc 2\n", "latin1.cnn")
    (tmp_path / os.fsdecode(b"odd\xff.cnn")).write_text("input 1x8x8\nconv 4 k99\n",
                                                         encoding="utf-8")
    done = harness.cnndsl("check", "--format", "json", good, latin, b"odd\xff.cnn",
                          b"missing\xfe.cnn", cwd=tmp_path)
    harness.assert_no_crash(done, (1, 2))
    harness.assert_nothing_raw(done)
    files = json.loads(done.out.decode("utf-8"))["files"]
    assert [f["ok"] for f in files] == [True, False, False, False]
