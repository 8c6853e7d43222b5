"""`cnndsl train --init WEIGHTS` (strict) and `--init-partial` (fine-tuning a new head):
what is loaded, what is refused before any folder is made, what config.json records."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

from cnndsl.cli import main

#: a small network at the digits' own size (1x8x8), so each run takes a second or two
SMALL = """model Small
input 1x8x8
conv 8 k3 p1 -> relu -> maxpool 2
-> conv 16 k3 p1 -> relu
-> fc 10
"""
#: the same trunk with another head: fc1 changes shape, fc2 is new
NEW_HEAD = SMALL.replace("-> fc 10", "-> fc 32 -> relu -> fc 10")


def train(capsys, spec, out, *args) -> tuple[int, str]:
    status = main(["train", str(spec), "--epochs", "1", "--out", str(out), "--progress",
                   "plain", *map(str, args)])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    return status, err


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    spec = tmp_path_factory.mktemp("spec") / "small.cnn"
    spec.write_text(SMALL)
    return spec


@pytest.fixture(scope="module")
def source_run(tmp_path_factory, small):
    out = tmp_path_factory.mktemp("source") / "r"
    assert main(["train", str(small), "--epochs", "1", "--out", str(out), "--progress",
                 "plain"]) == 0
    return out


@pytest.fixture
def head(tmp_path):
    spec = tmp_path / "head.cnn"
    spec.write_text(NEW_HEAD)
    return spec


def _weights(path):
    state = torch.load(path, weights_only=True)
    return state.get("model", state)


def test_init_starts_from_the_weights(tmp_path, capsys, small, source_run):
    best = source_run / "best.pt"
    out = tmp_path / "r"
    # a learning rate far too small to move anything: the run's weights are the file's
    status, err = train(capsys, small, out, "--init", best, "--lr", "1e-30",
                        "--optimizer", "sgd")
    assert status == 0, err
    assert f"--init: 6 of the network's 6 tensors from `{best}`" in err
    start, end = _weights(best), _weights(out / "best.pt")
    for key in start:
        torch.testing.assert_close(end[key], start[key])
    record = json.loads((out / "config.json").read_text())
    assert record["init"] == {"path": str(best), "partial": False, "loaded": 6, "skipped": [],
                              "sha256": hashlib.sha256(best.read_bytes()).hexdigest()}


def test_a_plain_state_dict_and_a_wrapped_one(tmp_path, capsys, small, source_run):
    state = _weights(source_run / "best.pt")
    torch.save(state, tmp_path / "plain.pt")
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 9},
               tmp_path / "wrapped.pth")
    for i, name in enumerate(("plain.pt", "wrapped.pth")):
        status, err = train(capsys, small, tmp_path / f"r{i}", "--init", tmp_path / name)
        assert status == 0 and "6 of the network's 6 tensors" in err, err


def test_mismatched_weights_are_refused_before_any_folder(tmp_path, capsys, head,
                                                         source_run):
    out = tmp_path / "r"
    status, err = train(capsys, head, out, "--init", source_run / "best.pt")
    assert status == 1 and not out.exists()
    assert err.count("\n") == 1 and err.startswith("error: --init: ")
    assert "does not fit the network; missing `fc2.weight`, `fc2.bias`; shape `fc1.weight` " \
           "10x256 in the file, 32x256 in the network, `fc1.bias` 10 in the file, 32 in the " \
           "network; pass --init-partial to load only what matches" in err


def test_partial_loads_the_trunk_and_lists_the_rest(tmp_path, capsys, head, source_run):
    out = tmp_path / "r"
    status, err = train(capsys, head, out, "--init", source_run / "best.pt", "--init-partial",
                        "--lr", "1e-30", "--optimizer", "sgd")
    assert status == 0, err
    assert "--init: 4 of the network's 8 tensors" in err
    assert ("--init-partial skipped `fc2.weight` (not in the file); `fc2.bias` (not in the "
            "file); `fc1.weight` (10x256 in the file, 32x256 in the network); `fc1.bias` (10 in "
            "the file, 32 in the network)") in err
    start, end = _weights(source_run / "best.pt"), _weights(out / "best.pt")
    for key in ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"):
        torch.testing.assert_close(end[key], start[key])
    record = json.loads((out / "config.json").read_text())["init"]
    assert record["partial"] is True and record["loaded"] == 4 and len(record["skipped"]) == 4


def test_nothing_in_common_is_refused_even_partially(tmp_path, capsys, small):
    torch.save({"other.weight": torch.ones(3)}, tmp_path / "w.pt")
    status, err = train(capsys, small, tmp_path / "r", "--init", tmp_path / "w.pt",
                        "--init-partial")
    assert status == 1 and "nothing to load" in err and not (tmp_path / "r").exists()


@pytest.mark.parametrize("make,says", [
    (lambda p: torch.save(torch.nn.Linear(2, 2), p), "holds more than tensors and plain data"),
    (lambda p: p.write_bytes(b"garbage"), "not a readable PyTorch file"),
    (lambda p: torch.save({"epoch": 3}, p), "holds no state_dict"),
    (lambda p: None, "cannot read"),
])
def test_unusable_files_are_one_line(tmp_path, capsys, small, make, says):
    make(tmp_path / "w.pt")
    status, err = train(capsys, small, tmp_path / "r", "--init", tmp_path / "w.pt")
    assert status == 1 and says in err and err.count("\n") == 1, err
    assert not (tmp_path / "r").exists()


def test_init_and_resume_do_not_mix(tmp_path, capsys, small, source_run):
    status, err = train(capsys, small, source_run, "--init", source_run / "best.pt",
                        "--resume")
    assert status == 1 and "--init starts a new run from weights, --resume continues" in err
    status, err = train(capsys, small, tmp_path / "r", "--init-partial")
    assert status == 1 and "--init-partial goes with --init WEIGHTS" in err


def test_a_run_started_from_weights_resumes_and_keeps_its_record(tmp_path, capsys, small,
                                                                 source_run):
    out = tmp_path / "r"
    assert train(capsys, small, out, "--init", source_run / "best.pt")[0] == 0
    status, err = train(capsys, small, out, "--resume", "--epochs", "2")
    assert status == 0, err
    record = json.loads((out / "config.json").read_text())
    assert record["init"]["path"] == str(source_run / "best.pt") and len(record["resumes"]) == 1
