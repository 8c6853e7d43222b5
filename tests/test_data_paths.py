"""Where training data is read from: a spec's `train { data folder ./x }` is relative
to the spec's folder, `--data-dir` to the working directory, a run records the absolute
path (so `evaluate` and `--resume` find it from anywhere), and every "not found" names
the path it tried and where that path came from."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnndsl.cli import main
from cnndsl.ir.train_section import TrainConfig
from cnndsl.train.options import resolve_settings

pytestmark = pytest.mark.slow

TINY = "model Tiny\ninput 1x8x8\nconv 4 k3 -> relu -> fc 2\n"
FLAGS = ["--epochs", "1", "--batch", "4", "--workers", "0", "--progress", "plain"]


def grey_folders(root: Path, n: int = 4) -> None:
    """Two class folders of 8x8 grey images: `b` brighter than `a`."""
    rng = np.random.default_rng(0)
    for label, name in enumerate(["a", "b"]):
        (root / name).mkdir(parents=True)
        for i in range(n):
            pixels = rng.integers(0, 60, (8, 8)) + 120 * label
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{i}.png")


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def recorded(run_dir: Path) -> dict:
    return json.loads((run_dir / "config.json").read_text())["settings"]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """`proj/spec.cnn` naming `./imgs` beside it; the working directory is elsewhere."""
    proj = tmp_path / "proj"
    grey_folders(proj / "imgs")
    (proj / "spec.cnn").write_text(TINY + "train {\n  data folder ./imgs\n}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return proj


def test_a_spec_s_data_folder_is_read_relative_to_the_spec(capsys, project, tmp_path):
    status, _, err = run(capsys, "train", project / "spec.cnn", "--out", tmp_path / "run",
                         *FLAGS)
    assert status == 0, err
    assert recorded(tmp_path / "run")["data_dir"] == str(project / "imgs")
    assert recorded(tmp_path / "run")["data_path"] == "./imgs"


def test_a_relative_spec_path_is_read_relative_to_the_spec_too(capsys, project, tmp_path,
                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, "train", "proj/spec.cnn", "--out", "run", *FLAGS)
    assert status == 0, err
    assert recorded(tmp_path / "run")["data_dir"] == str(project / "imgs")


def test_the_recorded_absolute_path_lets_evaluate_and_resume_work_from_anywhere(
        capsys, project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, "train", "proj/spec.cnn", "--out", "run", *FLAGS)
    assert status == 0, err
    monkeypatch.chdir(project / "imgs" / "a")
    status, out, err = run(capsys, "evaluate", tmp_path / "run", "--workers", "0")
    assert status == 0, err
    assert "held-out samples" in out
    status, _, err = run(capsys, "train", project / "spec.cnn", "--resume", "--out",
                         tmp_path / "run", *FLAGS[:1], "2", *FLAGS[2:])
    assert status == 0, err


def test_data_dir_on_the_command_line_is_relative_to_the_working_directory(
        capsys, project, tmp_path, monkeypatch):
    monkeypatch.chdir(project)
    (project / "spec.cnn").write_text(TINY + "train { data folder ./nowhere }\n")
    status, _, err = run(capsys, "train", "spec.cnn", "--data-dir", "imgs", "--out",
                         tmp_path / "run", *FLAGS)
    assert status == 0, err
    assert recorded(tmp_path / "run")["data_dir"] == str(project / "imgs")


def test_a_missing_spec_folder_names_the_path_tried_and_the_spec_line(capsys, project,
                                                                      tmp_path):
    (project / "spec.cnn").write_text(TINY + "train {\n  epochs 1\n  data folder ./gone\n}\n")
    status, out, err = run(capsys, "train", project / "spec.cnn", "--out", tmp_path / "run",
                           *FLAGS)
    assert status == 1 and out == ""
    assert str(project / "gone") in err
    assert "`train { data folder ./gone }` at line 6" in err, err
    assert "internal error" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_a_missing_data_dir_names_the_path_tried_and_the_flag(capsys, project, tmp_path):
    status, _, err = run(capsys, "train", project / "spec.cnn", "--data-dir", "gone",
                         "--out", tmp_path / "run", *FLAGS)
    assert status == 1
    assert str(Path.cwd() / "gone") in err and "--data-dir" in err, err


def test_evaluate_names_the_recorded_path_when_the_data_moved(capsys, project, tmp_path):
    status, _, err = run(capsys, "train", project / "spec.cnn", "--out", tmp_path / "run",
                         *FLAGS)
    assert status == 0, err
    (project / "imgs").rename(project / "moved")
    status, _, err = run(capsys, "evaluate", tmp_path / "run", "--workers", "0")
    assert status == 1
    assert str(project / "imgs") in err and "config.json" in err, err
    status, _, err = run(capsys, "evaluate", tmp_path / "run", "--workers", "0",
                         "--data-dir", "nope")
    assert status == 1
    assert str(Path.cwd() / "nope") in err and "--data-dir" in err, err
    status, out, err = run(capsys, "evaluate", tmp_path / "run", "--workers", "0",
                           "--data-dir", project / "moved")
    assert status == 0, err


def test_a_missing_standard_dataset_names_the_default_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.cnn").write_text("model M\ninput 1x28x28\nfc 10\n")
    status, _, err = run(capsys, "train", "m.cnn", "--data", "mnist", "--out", "run", *FLAGS)
    assert status == 1
    assert str(tmp_path / "data") in err and "default" in err, err


def _args(**given) -> argparse.Namespace:
    from cnndsl.train.options import add_train_arguments

    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    args = parser.parse_args([])
    for key, value in given.items():
        setattr(args, key, value)
    return args


def test_a_spec_given_as_text_reads_its_data_path_from_the_working_directory(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = TrainConfig(data="folder", data_path="./x")
    assert resolve_settings(_args(), spec).data_dir == str(tmp_path / "x")
    assert resolve_settings(_args(spec_dir=str(tmp_path / "p")), spec).data_dir == \
        str(tmp_path / "p" / "x")
    assert resolve_settings(_args(spec_dir=str(tmp_path / "p"), data_dir="d"), spec) \
        .data_dir == str(tmp_path / "d")


def test_a_folder_without_class_folders_names_where_its_path_came_from(capsys, project,
                                                                       tmp_path):
    (project / "flat").mkdir()
    (project / "spec.cnn").write_text(TINY + "train { data folder ./flat }\n")
    status, _, err = run(capsys, "train", project / "spec.cnn", "--out", tmp_path / "run",
                         *FLAGS)
    assert status == 1 and "holds no class folders" in err
    assert "named by `train { data folder ./flat }` at line 4" in err, err
