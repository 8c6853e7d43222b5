"""`cnndsl evaluate` and `cnndsl predict` on a run folder: what they may overwrite,
the loss they report, `--all` on a train/test layout, and masks written again."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from test_train_folders import CLASSIFIER, SEGMENTER, metrics, run, shapes, stripes

pytestmark = pytest.mark.slow

#: a spec ending in softmax: training drops it for cross-entropy, evaluate must too
SOFTMAX = "model Sm\ninput 1x8x8\nconv 4 k3 p1 -> relu -> fc 10 -> softmax\n"


@pytest.fixture(scope="module")
def softmax_run(tmp_path_factory):
    """One epoch on digits (the default data set): seconds."""
    from cnndsl.cli import main

    root = tmp_path_factory.mktemp("softmax")
    spec = root / "sm.cnn"
    spec.write_text(SOFTMAX)
    assert main(["train", str(spec), "--epochs", "1", "--out", str(root / "run"),
                 "--progress", "plain"]) == 0
    return root / "run"


# ---- evaluate --confusion overwrites only its own picture ---------------------------------

def test_evaluate_refuses_to_draw_over_a_file_it_did_not_draw(capsys, softmax_run, tmp_path):
    foreign = tmp_path / "photo.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(foreign)
    before = foreign.read_bytes()
    status, out, err = run(capsys, "evaluate", str(softmax_run), "--confusion", str(foreign))
    assert status == 1 and out == ""
    assert "exists and was not written by cnndsl" in err and "\\x0a" not in err
    assert foreign.read_bytes() == before


@pytest.mark.parametrize("name", ["notes.txt", "best.pt"])
def test_evaluate_draws_only_png_files(capsys, softmax_run, tmp_path, name):
    target = softmax_run / name if name == "best.pt" else tmp_path / name
    if not target.exists():
        target.write_text("my notes\n")
    before = target.read_bytes()
    status, _, err = run(capsys, "evaluate", str(softmax_run), "--confusion", str(target))
    assert status != 0 and "internal error" not in err
    assert ".png" in err and len(err.strip().splitlines()) == 1
    assert target.read_bytes() == before


def test_evaluate_redraws_its_own_confusion_matrix(capsys, softmax_run, tmp_path):
    picture = tmp_path / "c.png"
    for _ in range(2):
        status, out, err = run(capsys, "evaluate", str(softmax_run), "--confusion",
                               str(picture))
        assert status == 0, err
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for _ in range(2):     # the default: RUN_DIR/confusion.png
        status, _, err = run(capsys, "evaluate", str(softmax_run))
        assert status == 0, err


# ---- evaluate's loss is training's --------------------------------------------------------

def test_evaluate_reports_training_s_loss_for_a_spec_ending_in_softmax(capsys, softmax_run,
                                                                      tmp_path):
    status, out, err = run(capsys, "evaluate", str(softmax_run), "--confusion",
                           str(tmp_path / "c.png"))
    assert status == 0, err
    loss = float(out.split("loss ")[1].split()[0])
    assert loss == pytest.approx(float(metrics(softmax_run)[-1]["test_loss"]), abs=1e-4)


def test_predict_still_reports_probabilities_for_a_spec_ending_in_softmax(capsys, softmax_run,
                                                                         tmp_path):
    picture = tmp_path / "digit.png"
    Image.fromarray(np.tile(np.arange(8, dtype=np.uint8) * 30, (8, 1))).save(picture)
    status, out, err = run(capsys, "predict", str(softmax_run), str(picture), "--top", "10")
    assert status == 0, err
    row = out.splitlines()[1].split()[1:]         # image, then (class, share) ten times
    shares = [float(cell.rstrip("%")) for cell in row[1::2]]
    assert len(shares) == 10 and sum(shares) == pytest.approx(100, abs=0.1)


# ---- evaluate --all on a train/ + test/ layout --------------------------------------------

def test_evaluate_all_reads_both_splits_of_a_train_test_folder(capsys, tmp_path):
    stripes(tmp_path / "tt" / "train", 12, 0)
    stripes(tmp_path / "tt" / "test", 6, 1)
    spec = tmp_path / "stripes.cnn"
    spec.write_text(CLASSIFIER)
    status, _, err = run(capsys, "train", str(spec), "--data", "folder", "--data-dir",
                         str(tmp_path / "tt"), "--epochs", "1", "--workers", "0",
                         "--out", str(tmp_path / "run"), "--progress", "plain")
    assert status == 0, err
    status, out, err = run(capsys, "evaluate", str(tmp_path / "run"), "--all", "--workers", "0")
    assert status == 0, err
    assert "18 samples" in out and "held-out" not in out and "training" in out
    status, out, err = run(capsys, "evaluate", str(tmp_path / "run"), "--workers", "0")
    assert status == 0, err
    assert "6 held-out samples" in out


# ---- a segmenter: evaluate --all, predict --masks ----------------------------------------

@pytest.fixture(scope="module")
def segmenter_run(tmp_path_factory):
    """A segmenter on a train/ + test/ layout: one epoch on twelve pictures."""
    from cnndsl.cli import main

    root = tmp_path_factory.mktemp("segmenter")
    shapes(root / "shapes" / "train", 8, 0)
    shapes(root / "shapes" / "test", 4, 1)
    spec = root / "seg.cnn"
    spec.write_text(SEGMENTER)
    assert main(["train", str(spec), "--data", "segmentation", "--data-dir",
                 str(root / "shapes"), "--epochs", "1", "--batch", "4", "--workers", "0",
                 "--out", str(root / "run"), "--progress", "plain"]) == 0
    return root


def test_evaluate_all_reads_both_splits_of_a_segmentation_folder(capsys, segmenter_run):
    status, out, err = run(capsys, "evaluate", str(segmenter_run / "run"), "--all",
                           "--workers", "0")
    assert status == 0, err
    assert "12 samples" in out and "mean IoU" in out


def test_predict_writes_its_masks_again_into_the_same_folder(capsys, segmenter_run, tmp_path):
    picture = str(segmenter_run / "shapes" / "test" / "images" / "000.png")
    for _ in range(2):
        status, out, err = run(capsys, "predict", str(segmenter_run / "run"), picture,
                               "--masks", str(tmp_path / "outm"))
        assert status == 0, err
    mask = np.asarray(Image.open(tmp_path / "outm" / "000.mask.png"))
    assert mask.shape == (32, 32) and mask.max() < 3


def test_predict_does_not_write_over_a_mask_it_did_not_write(capsys, segmenter_run, tmp_path):
    picture = str(segmenter_run / "shapes" / "test" / "images" / "000.png")
    (tmp_path / "outm").mkdir()
    mine = tmp_path / "outm" / "000.mask.png"
    Image.fromarray(np.ones((32, 32), np.uint8)).save(mine)
    before = mine.read_bytes()
    status, out, err = run(capsys, "predict", str(segmenter_run / "run"), picture,
                           "--masks", str(tmp_path / "outm"))
    assert status == 1 and "was not written by cnndsl" in err
    assert "\\x0a" not in err and "\n  = help: " in err
    assert mine.read_bytes() == before


def test_predict_keeps_apart_the_masks_of_images_with_the_same_name(capsys, segmenter_run,
                                                                   tmp_path):
    images = segmenter_run / "shapes"
    first = images / "train" / "images" / "000.png"
    second = images / "test" / "images" / "000.png"
    status, out, err = run(capsys, "predict", str(segmenter_run / "run"), str(first),
                           str(second), "--masks", str(tmp_path / "outm"))
    assert status == 1
    # the second is refused, in one line naming the first; the first's mask is kept
    assert (tmp_path / "outm" / "000.mask.png").exists()
    assert len(err.strip().splitlines()) == 1 and str(second) in err and str(first) in err
    assert "not written by cnndsl" not in err
    assert sorted(p.name for p in (tmp_path / "outm").iterdir()) == ["000.mask.png"]
