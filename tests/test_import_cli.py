"""`cnndsl import TARGET [--input SIZE]... [-o net.cnn] [--weights net.pt] [--name MODEL]`:
the spec on stdout or in a file, weights loadable with `weights_only=True`, named inputs;
refusals (unsupported modules, missing targets, a factory that raises or returns no module)
exit 1 with a located message and no traceback, and leave no file behind."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import torch
from importer_corpus import course_notes, unsupported
from twins.compare import assert_same_outputs

import cnndsl
from cnndsl.cli import main

CORPUS = Path(__file__).resolve().parent / "importer_corpus"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

#: a user's module file: a small net whose weights, batch-norm statistics included, are set
#: by a seed inside `make`, so the test can build the same module again
SEEDED = '''\
import torch
from torch import nn


def make():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 4))
    with torch.no_grad():
        bn = net[1]
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.2, 0.2)
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 1.5)
    return net
'''


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run(capsys, *args) -> tuple[int, str, str]:
    try:
        status = main(["import", *map(str, args)])
    except SystemExit as exc:   # argparse's usage errors
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out and "internal error" not in err
    assert status != 3, err
    return status, out, err


def one_line(err: str) -> bool:
    return len(err.strip().splitlines()) == 1


def load_factory(path: Path, name: str = "make"):
    spec = importlib.util.spec_from_file_location(f"user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


@pytest.fixture
def seeded(tmp_path) -> Path:
    path = tmp_path / "seeded.py"
    path.write_text(SEEDED)
    return path


# ---- what comes out --------------------------------------------------------------------------

def test_spec_on_stdout(capsys):
    status, out, err = run(capsys, CORPUS / "course_notes.py:mnist_net", "--input", "1x28x28")
    assert status == 0, err
    result = cnndsl.check(out, "stdout.cnn")
    assert result.ok, str(result)
    assert re.search(r"^input 1x28x28\b", out, re.M)
    assert result.summary.params == sum(p.numel() for p in course_notes.mnist_net().parameters())


def test_spec_and_weights_files(tmp_path, capsys, seeded):
    spec, weights = tmp_path / "net.cnn", tmp_path / "net.pt"
    status, out, err = run(capsys, f"{seeded}:make", "--input", "3x16x16", "-o", spec,
                           "--weights", weights)
    assert status == 0, err
    assert spec.exists() and weights.exists()
    assert cnndsl.check(spec.read_text(), str(spec)).ok
    state = torch.load(weights, weights_only=True)
    model = cnndsl.build(spec)
    model.load_state_dict(state, strict=True)
    x = torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    assert_same_outputs(model.eval(), load_factory(seeded)().eval(), (x,))


def test_weights_without_o_print_the_spec(tmp_path, capsys, seeded):
    status, out, err = run(capsys, f"{seeded}:make", "--input", "3x16x16",
                           "--weights", tmp_path / "w.pt")
    assert status == 0, err
    assert cnndsl.check(out).ok
    assert (tmp_path / "w.pt").exists()


def test_named_inputs_and_model_name(capsys):
    status, out, err = run(capsys, CORPUS / "multi_input.py:rgbd", "--input", "image=3x32x32",
                           "--input", "depth=1x32x32", "--name", "Fusion")
    assert status == 0, err
    assert cnndsl.check(out).ok
    assert re.search(r"^model Fusion\b", out, re.M)
    assert re.search(r"^input image 3x32x32\b", out, re.M)
    assert re.search(r"^input depth 1x32x32\b", out, re.M)


def test_a_dotted_module_target(capsys):
    """`pkg.mod:make` imports the module by name (the tests folder is on sys.path)."""
    status, out, err = run(capsys, "importer_corpus.course_notes:lecture_cnn",
                           "--input", "3x32x32")
    assert status == 0, err
    assert cnndsl.check(out).ok


# ---- refusals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("factory", sorted(unsupported.FIXTURES))
def test_unsupported_is_one_located_paragraph(tmp_path, capsys, factory):
    spec, weights = tmp_path / "net.cnn", tmp_path / "net.pt"
    status, out, err = run(capsys, CORPUS / f"unsupported.py:{factory}", "--input", "3x16x16",
                           "-o", spec, "--weights", weights)
    assert status == 1
    assert unsupported.FIXTURES[factory] in err          # the module path: body.gate
    located = re.findall(r"unsupported\.py:(\d+)", err)
    assert located and int(located[0]) in unsupported.gate_lines(factory), err
    assert "\n\n" not in err.strip(), "one paragraph"
    assert not spec.exists() and not weights.exists()
    assert not list(tmp_path.iterdir()), "nothing half-written left behind"


def test_a_refusal_keeps_the_users_files(tmp_path, capsys):
    spec, weights = tmp_path / "net.cnn", tmp_path / "net.pt"
    spec.write_text("# mine\n")
    weights.write_bytes(b"mine")
    status, _, _ = run(capsys, CORPUS / "unsupported.py:fourier", "--input", "3x16x16",
                       "-o", spec, "--weights", weights)
    assert status == 1
    assert spec.read_text() == "# mine\n" and weights.read_bytes() == b"mine"


@pytest.mark.parametrize("factory", ["hostile", "hostile_unsupported"])
def test_hostile_module_names_never_reach_the_terminal(capsys, factory):
    status, out, err = run(capsys, CORPUS / f"unsupported.py:{factory}", "--input", "3x16x16")
    assert status in (0, 1)
    assert not CONTROL.search(out.replace("\n", "")), repr(out)
    assert not CONTROL.search(err.replace("\n", "")), repr(err)
    if status == 0:
        assert cnndsl.check(out).ok
        assert not re.search(r"^model Evil", out, re.M)


def test_a_missing_file_is_one_line(tmp_path, capsys):
    status, _, err = run(capsys, f"{tmp_path / 'nosuch.py'}:make", "--input", "3x8x8")
    assert status == 1 and one_line(err), err
    assert "nosuch.py" in err


def test_a_missing_function_is_one_line(capsys, seeded):
    status, _, err = run(capsys, f"{seeded}:nosuch", "--input", "3x8x8")
    assert status == 1 and one_line(err), err
    assert "nosuch" in err


def test_a_missing_module_is_one_line(capsys):
    status, _, err = run(capsys, "no_such_package_xyz.models:make", "--input", "3x8x8")
    assert status == 1 and one_line(err), err


def test_a_factory_that_raises_is_one_line(tmp_path, capsys):
    path = tmp_path / "boom.py"
    path.write_text("def make():\n    raise ValueError('boom')\n")
    status, _, err = run(capsys, f"{path}:make", "--input", "3x8x8", "-o", tmp_path / "o.cnn")
    assert status == 1 and one_line(err), err
    assert "boom" in err
    assert not (tmp_path / "o.cnn").exists()


def test_escapes_in_a_target_never_reach_the_terminal(tmp_path, capsys):
    path = tmp_path / "loud.py"
    path.write_text("def make():\n    raise ValueError('\\x1b[2J\\x1b]0;owned\\x07 boom')\n")
    for target in (f"{path}:make", f"{tmp_path}/no\x1b[2Jsuch.py:make", f"{path}:ma\x1b[31mke"):
        status, out, err = run(capsys, target, "--input", "3x8x8")
        assert status == 1 and one_line(err), err
        assert not CONTROL.search(out + err.rstrip("\n")), repr(err)


def test_a_factory_returning_no_module_is_one_line(tmp_path, capsys):
    path = tmp_path / "notamodule.py"
    path.write_text("def make():\n    return 42\n")
    status, _, err = run(capsys, f"{path}:make", "--input", "3x8x8")
    assert status == 1 and one_line(err), err


def test_a_file_that_fails_to_import_is_one_line(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("import torch\nthis is not python\n")
    status, _, err = run(capsys, f"{path}:make", "--input", "3x8x8")
    assert status == 1 and one_line(err), err


@pytest.mark.parametrize("size", ["3xfoo", "0x8x8", "3x8x8x8x8x8", "image=", "3x99999999x99999999"])
def test_a_bad_input_size_is_refused_cleanly(capsys, seeded, size):
    status, _, err = run(capsys, f"{seeded}:make", "--input", size)
    assert status in (1, 2), err
    assert err.strip()
