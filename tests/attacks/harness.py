"""Running cnndsl as an attacker would like it run, and the checks every attack shares.

Every command runs in a child process under an address-space limit of 2 GiB
beyond what the interpreter maps once it has imported torch and cnndsl (a
runaway allocation then fails inside the child instead of swapping the machine;
PyPI's CUDA build of torch maps gigabytes of libraries on import, the CPU build
about 600 MB, so a fixed limit fits only one of them) and generous limits that
detect a hang, never a speed target: 30 s of CPU time (`RLIMIT_CPU`, so a loaded
shared machine cannot make a healthy command look hung) and 120 s of wall-clock
time (for a command blocked on a FIFO).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import resource
import signal
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANG_S = 30              # CPU seconds: a command that takes this long is hung, not slow
WALL_S = 120             # wall-clock seconds, for a command blocked rather than busy
HEADROOM = 2 << 30       # RLIMIT_AS for every child: 2 GiB beyond what torch maps
MAX_OUTPUT = 1 << 20     # stdout + stderr of one command, at most

#: `error[E0301]: ...` followed by ` --> file:LINE:COL` (rustc's layout).
LOCATED = re.compile(r"^error\[[A-Z]\d+\]: [^\n]*\n[ \t]*--> [^\n]*:\d+:\d+[ \t]*$", re.M)
TRACEBACK = b"Traceback (most recent call last)"
#: Characters a terminal or an editor would act on rather than show.
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029")


@dataclass(frozen=True)
class Run:
    """A finished command: its argv (for messages), exit status and raw output."""

    argv: tuple[str, ...]
    status: int
    out: bytes
    err: bytes

    @property
    def text(self) -> str:
        return (self.out + self.err).decode("utf-8", "replace")

    def __str__(self) -> str:
        shown = " ".join(self.argv)[:300]
        return f"`{shown}` exited {self.status}:\n{self.text[-3000:]}"


def cnndsl_argv() -> list[str]:
    """The installed `cnndsl` console script, as the other CLI tests find it."""
    script = Path(sys.executable).parent / "cnndsl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cnndsl"]


#: A fresh interpreter's address space once torch and cnndsl are imported and
#: torch's thread pool has started: what every child maps before doing any work.
BASELINE_PROBE = """
import json, re, torch, cnndsl, cnndsl.cli
torch.ones(64, 64) @ torch.ones(64, 64)
status = open("/proc/self/status", encoding="ascii").read()
print(json.dumps(int(re.search(r"VmSize:\\s+(\\d+) kB", status).group(1)) * 1024))
"""


def baseline_address_space() -> int:
    """Bytes of address space a child maps before any work (measured in a child,
    with this process's environment)."""
    done = subprocess.run([sys.executable, "-c", BASELINE_PROBE], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"cannot measure a child's address space:\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@functools.cache
def memory_limit() -> int:
    """`RLIMIT_AS` for every child: its baseline plus `HEADROOM` (measured once)."""
    return baseline_address_space() + HEADROOM


def limits(cpu: int = HANG_S, then=None):
    """A `preexec_fn`: at most `memory_limit()` bytes of address space and `cpu`
    seconds of CPU time (then SIGXCPU), no core file; then `then()`, if given."""
    memory = memory_limit()     # measured here, in the parent, not after the fork

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if then is not None:
            then()
    return apply


def run(argv: list, *, cwd: Path, cpu: int = HANG_S, wall: float = WALL_S,
        env: dict | None = None, stdin=subprocess.DEVNULL, preexec=None) -> Run:
    """Run a command (str or bytes arguments) in a child; a hang fails the test."""
    argv = [os.fsencode(a) if isinstance(a, str) else a for a in argv]
    shown = " ".join(os.fsdecode(a) for a in argv)[:300]
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=wall, env=env,
                              stdin=stdin, preexec_fn=limits(cpu, preexec))
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{shown}` did not finish in {wall} s: it hangs")
    if done.returncode == -signal.SIGXCPU:
        pytest.fail(f"`{shown}` used {cpu} s of CPU time and was stopped: it hangs")
    return Run(tuple(os.fsdecode(a) for a in argv), done.returncode, done.stdout, done.stderr)


def cnndsl(*args, cwd: Path, **kwargs) -> Run:
    """`cnndsl ARGS...` as a user runs it."""
    return run(cnndsl_argv() + list(args), cwd=cwd, **kwargs)


def cnndsl_batch(root: Path, entries: list[tuple[str, tuple[str, ...]]],
                 **kwargs) -> tuple[dict[tuple[str, tuple[str, ...]], Run], Run]:
    """`cnndsl ARGV...` from `root / DIR` for each `(DIR, ARGV)`, all in one child
    under the same limits (`attacks/commands.py`): for commands whose outcome is
    tested, not their process. Returns the runs by entry, and the child's run
    (an entry missing from the runs: the child stopped before it)."""
    (root / "batch.json").write_text(json.dumps([{"dir": d, "argv": list(argv)}
                                                 for d, argv in entries]), encoding="utf-8")
    child = run([sys.executable, str(Path(__file__).with_name("commands.py")), "batch.json",
                 "results.jsonl"], cwd=root, **kwargs)
    results = root / "results.jsonl"
    runs = {}
    for line in results.read_text(encoding="utf-8").splitlines() if results.exists() else []:
        done = json.loads(line)
        runs[done["dir"], tuple(done["argv"])] = Run(
            ("cnndsl", *done["argv"]), done["status"], done["out"].encode("latin-1"),
            done["err"].encode("latin-1"))
    return runs, child


def python(code: str, *args, cwd: Path, **kwargs) -> Run:
    """`python -c CODE ARGS...` with this test run's interpreter."""
    return run([sys.executable, "-c", code, *args], cwd=cwd, **kwargs)


# ---- what every outcome must be ---------------------------------------------------

def assert_no_crash(done: Run, allowed=(0, 1)) -> None:
    """Exit status among `allowed` (never 3, an internal error, nor a signal),
    no Python traceback, and a bounded amount of output."""
    assert done.status in allowed, f"expected exit {allowed}; {done}"
    assert TRACEBACK not in done.out + done.err, f"a traceback; {done}"
    assert len(done.out) + len(done.err) < MAX_OUTPUT, \
        f"{len(done.out) + len(done.err):,} bytes of output from `{done.argv[-1]}`"


def assert_located(done: Run) -> None:
    """At least one `error[...]` line with its ` --> file:LINE:COL` line."""
    assert LOCATED.search(done.text), f"no located diagnostic; {done}"


def assert_one_line_error(done: Run, allowed=(1, 2)) -> None:
    """Refused in one line (`error...`, then at most indented notes), no traceback."""
    assert_no_crash(done, allowed)
    lines = [line for line in done.err.decode("utf-8", "replace").splitlines() if line.strip()]
    assert lines, f"no error message; {done}"
    assert lines[0].startswith("error"), f"not an error line; {done}"
    assert all(line[:1].isspace() for line in lines[1:]), f"more than one error line; {done}"


def assert_nothing_raw(done: Run) -> None:
    """No terminal escape or bidi control reaches the terminal, and no byte that
    is not UTF-8."""
    for stream in (done.out, done.err):
        text = stream.decode("utf-8")   # raises on an undecodable byte
        for char in RAW_CONTROLS:
            assert char not in text, f"raw {char!r} in the output; {done}"


# ---- the user's files -------------------------------------------------------------

def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under `root` (links not followed): kind and content hash, link
    target, or device number. Compare two snapshots to prove nothing was touched."""
    entries = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder, name)
            entries[os.fsdecode(path.relative_to(root))] = fingerprint(path)
    return entries


def fingerprint(path: Path) -> tuple:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISREG(info.st_mode):
        return ("file", hashlib.sha256(path.read_bytes()).hexdigest(), stat.S_IMODE(info.st_mode))
    if stat.S_ISDIR(info.st_mode):
        return ("dir",)
    return (stat.S_IFMT(info.st_mode), info.st_rdev)


def proofs(root: Path) -> list[str]:
    """Proof files a payload left anywhere under `root`."""
    return sorted(os.fsdecode(p.relative_to(root)) for p in root.rglob("proof*"))
