"""`cnndsl evaluate`'s report: per-class precision, recall, F1 and support, macro and
weighted averages (against hand-computed values), top-5 only with more than five classes,
and `per_class.csv` beside `confusion.png`, never written over a file it did not write."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from test_predict_report import run, train_segmenter

from cnndsl.train.scores import scores

# rows: the true class; columns: the predicted one. `c` is never predicted, `d` neither
# occurs nor is predicted, `e` has no samples but is predicted once.
CONFUSION = torch.tensor([[3, 1, 0, 0, 1],
                          [1, 2, 0, 0, 0],
                          [0, 2, 0, 0, 0],
                          [0, 0, 0, 0, 0],
                          [0, 0, 0, 0, 0]])
CLASSES = ["a", "b", "c", "d", "e"]


def test_per_class_scores_are_the_hand_computed_ones():
    s = scores(CONFUSION, CLASSES)
    assert s.precision.tolist() == pytest.approx([3 / 4, 2 / 5, 0, 0, 0])
    assert s.recall.tolist() == pytest.approx([3 / 5, 2 / 3, 0, 0, 0])
    assert s.f1.tolist() == pytest.approx([2 / 3, 1 / 2, 0, 0, 0])
    assert s.iou.tolist() == pytest.approx([3 / 6, 2 / 6, 0, 0, 0])
    assert s.support.tolist() == [5, 3, 2, 0, 0]
    assert not any(torch.isnan(v).any() for v in (s.precision, s.recall, s.f1, s.iou))


def test_macro_is_over_the_classes_that_occur_and_weighted_is_by_support():
    s = scores(CONFUSION, CLASSES)
    # `d` is left out of the macro average: it is neither in the data nor predicted
    assert s.macro["precision"] == pytest.approx((3 / 4 + 2 / 5) / 4)
    assert s.macro["recall"] == pytest.approx((3 / 5 + 2 / 3) / 4)
    assert s.macro["f1"] == pytest.approx((2 / 3 + 1 / 2) / 4)
    assert s.weighted["precision"] == pytest.approx((3 / 4 * 5 + 2 / 5 * 3) / 10)
    assert s.weighted["recall"] == pytest.approx(5 / 10)     # top-1 accuracy
    assert s.weighted["f1"] == pytest.approx((2 / 3 * 5 + 1 / 2 * 3) / 10)


def test_undefined_ratios_are_zero_with_a_note():
    notes = scores(CONFUSION, CLASSES).notes
    assert len(notes) == 3
    assert "never predicted: `c`" in notes[0] and "precision 0" in notes[0]
    assert "no samples of `e`" in notes[1] and "recall 0" in notes[1]
    assert "`d`" in notes[2] and "macro average" in notes[2]


def test_a_perfect_and_an_empty_matrix():
    perfect = scores(torch.eye(3, dtype=torch.int64) * 4, ["x", "y", "z"])
    assert perfect.macro == pytest.approx({"precision": 1, "recall": 1, "f1": 1, "iou": 1})
    assert perfect.notes == []
    empty = scores(torch.zeros(2, 2, dtype=torch.int64), ["x", "y"])
    assert empty.macro == {"precision": 0, "recall": 0, "f1": 0, "iou": 0}
    assert empty.weighted == {"precision": 0, "recall": 0, "f1": 0, "iou": 0}


def test_a_note_names_five_classes_then_counts():
    confusion = torch.zeros(9, 9, dtype=torch.int64)
    confusion[:, 0] = 1      # everything predicted as class 0
    notes = scores(confusion, [f"k{i}" for i in range(9)]).notes
    assert notes == ["never predicted: `k1`, `k2`, `k3`, `k4`, `k5` and 3 more; precision 0 "
                     "(undefined)"]


# ---- end to end ------------------------------------------------------------------------

pytest_slow = pytest.mark.slow
TINY = "model Tiny\ninput 1x8x8\nconv 4 k3 -> relu -> fc {n}\n"


def grey_classes(root: Path, n_classes: int, per: int = 6) -> list[str]:
    """`per` 8x8 grey images per class; class k is a brightness band of its own."""
    rng = np.random.default_rng(0)
    names = [f"c{k}" for k in range(n_classes)]
    for k, name in enumerate(names):
        (root / name).mkdir(parents=True)
        for i in range(per):
            pixels = rng.integers(0, 20, (8, 8)) + 40 * k
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{i}.png")
    return names


def train(capsys, root: Path, n_classes: int) -> Path:
    grey_classes(root / "imgs", n_classes)
    (root / "tiny.cnn").write_text(TINY.format(n=n_classes))
    status, _, err = run(capsys, "train", root / "tiny.cnn", "--data", "folder", "--data-dir",
                         root / "imgs", "--epochs", "1", "--batch", "4", "--workers", "0",
                         "--out", root / "run", "--progress", "plain")
    assert status == 0, err
    return root / "run"


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest_slow
def test_evaluate_prints_and_writes_the_per_class_report(capsys, tmp_path):
    run_dir = train(capsys, tmp_path, 5)
    status, out, err = run(capsys, "evaluate", run_dir, "--workers", "0")
    assert status == 0, err
    assert "top-1" in out and "top-5" not in out        # five classes: top-5 is always 100%
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split() == [
        "precision", "recall", "f1", "support"])
    assert [line.split()[0] for line in lines[header + 1:header + 6]] == \
        [f"c{k}" for k in range(5)]
    assert any(line.startswith("macro avg") for line in lines)
    assert any(line.startswith("weighted avg") for line in lines)
    assert f"per-class scores: {run_dir / 'per_class.csv'}" in out
    rows = read_csv(run_dir / "per_class.csv")
    assert [r["kind"] for r in rows] == ["class"] * 5 + ["macro avg", "weighted avg",
                                                         "top-1 accuracy"]
    held_out = int(rows[-1]["support"])
    assert sum(int(r["support"]) for r in rows[:5]) == held_out
    # the weighted recall is the top-1 accuracy, both in the CSV and as printed
    assert float(rows[6]["recall"]) == pytest.approx(float(rows[-1]["accuracy"]), abs=1e-6)
    printed = float(out.split("top-1 ")[1].split("%")[0]) / 100
    assert printed == pytest.approx(float(rows[-1]["accuracy"]), abs=5e-5)
    # the CSV's scores are those of the confusion matrix the run measured
    assert all(0 <= float(r[k]) <= 1 for r in rows[:7] for k in ("precision", "recall", "f1"))


@pytest_slow
def test_top5_with_more_than_five_classes_and_the_out_folder(capsys, tmp_path):
    run_dir = train(capsys, tmp_path, 6)
    status, out, err = run(capsys, "evaluate", run_dir, "--workers", "0", "--out",
                           tmp_path / "report")
    assert status == 0, err
    assert "top-5" in out
    assert (tmp_path / "report" / "confusion.png").is_file()
    rows = read_csv(tmp_path / "report" / "per_class.csv")
    assert rows[-1]["kind"] == "top-5 accuracy" and 0 <= float(rows[-1]["accuracy"]) <= 1
    assert not (run_dir / "per_class.csv").exists()
    status, _, err = run(capsys, "evaluate", run_dir, "--workers", "0", "--out",
                         tmp_path / "report")
    assert status == 0, err           # its own files are replaced


@pytest_slow
def test_a_file_evaluate_did_not_write_is_not_replaced(capsys, tmp_path):
    run_dir = train(capsys, tmp_path, 2)
    mine = run_dir / "per_class.csv"
    mine.write_text("my notes, in a csv\n")
    status, out, err = run(capsys, "evaluate", run_dir, "--workers", "0")
    assert status == 1 and out == ""
    assert "per_class.csv" in err and "not overwriting" in err
    assert mine.read_text() == "my notes, in a csv\n"
    assert not (run_dir / "confusion.png").exists()      # refused before any work


@pytest_slow
def test_hostile_class_names_are_exact_in_the_csv_and_escaped_on_the_terminal(capsys,
                                                                              tmp_path):
    names = ["a,\"b\"", "x\x1b[31mred"]
    rng = np.random.default_rng(1)
    for k, name in enumerate(names):
        (tmp_path / "imgs" / name).mkdir(parents=True)
        for i in range(6):
            pixels = rng.integers(0, 20, (8, 8)) + 120 * k
            Image.fromarray(pixels.astype(np.uint8)).save(tmp_path / "imgs" / name / f"{i}.png")
    (tmp_path / "tiny.cnn").write_text(TINY.format(n=2))
    status, _, err = run(capsys, "train", tmp_path / "tiny.cnn", "--data", "folder",
                         "--data-dir", tmp_path / "imgs", "--epochs", "1", "--batch", "4",
                         "--workers", "0", "--out", tmp_path / "run", "--progress", "plain")
    assert status == 0, err
    status, out, err = run(capsys, "evaluate", tmp_path / "run", "--workers", "0")
    assert status == 0, err
    assert "\x1b" not in out and "x\\x1b[31mred" in out
    rows = read_csv(tmp_path / "run" / "per_class.csv")
    assert [r["class"] for r in rows[:2]] == sorted(names)
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["classes"]
    assert recorded == sorted(names)
    assert list(csv.reader(io.StringIO((tmp_path / "run" / "per_class.csv").read_text())))[1][1] \
        == sorted(names)[0]


@pytest_slow
def test_a_segmenter_s_report_has_iou_and_its_macro_is_the_mean_iou(capsys, tmp_path):
    train_segmenter(capsys, tmp_path, images=8)
    status, out, err = run(capsys, "evaluate", tmp_path / "run", "--workers", "0")
    assert status == 0, err
    assert any(line.split() == ["precision", "recall", "f1", "IoU", "support"]
               for line in out.splitlines())
    rows = read_csv(tmp_path / "run" / "per_class.csv")
    assert list(rows[0]) == ["kind", "class", "precision", "recall", "f1", "iou", "support",
                             "accuracy"]
    assert [r["kind"] for r in rows] == ["class", "class", "macro avg", "weighted avg",
                                         "pixel accuracy"]
    assert int(rows[-1]["support"]) == 2 * 64           # the held-out pixels
    mean_iou = float(out.split("mean IoU ")[1].split("%")[0]) / 100
    assert float(rows[2]["iou"]) == pytest.approx(mean_iou, abs=5e-5)
