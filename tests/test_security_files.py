"""No file is lost (issue 9): what `compile` and `diagram` write, and onto what.

A command may write its own output, replace a file it wrote itself, or refuse;
it never replaces or truncates a file it did not write, a spec, a device, a
FIFO or a socket, never hangs on one, never turns a symlink into a regular file,
and reports an operating-system failure in one line. Every test snapshots the
directory (kind, content hash, mode, link target, device number) before and
after.
"""

from __future__ import annotations

import ctypes
import os
import socket
import stat
from pathlib import Path

import pytest
from attacks import harness

SPEC = "model Small\ninput 1x8x8\nconv 4 k3 -> relu -> fc 2\n"
#: Each command, writing to OUT (the dot format needs no Graphviz).
WRITERS = {
    "compile": ("compile", "spec.cnn", "-o"),
    "diagram": ("diagram", "spec.cnn", "--format", "dot", "-o"),
}


@pytest.fixture
def work(tmp_path):
    (tmp_path / "spec.cnn").write_text(SPEC, encoding="utf-8")
    return tmp_path


def cnndsl(work: Path, *args, **kwargs) -> harness.Run:
    return harness.cnndsl(*args, cwd=work, **kwargs)


def write(work: Path, writer: str, out: str, **kwargs) -> harness.Run:
    return cnndsl(work, *WRITERS[writer], out, **kwargs)


def refused_and_untouched(work: Path, run, allowed=(1, 2)) -> None:
    """Run `run()`; it must refuse in one line and leave every file as it was."""
    before = harness.snapshot(work)
    done = run()
    harness.assert_one_line_error(done, allowed)
    assert harness.snapshot(work) == before, f"files changed; {done}"


class Refusals:
    """Commands that must refuse and leave their folder as it was, each from a folder
    of its own set up beforehand, all run by one child (`harness.cnndsl_batch`):
    the guard is in the command, not in its process, and each start-up costs
    hundreds of milliseconds. `check(key)` asserts what `refused_and_untouched` does."""

    def __init__(self, root: Path, cases: dict) -> None:
        self.root, entries = root, []
        for key, setup in cases.items():
            folder = root / key
            folder.mkdir()
            (folder / "spec.cnn").write_text(SPEC, encoding="utf-8")
            entries.append((key, tuple(setup(folder))))
        self.before = {key: harness.snapshot(root / key) for key in cases}
        self.runs, self.child = harness.cnndsl_batch(root, entries,
                                                     cpu=harness.HANG_S * len(entries))
        self.argv = dict(entries)

    def run(self, key: str) -> harness.Run:
        done = self.runs.get((key, self.argv[key]))
        assert done is not None, f"the child stopped before this case; {self.child}"
        return done

    def check(self, key: str, allowed=(1, 2)) -> harness.Run:
        done = self.run(key)
        harness.assert_one_line_error(done, allowed)
        assert harness.snapshot(self.root / key) == self.before[key], f"files changed; {done}"
        return done


@pytest.fixture(scope="module")
def refusals(tmp_path_factory):
    cases = {}
    for name, (args, existing) in DIAGRAM_TARGETS.items():
        cases[f"diagram-{name}"] = _foreign(args, existing)
    for name, header in NOT_OUR_HEADER.items():
        cases[f"header-{name}"] = _mentions(header)
    cases["own-spec"] = lambda work: ("compile", "spec.cnn", "-o", "spec.cnn")
    for writer in WRITERS:
        for name, make in BAD_OUTPUTS.items():
            cases[f"{writer}-{name}"] = _bad_output(writer, make)
    for command in READERS:
        for name in STR_INPUTS:
            cases[f"read-{command}-{name}"] = _bad_input(command, BAD_INPUTS[name])
    return Refusals(tmp_path_factory.mktemp("refusals"), cases)


def _foreign(args: tuple, existing: str | None):
    def setup(work: Path) -> tuple:
        if existing:
            (work / existing).write_text("<svg>the user's own drawing</svg>\n", encoding="utf-8")
        return args
    return setup


def _mentions(header: str):
    def setup(work: Path) -> tuple:
        (work / "model.py").write_text(header + "user = 'code'\n", encoding="utf-8")
        return ("compile", "spec.cnn", "-o", "model.py")
    return setup


def _bad_output(writer: str, make):
    return lambda work: (*WRITERS[writer], make(work))


def _bad_input(command: str, make):
    return lambda work: _reading(command, make(work))


def _reading(command: str, spec) -> tuple:
    return (command, spec) if command != "diagram" else (command, spec, "--format", "dot")


# ---- diagrams: the same guard as compile ------------------------------------------

DIAGRAM_TARGETS = {
    "the-spec-itself": (("diagram", "spec.cnn", "-o", "spec.cnn", "--format", "dot"), None),
    "notes-txt": (("diagram", "spec.cnn", "-o", "notes.txt"), "notes.txt"),
    "foreign-svg": (("diagram", "spec.cnn"), "spec.svg"),
    "foreign-dot": (("diagram", "spec.cnn", "-o", "graph.dot"), "graph.dot"),
    "foreign-gv": (("diagram", "spec.cnn", "-o", "graph.gv", "--format", "dot"), "graph.gv"),
    "py-as-dot": (("diagram", "spec.cnn", "-o", "model.py", "--format", "dot"), "model.py"),
}


@pytest.mark.parametrize("name", DIAGRAM_TARGETS)
def test_diagram_never_replaces_a_file_it_did_not_draw(refusals, name):
    refusals.check(f"diagram-{name}")


# ---- the overwrite guard: cnndsl's exact first line, nothing like it ----------------

NOT_OUR_HEADER = {
    "comment": "# notes: compiled by cnndsl\n",
    "string": 'print("compiled by cnndsl")\n',
    "prose": '"""My notes on code compiled by cnndsl 0.1.0 from x.cnn.\n',
    "single-quotes": "'''Small: compiled by cnndsl 0.1.0 from spec.cnn.\n",
    "indented": ' """Small: compiled by cnndsl 0.1.0 from spec.cnn.\n',
    "after-code": 'x = 1  # """Small: compiled by cnndsl 0.1.0 from spec.cnn.\n',
    "on-line-two": 'import os\n"""Small: compiled by cnndsl 0.1.0 from spec.cnn.\n',
    "no-version": '"""Small: compiled by cnndsl from spec.cnn.\n',
}


@pytest.mark.parametrize("name", NOT_OUR_HEADER)
def test_compile_never_replaces_a_file_that_merely_mentions_cnndsl(refusals, name):
    refusals.check(f"header-{name}")


def test_compile_never_replaces_its_own_spec(refusals):
    refusals.check("own-spec")


@pytest.mark.parametrize("writer", WRITERS)
def test_a_file_cnndsl_wrote_is_replaced_without_force(work, writer):
    """The control for the refusals above: cnndsl's own output is replaced."""
    first = write(work, writer, "own.dot" if writer == "diagram" else "own.py")
    harness.assert_no_crash(first, (0,))
    again = write(work, writer, "own.dot" if writer == "diagram" else "own.py")
    harness.assert_no_crash(again, (0,))


# ---- symlinks: written through, never replaced -------------------------------------

def _own_output(work: Path, writer: str) -> str:
    name = "own.dot" if writer == "diagram" else "own.py"
    harness.assert_no_crash(write(work, writer, name), (0,))
    return name


@pytest.mark.parametrize("writer", WRITERS)
def test_a_symlink_to_cnndsl_output_stays_a_link(work, writer):
    target = _own_output(work, writer)
    os.symlink(target, work / "link")
    done = write(work, writer, "link")
    harness.assert_no_crash(done, (0, 1, 2))
    assert os.path.islink(work / "link") and os.readlink(work / "link") == target
    assert (work / target).is_file() and not os.path.islink(work / target)


@pytest.mark.parametrize("writer", WRITERS)
def test_a_symlink_to_a_foreign_file_is_refused(work, writer):
    (work / "mine.txt").write_text("the user's own file\n", encoding="utf-8")
    os.symlink("mine.txt", work / "link")
    refused_and_untouched(work, lambda: write(work, writer, "link"))


@pytest.mark.parametrize("writer", WRITERS)
def test_a_dangling_symlink_gets_its_target_or_is_refused(work, writer):
    os.symlink("made.out", work / "link")
    before = harness.snapshot(work)
    done = write(work, writer, "link")
    harness.assert_no_crash(done, (0, 1, 2))
    assert os.path.islink(work / "link") and os.readlink(work / "link") == "made.out"
    if done.status == 0:
        assert (work / "made.out").is_file() and (work / "made.out").stat().st_size > 0
    else:
        assert harness.snapshot(work) == before


@pytest.mark.parametrize("writer", WRITERS)
def test_a_chain_of_symlinks_stays_a_chain(work, writer):
    target = _own_output(work, writer)
    os.symlink(target, work / "inner")
    os.symlink("inner", work / "outer")
    harness.assert_no_crash(write(work, writer, "outer"), (0, 1, 2))
    assert os.readlink(work / "outer") == "inner" and os.readlink(work / "inner") == target


# ---- FIFOs, sockets, devices: refused, untouched, no hang ---------------------------

def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(os.fspath(path))


def make_null_device(path: Path) -> None:
    """A character device like /dev/null (1, 3), made here so that nothing real is
    at stake; needs CAP_MKNOD (root in most containers)."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("cannot create a device node here (needs CAP_MKNOD)")


SPECIAL = {"fifo": make_fifo, "socket": make_socket, "device": make_null_device}


@pytest.mark.parametrize("kind", SPECIAL)
@pytest.mark.parametrize("writer", WRITERS)
def test_output_onto_a_special_file_is_refused(work, writer, kind):
    SPECIAL[kind](work / "special")
    refused_and_untouched(work, lambda: write(work, writer, "special"))
    refused_and_untouched(work, lambda: cnndsl(work, *WRITERS[writer], "special", "--force"))


@pytest.mark.parametrize("kind", SPECIAL)
def test_a_symlink_to_a_special_file_is_refused(work, kind):
    SPECIAL[kind](work / "special")
    os.symlink("special", work / "link.py")
    refused_and_untouched(work, lambda: cnndsl(work, "compile", "spec.cnn", "-o", "link.py",
                                               "--force"))


# ---- operating-system failures: one line each ----------------------------------------

def _drop_root_override() -> None:
    """`preexec_fn`: root ignores permission bits; drop CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH from the bounding set so the exec'd cnndsl obeys them."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):   # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, capability, 0, 0, 0) != 0:   # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _read_only_dir(work: Path) -> Path:
    folder = work / "ro"
    folder.mkdir()
    os.chmod(folder, 0o555)
    probe = harness.run(["sh", "-c", "touch ro/x"], cwd=work, preexec=_drop_root_override)
    if probe.status == 0:
        pytest.skip("cannot make a directory this process cannot write to")
    return folder


@pytest.mark.parametrize("writer", WRITERS)
def test_a_read_only_output_directory_is_one_line(work, writer):
    _read_only_dir(work)
    out = "ro/out.dot" if writer == "diagram" else "ro/out.py"
    refused_and_untouched(work, lambda: write(work, writer, out, preexec=_drop_root_override))


def test_an_unreadable_spec_is_one_line(work):
    os.chmod(work / "spec.cnn", 0)
    if harness.run(["cat", "spec.cnn"], cwd=work, preexec=_drop_root_override).status == 0:
        pytest.skip("cannot make a file this process cannot read")
    refused_and_untouched(work, lambda: cnndsl(work, "check", "spec.cnn",
                                               preexec=_drop_root_override), allowed=(2,))


def _symlink_loop(work: Path) -> None:
    os.symlink("loop-b", work / "loop-a")
    os.symlink("loop-a", work / "loop-b")


LONG = "a" * 300
BAD_OUTPUTS = {
    "under-a-file": lambda work: "spec.cnn/x.py",
    "symlink-loop": lambda work: _symlink_loop(work) or "loop-a",
    "300-char-name": lambda work: LONG + ".py",
    "300-char-dir": lambda work: LONG + "/x.py",
    "a-directory": lambda work: (work / "folder").mkdir() or "folder",
}


@pytest.mark.parametrize("name", BAD_OUTPUTS)
@pytest.mark.parametrize("writer", WRITERS)
def test_an_impossible_output_path_is_one_line(refusals, writer, name):
    refusals.check(f"{writer}-{name}")


BAD_INPUTS = {
    "missing": lambda work: "missing.cnn",
    "symlink-loop": lambda work: _symlink_loop(work) or "loop-a",
    "300-char-name": lambda work: LONG + ".cnn",
    "a-directory": lambda work: (work / "folder").mkdir() or "folder",
    "under-a-file": lambda work: "spec.cnn/x.cnn",
    "non-utf8-missing": lambda work: b"caf\xe9\xff.cnn",
}


#: The inputs named by text, run in the batch; an undecodable name keeps its own process.
STR_INPUTS = [name for name in BAD_INPUTS if name != "non-utf8-missing"]
READERS = ("check", "compile", "diagram")


@pytest.mark.parametrize("name", BAD_INPUTS)
@pytest.mark.parametrize("command", READERS)
def test_an_unreadable_input_path_is_one_line(refusals, tmp_path, command, name):
    allowed = (2,) if command == "check" else (1, 2)
    if name in STR_INPUTS:
        harness.assert_nothing_raw(refusals.check(f"read-{command}-{name}", allowed))
        return
    (tmp_path / "spec.cnn").write_text(SPEC, encoding="utf-8")
    before = harness.snapshot(tmp_path)
    done = cnndsl(tmp_path, *_reading(command, BAD_INPUTS[name](tmp_path)))
    harness.assert_one_line_error(done, allowed)
    harness.assert_nothing_raw(done)
    assert harness.snapshot(tmp_path) == before


@pytest.mark.parametrize("writer", WRITERS)
def test_a_non_utf8_file_name_compiles_or_is_one_line(work, writer):
    name = b"caf\xe9\xff.cnn"
    os.rename(work / "spec.cnn", os.path.join(os.fsencode(work), name))
    out = b"caf\xe9\xff.dot" if writer == "diagram" else b"caf\xe9\xff.py"
    args = [a if a != "spec.cnn" else name for a in WRITERS[writer]]
    done = harness.cnndsl(*args, out, cwd=work)
    harness.assert_no_crash(done, (0, 1))
    harness.assert_nothing_raw(done)
    if done.status == 0:
        assert os.path.isfile(os.path.join(os.fsencode(work), out))
    else:
        harness.assert_one_line_error(done, (1,))
