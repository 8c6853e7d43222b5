"""Image folders streamed through workers, segmentation on a synthetic shapes set,
and `predict`/`evaluate` from a run folder alone (the spec file deleted)."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from test_train_data import bomb_png

from cnndsl.cli import main

pytestmark = pytest.mark.slow

#: the segmenter trained here: a small U-Net, one level down and up, the skip by label
SEGMENTER = """model ShapesUNet
input 3x32x32
block Double(c) { conv c k3 p1 nobias -> bn -> relu -> conv c k3 p1 nobias -> bn -> relu }
Double(16) as e1 -> maxpool 2
-> Double(32)
-> convt 16 k2 s2 -> concat(@e1, identity) -> Double(16)
-> conv 3 k1
"""
CLASSIFIER = "model Stripes\ninput 3x16x16\nconv 8 k3 p1 -> relu -> maxpool 2 -> fc 3\n"


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def metrics(out) -> list[dict]:
    with (out / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


def stripes(root, n: int, seed: int) -> None:
    """Three classes: a bright band at the top, middle or bottom of noise."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        label = i % 3
        image = rng.integers(0, 80, (16, 16, 3)).astype(np.uint8)
        image[label * 5: label * 5 + 5] = 230
        folder = root / ["top", "middle", "bottom"][label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i}.png")


def shapes(root, n: int, seed: int) -> None:
    """Noise with a reddish disc (class 1) and a bluish square (class 2)."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:32, :32]
    for i in range(n):
        image = rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)
        cy, cx, r = *rng.integers(8, 24, 2), rng.integers(4, 8)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        y0, x0 = rng.integers(0, 24, 2)
        square = np.zeros_like(disc)
        square[y0:y0 + 8, x0:x0 + 8] = True
        square &= ~disc
        mask = np.zeros((32, 32), np.uint8)
        mask[disc], mask[square] = 1, 2
        image[disc] = image[disc] // 4 + np.array([190, 30, 30], np.uint8)
        image[square] = image[square] // 4 + np.array([30, 30, 190], np.uint8)
        Image.fromarray(image).save(root / "images" / f"{i:03d}.png")
        Image.fromarray(mask).save(root / "masks" / f"{i:03d}.png")


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("stripes")
    stripes(root / "imgs", 90, 0)
    (root / "imgs" / "top" / "bomb.png").write_bytes(bomb_png())
    (root / "imgs" / "middle" / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    spec = root / "stripes.cnn"
    spec.write_text(CLASSIFIER)
    status = main(["train", str(spec), "--data", "folder", "--data-dir", str(root / "imgs"),
                   "--epochs", "4", "--lr", "0.01", "--batch", "16", "--workers", "1",
                   "--augment", "flip", "--schedule", "cosine", "--warmup", "1",
                   "--out", str(root / "run"), "--progress", "plain"])
    assert status == 0
    spec.unlink()        # predict and evaluate need only the run folder
    return root


def test_a_streamed_folder_trains_and_skips_unreadable_files(classifier_run):
    rows = metrics(classifier_run / "run")
    assert len(rows) == 4 and float(rows[-1]["test_acc"]) > 0.8
    lrs = [float(r["lr"]) for r in rows]
    assert lrs[0] < lrs[1] and lrs[1] > lrs[2] > lrs[3]      # warm-up, then cosine decay
    record = json.loads((classifier_run / "run" / "config.json").read_text())
    assert record["classes"] == ["bottom", "middle", "top"]
    assert len(record["normalisation"]["mean"]) == 3


def test_unreadable_files_are_counted_and_the_first_named(capsys, classifier_run, tmp_path):
    status, _, err = run(capsys, "evaluate", str(classifier_run / "run"), "--data-dir",
                         str(classifier_run / "imgs"), "--all", "--workers", "0",
                         "--confusion", str(tmp_path / "c.png"))
    assert status == 0
    assert "skipped 2 unreadable file(s)" in _ + err
    assert "bomb.png: a decompression bomb" in _ + err or "cut.png" in _ + err


def test_predict_from_the_run_folder(capsys, classifier_run, tmp_path):
    stripes(tmp_path / "new", 3, 9)
    pictures = sorted(str(p) for p in (tmp_path / "new").rglob("*.png"))
    status, out, err = run(capsys, "predict", str(classifier_run / "run"), *pictures,
                           "--top", "2")
    assert status == 0, err
    header, *rows = out.strip().split("\n")      # one row per image
    assert header.split() == ["image", "top-1", "top-2"] and len(rows) == 3
    for row, picture in zip(rows, pictures):
        image, best, share, *_ = row.split()
        assert image == picture and best == picture.split("/")[-2] and share.endswith("%")


def test_evaluate_prints_top1_top5_and_draws_the_confusion_matrix(capsys, classifier_run):
    status, out, err = run(capsys, "evaluate", str(classifier_run / "run"), "--workers", "0")
    assert status == 0, err
    assert "top-1" in out and "held-out samples" in out
    assert float(out.split("top-1 ")[1].split("%")[0]) > 80
    png = classifier_run / "run" / "confusion.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_segmenter_reaches_a_high_iou(capsys, tmp_path):
    shapes(tmp_path / "shapes", 120, 0)
    spec = tmp_path / "seg.cnn"
    spec.write_text(SEGMENTER)
    status, _, err = run(capsys, "train", str(spec), "--data", "segmentation", "--data-dir",
                         str(tmp_path / "shapes"), "--epochs", "6", "--batch", "16", "--lr",
                         "0.01", "--workers", "0", "--out", str(tmp_path / "r"),
                         "--progress", "plain")
    assert status == 0, err
    rows = metrics(tmp_path / "r")
    assert float(rows[-1]["test_miou"]) > 0.8 and float(rows[-1]["test_acc"]) > 0.9
    picture = str(tmp_path / "shapes" / "images" / "000.png")
    status, out, err = run(capsys, "predict", str(tmp_path / "r"), picture, "--masks",
                           str(tmp_path / "masks"))
    assert status == 0, err
    written = np.asarray(Image.open(tmp_path / "masks" / "000.mask.png"))
    truth = np.asarray(Image.open(tmp_path / "shapes" / "masks" / "000.png"))
    assert (written == truth).mean() > 0.9
    status, out, err = run(capsys, "evaluate", str(tmp_path / "r"), "--workers", "0")
    assert status == 0 and "mean IoU" in out


def test_the_data_dir_flag_wins_over_the_spec_s_path(capsys, tmp_path):
    stripes(tmp_path / "imgs", 12, 1)
    spec = tmp_path / "stripes.cnn"
    spec.write_text(CLASSIFIER + f"train {{ data folder \"{tmp_path / 'nowhere'}\" }}\n")
    status, _, err = run(capsys, "train", str(spec), "--data-dir", str(tmp_path / "imgs"),
                         "--epochs", "1", "--out", str(tmp_path / "run"), "--progress", "plain")
    assert status == 0, err
    settings = json.loads((tmp_path / "run" / "config.json").read_text())["settings"]
    assert settings["data_dir"] == str(tmp_path / "imgs")


#: one rank of a two-process group, as torchrun starts it (RANK, WORLD_SIZE, MASTER_*):
#: it runs `cnndsl train` once per (port, argv) and prints each exit status, so that the
#: two processes import torch once for several runs; then it leaves without tearing down
#: its heap (after a Gloo group, that took seconds)
RANK = """
import json, os, sys
from cnndsl.cli import main
for port, argv in json.loads(sys.argv[1]):
    os.environ["MASTER_PORT"] = str(port)
    print("=== run", file=sys.stderr, flush=True)
    print("status", main(argv), flush=True)
sys.stderr.flush()
os._exit(0)
"""


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def two_ranks(tmp_path, *argvs) -> list[list[tuple[int, str]]]:
    """Each `cnndsl train` argv run by two processes joined as torchrun joins its
    children: per run, (exit status, stderr) of rank 0 and of rank 1."""
    runs = json.dumps(list(zip(_free_ports(len(argvs)), argvs)))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WORLD_SIZE": "2",
           "MASTER_ADDR": "127.0.0.1"}
    procs, logs = [], []
    try:
        for rank in range(2):
            logs.append((tmp_path / f"rank{rank}.out", tmp_path / f"rank{rank}.err"))
            with logs[-1][0].open("w") as out, logs[-1][1].open("w") as err:
                procs.append(subprocess.Popen(
                    [sys.executable, "-c", RANK, runs], stdout=out, stderr=err,
                    env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)}))
        codes = [proc.wait(timeout=240) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    texts = [(out.read_text(), err.read_text()) for out, err in logs]
    assert codes == [0, 0], texts
    results = []
    for out, err in texts:
        statuses = [int(line.split()[1]) for line in out.splitlines()
                    if line.startswith("status ")]
        results.append(list(zip(statuses, err.split("=== run\n")[1:], strict=True)))
    return [list(pair) for pair in zip(*results, strict=True)]


def test_a_rank_whose_batch_is_all_unreadable_still_joins_the_gradients(tmp_path):
    """Under torchrun, every rank's backward all-reduces the gradients: a rank that skipped
    its step because its whole share of the batch was unreadable left the others waiting."""
    stripes(tmp_path / "imgs", 12, 0)
    for i in range(6):     # one sample a rank a step: some step is unreadable on one rank only
        (tmp_path / "imgs" / "top" / f"cut{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 9)
    spec = tmp_path / "stripes.cnn"
    spec.write_text(CLASSIFIER)
    common = ["train", str(spec), "--data", "folder", "--data-dir", str(tmp_path / "imgs"),
              "--workers", "0", "--epochs", "1", "--progress", "plain"]
    done, refused = two_ranks(tmp_path, [*common, "--batch", "2", "--out", str(tmp_path / "run")],
                              [*common, "--batch", "1", "--out", str(tmp_path / "one")])
    assert [status for status, _ in done] == [0, 0], done
    assert "unreadable file(s)" in done[0][1]
    row = metrics(tmp_path / "run")[-1]
    assert float(row["samples_per_s"]) > 0 and float(row["train_loss"]) > 0
    for status, err in refused:     # each rank refuses, with no traceback of its own
        assert status == 1 and "internal error" not in err and "Traceback" not in err, err
        assert "--batch 1 is the global batch, shared by 2 processes" in err
    assert not (tmp_path / "one").exists()


def test_more_scores_than_classes_are_warned_about(capsys, tmp_path):
    stripes(tmp_path / "imgs", 12, 0)
    spec = tmp_path / "wide.cnn"
    spec.write_text("input 3x16x16\nconv 4 k3 p1 -> relu -> fc 10\n")
    status, _, err = run(capsys, "train", str(spec), "--data", "folder", "--data-dir",
                         str(tmp_path / "imgs"), "--epochs", "1", "--workers", "0",
                         "--out", str(tmp_path / "run"), "--progress", "plain")
    assert status == 0
    assert ("warning: the network outputs 10 scores, but folder has 3 class(es): 7 of the "
            "scores are never a target (end with `fc 3`)") in err
