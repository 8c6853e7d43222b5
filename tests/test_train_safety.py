"""Run folders and checkpoints as a careless or hostile user meets them: planted
pickles, two runs on one folder, stale temporaries, CRLF specs, damaged folders,
contradicting flags on resume, failed starts, Ctrl-C, a lone last batch."""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
import signal
import subprocess
import time

import pytest
import torch
from conftest import cnndsl_in_process
from test_train import script_in_process

from cnndsl.cli import main
from cnndsl.train.folder import RunFolder

pytestmark = pytest.mark.slow
TINY = "model Tiny\ninput 1x8x8\nconv 4 k3 -> relu -> fc 10\n"


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.cnn").write_text(TINY)
    return tmp_path / "tiny.cnn"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """`train tiny.cnn --epochs 1 --out r`, once: the run folder `trained` copies."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "tiny.cnn").write_text(TINY)
    done = cnndsl_in_process("train", "tiny.cnn", "--epochs", "1", "--out", "r", "--progress",
                             "plain", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "r"


@pytest.fixture
def trained(tiny, tiny_run):
    """`r/` beside `tiny`: its one-epoch run, as `train tiny --epochs 1 --out r` leaves it."""
    shutil.copytree(tiny_run, tiny.parent / "r")
    return tiny.parent / "r"


def train(capsys, spec, *flags):
    try:
        status = main(["train", str(spec), "--progress", "plain", *flags])
    except SystemExit as exc:
        status = exc.code
    return status, capsys.readouterr().err


class Planted:
    """Unpickling this creates a file: the proof that a checkpoint ran code."""

    def __init__(self, proof):
        self.proof = str(proof)

    def __reduce__(self):
        return (open, (self.proof, "w"))


@pytest.mark.parametrize("how", ["torch.save", "raw pickle"])
def test_a_planted_checkpoint_never_runs(capsys, tiny, trained, tmp_path, how):
    import pickle

    proof = tmp_path / "proof.txt"
    state = torch.load("r/last.pt")            # plain torch.load: weights_only by default
    state["metrics"] = [Planted(proof)]
    if how == "torch.save":
        torch.save(state, "r/last.pt")
    else:
        (tmp_path / "r" / "last.pt").write_bytes(pickle.dumps(state))
    status, err = train(capsys, tiny, "--resume", "--out", "r", "--epochs", "2")
    assert status == 1 and not proof.exists()
    assert "refusing to load it" in err and err.count("\n") == 1


def test_checkpoints_load_with_plain_torch_load(capsys, tiny):
    assert train(capsys, tiny, "--epochs", "1", "--out", "r", "--ema", "0.9")[0] == 0
    for name in ("last.pt", "best.pt"):
        state = torch.load(f"r/{name}")
        assert state["epoch"] == 1 and state["classes"] == [str(i) for i in range(10)]
        assert set(state["normalisation"]) == {"mean", "std"}
    assert torch.load("r/best.pt")["weights"] == "ema"


def test_the_record_holds_what_inference_needs(tiny, trained):
    record = json.loads((tiny.parent / "r" / "config.json").read_text())
    assert record["classes"] == [str(i) for i in range(10)]
    assert record["normalisation"]["from"] == "the training split, once"
    assert len(record["normalisation"]["mean"]) == 1
    assert record["cnndsl"] and record["device"] == "cpu" and record["precision"] == "float32"
    assert record["command"] and record["spec_text"] == TINY
    assert record["preprocess"] == {"mode": "L", "size": [8, 8], "scale": 255}


def test_a_locked_run_folder_refuses_a_second_run(capsys, tiny, tmp_path):
    (tmp_path / "r").mkdir()
    holder = RunFolder(tmp_path / "r", False)
    holder.lock()
    try:
        status, err = train(capsys, tiny, "--epochs", "1", "--out", "r")
    finally:
        holder.release()
    assert status == 1 and "in use by another cnndsl train run" in err
    assert [p.name for p in (tmp_path / "r").iterdir()] == []  # released: no .lock


def test_two_processes_on_one_folder_one_refuses(tiny, tmp_path, cnndsl_cmd):
    command = cnndsl_cmd + ["train", str(tiny), "--epochs", "1", "--out", "r",
                            "--progress", "plain"]
    runs = [subprocess.Popen(command, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outcomes = sorted((p.wait(timeout=300), p.stderr.read()) for p in runs)
    assert outcomes[0][0] == 0 and outcomes[1][0] == 1
    assert "in use by another" in outcomes[1][1] or "already holds a run" in outcomes[1][1]


def test_stale_temporaries_are_removed_on_resume(capsys, tiny, trained, tmp_path):
    stale = tmp_path / "r" / ".last.pt.k1ll3d.tmp"
    stale.write_bytes(b"half a checkpoint")
    status, err = train(capsys, tiny, "--resume", "--out", "r", "--epochs", "2")
    assert status == 0 and not stale.exists() and ".last.pt.k1ll3d.tmp" in err


def test_a_crlf_spec_resumes_from_its_compiled_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "crlf.cnn"
    spec.write_bytes(TINY.replace("\n", "\r\n").encode())
    assert train(capsys, spec, "--epochs", "1", "--out", "r")[0] == 0
    lf = tmp_path / "lf.cnn"
    lf.write_text(TINY)
    status, err = train(capsys, lf, "--resume", "--out", "r", "--epochs", "2")
    assert status == 0, err
    assert main(["compile", str(spec), "-o", str(tmp_path / "crlf.py")]) == 0
    done = script_in_process(tmp_path / "crlf.py", "--resume", "--out", "r", "--epochs", "3",
                             "--progress", "plain", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "spec changed" not in done.stderr


@pytest.mark.parametrize("damage, words", [
    ("config.json", "not valid JSON"),
    ("last.pt", "not a readable checkpoint"),
    ("last.pt empty", "not a readable checkpoint"),
    ("last.pt list", "not a cnndsl checkpoint"),
])
def test_a_damaged_run_folder_is_one_line(capsys, tiny, trained, tmp_path, damage, words):
    run = tmp_path / "r"
    if damage == "config.json":
        text = (run / "config.json").read_text()
        (run / "config.json").write_text(text[: len(text) // 2])
    elif damage == "last.pt":
        (run / "last.pt").write_bytes(random.Random(0).randbytes(300))
    elif damage == "last.pt empty":
        (run / "last.pt").write_bytes(b"")
    else:
        torch.save([1, 2, 3], run / "last.pt")
    status, err = train(capsys, tiny, "--resume", "--out", "r", "--epochs", "2")
    assert status == 1 and words in err and "Traceback" not in err, err


def test_any_damage_to_a_checkpoint_is_a_checkpoint_error(tmp_path):
    """Damaged bytes stop the unpickler anywhere (an IndexError, a KeyError, struct.error,
    a bad zip...): each is the one-line refusal, never an internal error."""
    from cnndsl.train import checkpoint

    buffer = io.BytesIO()
    torch.save({"model": {"w": torch.ones(3)}, "epoch": 1}, buffer)
    real = buffer.getvalue()
    rng = random.Random(0)
    path = tmp_path / "last.pt"
    for case in range(1500):
        if case % 2:
            data = bytearray(real)
            for _ in range(rng.choice([1, 4, 32])):
                data[rng.randrange(len(data))] = rng.getrandbits(8)
            data = bytes(data[: rng.choice([len(data), rng.randrange(len(data))])])
        else:
            data = (b"\x80\x02" if case % 4 else b"") + rng.randbytes(rng.choice([1, 9, 300]))
        path.write_bytes(data)
        try:
            checkpoint.load(path)
        except checkpoint.CheckpointError:
            continue


def _damaged(tmp_path, where: str, value) -> None:
    """The one-epoch run in `r/` (`trained`), its config.json's `where` (dotted) set to
    `value` (removed when None)."""
    config = tmp_path / "r" / "config.json"
    record = json.loads(config.read_text())
    *path, last = where.split(".")
    held = record
    for key in path:
        held = held[key]
    if value is None:
        del held[last]
    else:
        held[last] = value
    config.write_text(json.dumps(record))


@pytest.mark.parametrize("where, value, words", [
    ("settings.optimizer", "foo", "its setting `optimizer` is not one this cnndsl knows"),
    ("settings.batch", "x", "its setting `batch` is damaged"),
    ("settings.lr", -1, "its setting `lr` is out of range"),
    ("normalisation.std", None, "its `normalisation.std` is missing or damaged"),
])
def test_a_damaged_record_is_one_line_on_resume(capsys, tiny, trained, tmp_path, where, value,
                                                words):
    _damaged(tmp_path, where, value)
    status, err = train(capsys, tiny, "--resume", "--out", "r", "--epochs", "2")
    last = err.splitlines()[-1]
    assert status == 1 and last.startswith("error: ") and words in last, err
    assert "Traceback" not in err


@pytest.mark.parametrize("where, value, words", [
    ("settings.optimizer", "foo", "its setting `optimizer` is not one this cnndsl knows"),
    ("classes", None, "its `classes` is missing or damaged"),
    ("normalisation.mean", "x", "its `normalisation.mean` is missing or damaged"),
    ("preprocess.size", None, "its `preprocess.size` is missing or damaged"),
    ("task", "dance", "its `task` is missing or damaged"),
])
def test_a_damaged_record_is_one_line_on_evaluate(capsys, trained, tmp_path, where, value,
                                                  words):
    _damaged(tmp_path, where, value)
    status = main(["evaluate", "r"])
    err = capsys.readouterr().err
    assert status == 1 and words in err and err.count("\n") == 1, err


def test_resume_keeps_the_recorded_settings_and_says_what_changed(capsys, tiny, tmp_path):
    assert train(capsys, tiny, "--epochs", "1", "--out", "r", "--optimizer", "sgd",
                 "--lr", "0.05", "--momentum", "0.9", "--augment", "crop=1")[0] == 0
    status, err = train(capsys, tiny, "--resume", "--out", "r", "--epochs", "2")
    assert status == 0 and "with sgd lr=0.05" in err
    assert "--epochs 2: changed from 1 on resume" in err
    record = json.loads((tmp_path / "r" / "config.json").read_text())
    assert record["settings"]["augment"] == [["crop", 1]]
    assert record["resumes"][0]["changed"] == {"epochs": [1, 2]}
    status, err = train(capsys, tiny, "--resume", "--out", "r", "--epochs", "3", "--lr", "0.1")
    assert status == 1 and "--lr 0.1 contradicts this run's recorded lr 0.05" in err
    status, err = train(capsys, tiny, "--resume", "--out", "r", "--epochs", "3",
                        "--optimizer", "adam")
    assert status == 1 and "contradicts" in err
    status, err = train(capsys, tiny, "--resume", "--out", "r", "--epochs", "3",
                        "--lr", "0.05", "--momentum", "0.9")
    assert status == 0, err


def test_a_failed_start_leaves_no_folder_for_resume_to_pick(capsys, tiny, tmp_path):
    status, err = train(capsys, tiny, "--data", "mnist", "--data-dir", "nowhere")
    assert status == 1 and "cannot find" in err
    assert not list((tmp_path / "runs").glob("Tiny-*")) if (tmp_path / "runs").exists() \
        else True
    status, err = train(capsys, tiny, "--resume")
    assert status == 1 and "no run of Tiny" in err


def test_a_lone_last_batch_meets_batch_norm(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "bn.cnn"
    spec.write_text("input 1x8x8\nconv 4 k3 -> batchnorm -> relu -> fc 10\n")
    status, err = train(capsys, spec, "--epochs", "1", "--batch", "1436", "--out", "r")
    assert status == 0, err           # digits has 1,437 training samples: 1,436 + 1


def test_batches_of_one_train(capsys, tiny):
    status, err = train(capsys, tiny, "--epochs", "1", "--batch", "1", "--out", "r")
    assert status == 0, err
    with (tiny.parent / "r" / "metrics.csv").open() as handle:
        row = list(csv.DictReader(handle))[-1]
    assert float(row["samples_per_s"]) > 0 and float(row["train_loss"]) > 0


def _wait_for(path, proc, seconds=120):
    deadline = time.time() + seconds
    while not path.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)


@pytest.mark.parametrize("epoch", [1, 2])
def test_ctrl_c_saves_only_completed_epochs(tmp_path, cnndsl_cmd, epoch):
    spec = tmp_path / "slow.cnn"
    spec.write_text("model Slow\ninput 1x28x28\nconv 32 k3 p1 -> relu -> conv 32 k3 p1 -> relu "
                    "-> fc 10\n")
    # Ctrl-C as a terminal sends it: a child of a shell's background job would inherit
    # SIGINT ignored, and Python then installs no KeyboardInterrupt for it
    proc = subprocess.Popen(cnndsl_cmd + ["train", str(spec), "--epochs", "5", "--out", "r",
                                          "--progress", "plain"],
                            cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    if epoch == 1:
        _wait_for(tmp_path / "r" / "model.py", proc)
    else:
        _wait_for(tmp_path / "r" / "last.pt", proc)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 130, err
    if epoch == 1:
        assert "no epoch was completed" in err and not (tmp_path / "r").exists()
    else:
        assert torch.load(tmp_path / "r" / "last.pt")["epoch"] == 1
        assert "holds epoch 1" in err


def test_batches_of_one_over_a_batch_norm_of_one_value_are_refused_first(capsys, tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "bnfc.cnn"
    spec.write_text("input 1x8x8\nconv 4 k3 p1 -> relu\n-> fc 16 -> bn -> relu -> fc 10\n")
    status, err = train(capsys, spec, "--batch", "1", "--out", "r")
    assert status == 1 and err == (
        "error: `bn` on line 3 normalises one value per channel, which batch norm cannot do "
        "over one sample, and --batch 1 gives batches of one: use --batch 2 or more\n")
    assert not (tmp_path / "r").exists()


def test_an_early_stop_is_kept_on_resume_and_ties_keep_the_first_best(capsys, tiny):
    # a learning rate this small leaves every epoch's accuracy equal: a tie from epoch 1 on
    flags = ["--lr", "1e-12", "--patience", "2", "--out", "r"]
    status, err = train(capsys, tiny, "--epochs", "6", *flags)
    assert status == 0 and "early stop" in err, err
    with (tiny.parent / "r" / "metrics.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 3
    assert torch.load(tiny.parent / "r" / "best.pt")["epoch"] == 1
    assert "(epoch 1)" in err
    status, err = train(capsys, tiny, "--resume", *flags[-2:])
    assert status == 0 and "this run stopped early at epoch 3" in err, err
    with (tiny.parent / "r" / "metrics.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 3


def test_resuming_with_fewer_epochs_than_trained_says_how_many_were(capsys, tiny):
    assert train(capsys, tiny, "--epochs", "2", "--out", "r")[0] == 0
    status, err = train(capsys, tiny, "--resume", "--out", "r", "--epochs", "1")
    assert status == 0
    assert err == "already trained 2 epochs; pass --epochs N (N > 2) to train on\n"
    record = json.loads((tiny.parent / "r" / "config.json").read_text())
    assert record["settings"]["epochs"] == 2 and "resumes" not in record


def test_a_warm_up_as_long_as_the_run_is_warned_about(capsys, tiny):
    status, err = train(capsys, tiny, "--epochs", "1", "--warmup", "2", "--out", "r")
    assert status == 0 and ("warning: the warm-up (2 epochs) is as long as the run (1 epoch): "
                            "the learning rate never reaches 0.001") in err
    status, err = train(capsys, tiny, "--epochs", "2", "--warmup", "1", "--out", "r2")
    assert status == 0 and "warm-up" not in err


def test_an_out_folder_holding_files_is_refused_without_a_trace(capsys, tiny):
    mine = tiny.parent / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    status, err = train(capsys, tiny, "--epochs", "1", "--out", "mine")
    assert status == 1 and "already holds a run" in err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]     # no .lock left in it
