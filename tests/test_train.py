"""Short CPU training runs on the built-in digits and on small fixtures in the
standard dataset formats; checkpoints, exact resume, SIGKILL, torchrun (Gloo).

`cnndsl train` runs in this process (`cli`) unless a process is what is tested
(a SIGKILL, torchrun); a generated module runs as a script in this process too
(`script_in_process`); the digits run that several tests read is trained once
(`digits_run`)."""

from __future__ import annotations

import csv
import gzip
import os
import pickle
import runpy
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, Ran, cnndsl_in_process, in_process

pytestmark = pytest.mark.slow
COLUMNS = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds",
           "samples_per_s", "lr", "test_top5"]


def train(cli, *args, cwd=ROOT, check=True):
    done = cli("train", *args, "--progress", "plain", cwd=cwd)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """specs/mnist_net.cnn, 2 epochs on digits with the defaults: (run folder, stderr)."""
    out = tmp_path_factory.mktemp("digits") / "run"
    done = train(cnndsl_in_process, "specs/mnist_net.cnn", "--epochs", "2", "--out", str(out))
    return out, done.stderr


def script_in_process(script: Path, *args, cwd: Path) -> Ran:
    """`python SCRIPT ARGS...` run in this process, from `cwd`: a compiled module's
    `__main__`, its output captured (`conftest.in_process`)."""
    argv = [str(script), *map(str, args)]

    def run() -> None:
        saved = sys.argv
        sys.argv = argv
        try:
            runpy.run_path(str(script), run_name="__main__")
        finally:
            sys.argv = saved

    return in_process(run, argv, cwd)


def metrics(out: Path) -> list[dict]:
    with (out / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_digits_run_leaves_everything_specified(cli, digits_run):
    out, stderr = digits_run
    assert "adapted to the spec's input 1x28x28" in stderr
    rows = metrics(out)
    assert list(rows[0]) == COLUMNS and [r["epoch"] for r in rows] == ["1", "2"]
    assert float(rows[-1]["test_acc"]) > 0.5          # chance is 0.1
    for name in ("last.pt", "best.pt", "model.py", "config.json", "curves.png"):
        assert (out / name).is_file(), name
    state = torch.load(out / "last.pt")
    assert {"model", "optimizer", "scaler", "rng", "epoch", "spec_hash"} <= set(state)
    assert state["epoch"] == 2
    assert "compiled by cnndsl" in (out / "model.py").read_text().splitlines()[0]
    again = train(cli, "specs/mnist_net.cnn", "--epochs", "1", "--out", str(out),
                  check=False)
    assert again.returncode == 1 and "--resume" in again.stderr


def test_curves_are_drawn_after_the_last_epoch_and_when_the_drawing_is_old(cli, tmp_path,
                                                                           monkeypatch):
    from cnndsl.train import run

    drawn = []
    monkeypatch.setattr(run, "plot_curves", lambda path, rows, title: drawn.append(
        (path.parent.name, [r["epoch"] for r in rows])))
    spec = tmp_path / "net.cnn"
    spec.write_text("input 1x8x8\nconv 4 k3 -> relu -> fc 10\n")
    monkeypatch.setattr(run, "CURVES_EVERY_S", 1e9)
    train(cli, str(spec), "--epochs", "3", "--out", str(tmp_path / "fast"))
    train(cli, str(spec), "--epochs", "4", "--lr", "1e-12", "--patience", "1", "--out",
          str(tmp_path / "stopped"))
    monkeypatch.setattr(run, "CURVES_EVERY_S", 0)
    train(cli, str(spec), "--epochs", "2", "--out", str(tmp_path / "slow"))
    train(cli, str(spec), "--resume", "--epochs", "3", "--out", str(tmp_path / "slow"))
    assert drawn == [("fast", [1, 2, 3]), ("stopped", [1, 2]), ("slow", [1]),
                     ("slow", [1, 2]), ("slow", [1, 2, 3])]


def test_same_seed_same_metrics_and_exact_resume(cli, tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    spec = "specs/lenet_sigmoid.cnn"
    train(cli, spec, "--epochs", "2", "--out", str(full), "--optimizer", "adam")
    train(cli, spec, "--epochs", "1", "--out", str(part), "--optimizer", "adam")
    train(cli, spec, "--epochs", "2", "--out", str(part), "--resume")
    keep = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc"]
    assert [{k: r[k] for k in keep} for r in metrics(full)] == \
        [{k: r[k] for k in keep} for r in metrics(part)]


def test_resume_refuses_a_changed_spec(cli, tmp_path):
    spec = tmp_path / "net.cnn"
    spec.write_text("input 1x8x8\nconv 4 k3 -> relu -> fc 10\n")
    train(cli, str(spec), "--epochs", "1", "--out", str(tmp_path / "r"))
    spec.write_text("input 1x8x8\nconv 8 k3 -> relu -> fc 10\n")
    done = train(cli, str(spec), "--resume", "--out", str(tmp_path / "r"), check=False)
    assert done.returncode == 1 and "spec changed" in done.stderr


def test_sigkill_mid_epoch_leaves_a_loadable_checkpoint(cnndsl_cmd, cli, tmp_path):
    out, spec = tmp_path / "run", tmp_path / "small.cnn"
    spec.write_text("input 1x8x8\nconv 8 k3 p1 -> relu -> conv 8 k3 p1 -> relu -> fc 10\n")
    proc = subprocess.Popen(cnndsl_cmd + ["train", str(spec), "--epochs", "500",
                                          "--out", str(out), "--progress", "plain"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while not (out / "last.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = torch.load(out / "last.pt")
    epoch = state["epoch"]
    assert epoch >= 1
    train(cli, str(spec), "--resume", "--out", str(out), "--epochs", str(epoch + 1))
    assert [int(r["epoch"]) for r in metrics(out)] == list(range(1, epoch + 2))


def test_softmax_head_is_left_out_while_training(cli, tmp_path):
    done = train(cli, "specs/lecture_cnn.cnn", "--epochs", "2", "--out",
                 str(tmp_path / "r"))
    assert "ends in `softmax`" in done.stderr
    assert float(metrics(tmp_path / "r")[-1]["test_acc"]) > 0.3


def test_oversized_model_is_refused_before_allocating(cli, tmp_path):
    spec = tmp_path / "huge.cnn"
    spec.write_text("input 1x8x8\nfc 200000 -> fc 200000 -> fc 10\n")
    done = train(cli, str(spec), "--out", str(tmp_path / "r"), check=False)
    assert done.returncode == 1 and "GiB" in done.stderr and "40,015,200,010" in done.stderr


def test_incompatible_data_is_a_clear_error(cli, tmp_path):
    done = train(cli, "specs/ecg1d.cnn", "--out", str(tmp_path / "r"), check=False)
    assert done.returncode == 1
    assert "1x187" in done.stderr and "1x8x8" in done.stderr
    assert "Traceback" not in done.stderr


# ---- standard formats, as small generated fixtures -----------------------------------------

def _images(n: int, shape, seed: int):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 60, (n, *shape)).astype(np.uint8)
    for i, label in enumerate(labels):   # a learnable pattern: a bright band per class
        images[i, ..., label * 2: label * 2 + 3, :] = 250
    return images, labels


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def mnist_dir(tmp_path):
    root = tmp_path / "data" / "MNIST" / "raw"
    root.mkdir(parents=True)
    for split, n, seed in (("train", 300, 1), ("t10k", 100, 2)):
        images, labels = _images(n, (28, 28), seed)
        _write_idx(root / f"{split}-images-idx3-ubyte.gz", images)
        _write_idx(root / f"{split}-labels-idx1-ubyte.gz", labels)
    return tmp_path / "data"


def test_mnist_idx_files(cli, tmp_path, mnist_dir):
    train(cli, "specs/mnist_net.cnn", "--data", "mnist", "--data-dir", str(mnist_dir),
          "--epochs", "3", "--out", str(tmp_path / "r"))
    assert float(metrics(tmp_path / "r")[-1]["test_acc"]) > 0.3


def test_malformed_idx_file_is_named(cli, tmp_path, mnist_dir):
    bad = mnist_dir / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(bad, "wb") as handle:
        handle.write(b"\x00\x00\x08\x01\x00\x00\x00\x64" + b"\x01" * 10)
    done = train(cli, "specs/mnist_net.cnn", "--data", "mnist", "--data-dir",
                 str(mnist_dir), "--out", str(tmp_path / "r"), check=False)
    assert done.returncode == 1 and "t10k-labels-idx1-ubyte.gz" in done.stderr
    assert "truncated" in done.stderr


def test_missing_dataset_names_the_files(cli, tmp_path):
    done = train(cli, "specs/mnist_net.cnn", "--data", "fashion-mnist", "--data-dir",
                 str(tmp_path), "--out", str(tmp_path / "r"), check=False)
    assert done.returncode == 1 and "train-images-idx3-ubyte" in done.stderr


def test_cifar10_python_batches(cli, tmp_path):
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for seed, name in enumerate(names):
        images, labels = _images(60, (3, 32, 32), seed)
        with (root / name).open("wb") as handle:   # read opcode by opcode, never unpickled
            pickle.dump({b"data": images.reshape(60, -1), b"labels": labels.tolist()}, handle)
    train(cli, "specs/cifar10_net.cnn", "--data-dir", str(tmp_path), "--epochs", "2",
          "--batch", "16", "--out", str(tmp_path / "r"))
    assert len(metrics(tmp_path / "r")) == 2


def test_image_folder_streams_with_workers_and_resumes_exactly(cli, tmp_path):
    from PIL import Image

    images, labels = _images(80, (16, 16), 3)
    for i, (image, label) in enumerate(zip(images, labels)):
        folder = tmp_path / "imgs" / f"class{label % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).convert("RGB").save(folder / f"{i}.png")
    common = ["--data", "folder", "--data-dir", str(tmp_path / "imgs"), "--workers", "2",
              "--augment", "flip,crop=2", "--batch", "16"]
    done = train(cli, "specs/lenet.cnn", *common, "--epochs", "2", "--out",
                 str(tmp_path / "full"))
    assert "held out for validation" in done.stderr
    train(cli, "specs/lenet.cnn", *common, "--epochs", "1", "--out", str(tmp_path / "p"))
    train(cli, "specs/lenet.cnn", "--resume", "--epochs", "2", "--out",
          str(tmp_path / "p"))
    keep = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc"]
    assert [{k: r[k] for k in keep} for r in metrics(tmp_path / "full")] == \
        [{k: r[k] for k in keep} for r in metrics(tmp_path / "p")]


def test_generated_module_trains_itself(cli, tmp_path):
    assert cli("compile", "specs/mnist_net.cnn", "-o", tmp_path / "mnist_net.py",
               cwd=ROOT).returncode == 0
    done = script_in_process(tmp_path / "mnist_net.py", "--epochs", "2", "--out",
                             tmp_path / "r", "--progress", "plain", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(metrics(tmp_path / "r")) == 2


def test_torchrun_two_processes_with_gloo(digits_run, tmp_path):
    single, double = digits_run[0], tmp_path / "two"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node=2", "-m", "cnndsl", "train", "specs/mnist_net.cnn",
                           "--epochs", "2", "--out", str(double), "--progress", "plain"],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "x 2 processes" in done.stderr
    assert done.stderr.count("epoch 2/2") == 1          # only rank 0 logs
    one, two = metrics(single), metrics(double)         # a constant rate: epochs 1-2 alike
    assert len(two) == 2
    assert abs(float(one[-1]["test_acc"]) - float(two[-1]["test_acc"])) < 0.03
    assert abs(float(one[-1]["train_loss"]) / float(two[-1]["train_loss"]) - 1) < 0.1


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_amp_run(cli, tmp_path):
    done = train(cli, "specs/mnist_net.cnn", "--device", "cuda", "--epochs", "2",
                 "--out", str(tmp_path / "r"))
    assert "autocast" in done.stderr


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_channels_last_and_compile(cli, tmp_path):
    done = train(cli, "specs/mnist_net.cnn", "--device", "cuda", "--epochs", "2",
                 "--channels-last", "--compile", "--out", str(tmp_path / "r"))
    assert "autocast" in done.stderr and "not used" not in done.stderr
    assert float(metrics(tmp_path / "r")[-1]["test_acc"]) > 0.5


def test_sigkill_with_loader_workers_running_resumes(cnndsl_cmd, cli, tmp_path):
    from PIL import Image

    images, labels = _images(96, (28, 28), 5)
    for i, (image, label) in enumerate(zip(images, labels)):
        folder = tmp_path / "imgs" / f"class{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i}.png")
    out = tmp_path / "run"
    command = ["specs/mnist_net.cnn", "--data", "folder", "--data-dir", str(tmp_path / "imgs"),
               "--workers", "2", "--batch", "8", "--out", str(out)]
    proc = subprocess.Popen(cnndsl_cmd + ["train", *command, "--epochs", "500", "--progress",
                                          "plain"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while not (out / "last.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    epoch = torch.load(out / "last.pt")["epoch"]
    train(cli, "specs/mnist_net.cnn", "--resume", "--out", str(out), "--epochs",
          str(epoch + 1))
    assert [int(r["epoch"]) for r in metrics(out)] == list(range(1, epoch + 2))


@pytest.mark.parametrize("text, says", [
    ("input image 1x8x8\ninput depth 1x8x8\nconv 4 k3 p1 -> concat(@depth, identity) -> fc 2\n",
     "this one has 2 and 1"),
    ("input 1x8x8\nconv 4 k3 p1 as a -> fc 2\noutput @a -> gap -> fc 2, @a -> fc 3\n",
     "this one has 1 and 2"),
])
def test_train_refuses_several_inputs_or_outputs(cli, tmp_path, text, says):
    spec = tmp_path / "net.cnn"
    spec.write_text(text)
    done = cli("train", str(spec), "--epochs", "1", "--out", str(tmp_path / "run"))
    assert done.returncode == 1 and says in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()
