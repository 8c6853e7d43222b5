"""The third attack (issues 21 and 19): this session's new surfaces, `cnndsl import`
(everything that comes out of the user's module is data), `--set`/`--input`, `predict`
over folders and its CSV/JSON, and `evaluate`'s `per_class.csv`. Each hostile input
ends in a right answer or a one-line refusal (exit 1 or 2), never an internal error."""

from __future__ import annotations

import os

import pytest
from test_predict_report import grey, trained  # noqa: F401 (a fixture)

from cnndsl.cli import main

# ---- import: the module's structure is data, bounded ------------------------------------

MODULES = """
import os
from torch import nn

def deep():
    m = nn.Conv2d(3, 3, 1)
    for _ in range(3000):
        m = nn.Sequential(m)
    return m

def small():
    return nn.Sequential(nn.Conv2d(3, 3, 1))

def long():
    return nn.Sequential(*[nn.Conv2d(3, 3, 1) for _ in range(1500)])

class Huge(nn.Module):
    input_size = (1, 2**20, 2**20)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 1)

    def forward(self, x):
        return self.conv(x)

def huge():
    return Huge()

class Loop(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        return self.conv(x)

def loop():
    m = Loop()
    m.conv.add_module("back", m)
    return m
"""


@pytest.fixture()
def modules(tmp_path):
    path = tmp_path / "hostile.py"
    path.write_text(MODULES)
    return path


@pytest.mark.parametrize(("name", "words"), [
    ("deep", "nests submodules"), ("loop", "contains itself"), ("long", "too long")])
def test_import_of_a_module_too_deep_too_long_or_cyclic_is_one_line(modules, capsys,
                                                                     name, words):
    assert main(["import", f"{modules}:{name}", "--input", "3x4x4"]) == 1
    err = capsys.readouterr().err
    assert words in err and "internal error" not in err and len(err.splitlines()) == 1, err


def test_import_bounds_the_module_s_own_input_size_as_it_bounds_the_flag(modules, capsys):
    assert main(["import", f"{modules}:huge"]) == 2
    err = capsys.readouterr().err
    assert "values per sample" in err and "input_size" in err, err


def test_import_refuses_one_file_for_both_the_spec_and_the_weights(modules, tmp_path,
                                                                    capsys):
    same = tmp_path / "out"
    os.symlink(same, tmp_path / "link")
    for other in (same, tmp_path / "link"):
        assert main(["import", f"{modules}:small", "--input", "3x4x4", "-o", str(same),
                     "--weights", str(other)]) == 2
        assert "same file" in capsys.readouterr().err
        assert not same.exists()


# ---- CSV: a carriage return in a name is a line break to every CSV reader ---------------

def _csv_rows(text: str) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.slow
def test_a_carriage_return_in_a_file_name_keeps_predict_s_csv_rows_whole(
        capsys, trained, tmp_path):  # noqa: F811
    names = ["cr\rname.png", "crlf\r\nname.png", "plain.png"]
    for name in names:
        grey(tmp_path / "r" / name, 90)
    assert main(["predict", str(trained), str(tmp_path / "r"), "--format", "csv"]) == 0
    rows = _csv_rows(capsys.readouterr().out)
    assert [row[0] for row in rows[1:]] == \
        sorted((str(tmp_path / "r" / n) for n in names), key=os.fsencode)
    assert all(len(row) == len(rows[0]) for row in rows)


def test_a_carriage_return_in_a_class_name_keeps_per_class_csv_rows_whole():
    from types import SimpleNamespace

    import torch

    from cnndsl.train.evaluation import _csv
    from cnndsl.train.scores import scores

    classes = ["left\rright", "=1+2", "plain"]
    found = scores(torch.tensor([[2, 1, 0], [0, 3, 0], [0, 0, 1]]), classes)
    text = _csv(found, SimpleNamespace(task="classify", classes=classes), {"acc": 0.5}, 7)
    rows = _csv_rows(text)
    assert [row[1] for row in rows[1:4]] == classes       # exact: no prefix, no escape
    assert all(len(row) == len(rows[0]) for row in rows)


# ---- overrides from Python: a value too large to show is refused by name -------------

@pytest.mark.parametrize("given", [
    {"w": 10**5000}, {"w": -(10**5000)}, {"w": __import__("fractions").Fraction(1, 10**5000)},
    {"input": (1, 10**5000, 28)}])
def test_build_refuses_a_python_value_too_large_to_write_naming_it(given):
    import cnndsl

    spec = "model Net\ninput 1x28x28\nlet w = 8\nconv w k3 -> relu -> fc 10\n"
    with pytest.raises(ValueError, match="out of range") as caught:
        cnndsl.build(spec, **given)
    assert ("`w`" if "w" in given else "the input") in str(caught.value)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("size", [range(10**12), (1, 10**5000, "28"), [1] * 10**6])
def test_build_reads_a_bad_python_size_without_materialising_or_failing_to_show_it(size):
    import cnndsl

    with pytest.raises(TypeError, match="must be a tuple") as caught:
        cnndsl.build("model Net\ninput 1x28x28\nconv 8 k3 -> relu -> fc 10\n", input=size)
    assert len(str(caught.value)) < 200


# ---- a run folder's recorded overrides, edited by hand -----------------------------------

@pytest.mark.slow
def test_recorded_overrides_that_no_longer_check_are_named_not_blamed_on_the_version(
        capsys, trained, tmp_path):  # noqa: F811
    import json
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    record = json.loads((run / "config.json").read_text())
    record["overrides"] = {"set": {"nope": "3"}, "input": {}}
    (run / "config.json").write_text(json.dumps(record))
    assert main(["predict", str(run), str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "`--set nope=3`" in err and "this version" not in err, err
    assert len(err.strip().splitlines()) == 1
