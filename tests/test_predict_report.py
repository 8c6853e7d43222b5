"""`cnndsl predict`'s report: files and folders (walked, sorted, bounded), one row per
image as a table, CSV or JSON, how each image was read, `--top` clamped with a note,
a path that is not an image one row saying so, hostile file names exact in CSV and JSON
and escaped in the table."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnndsl.cli import main
from cnndsl.train import gather
from cnndsl.train.inference import Read

TINY = "model Tiny\ninput 1x8x8\nconv 4 k3 -> relu -> fc 3\n"
CLASSES = ["dark", "mid", "light"]


def grey(path: Path, level: int, size=(8, 8), mode="L") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full(size[::-1], level, np.uint8)
    Image.fromarray(pixels).convert(mode).save(path)
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def train_segmenter(capsys, tmp_path: Path, images: int) -> Path:
    """A one-epoch two-class segmenter on `images` random 8x8 masks, run in `tmp_path/run`."""
    rng = np.random.default_rng(0)
    for folder in ("images", "masks"):
        (tmp_path / "seg" / folder).mkdir(parents=True)
    for i in range(images):
        mask = (rng.random((8, 8)) > 0.5).astype(np.uint8)
        Image.fromarray(mask * 200).convert("RGB").save(tmp_path / "seg" / "images" / f"{i}.png")
        Image.fromarray(mask).save(tmp_path / "seg" / "masks" / f"{i}.png")
    (tmp_path / "s.cnn").write_text("model Seg\ninput 3x8x8\nconv 2 k3 p1\n")
    status, _, err = run(capsys, "train", tmp_path / "s.cnn", "--data", "segmentation",
                         "--data-dir", tmp_path / "seg", "--epochs", "1", "--batch", "2",
                         "--workers", "0", "--out", tmp_path / "run", "--progress", "plain")
    assert status == 0, err
    return tmp_path / "run"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """Three classes of 8x8 grey images, one epoch: a second or two."""
    root = tmp_path_factory.mktemp("predict")
    for k, name in enumerate(CLASSES):
        for i in range(6):
            grey(root / "imgs" / name / f"{i}.png", 20 + 100 * k + i)
    (root / "tiny.cnn").write_text(TINY)
    assert main(["train", str(root / "tiny.cnn"), "--data", "folder", "--data-dir",
                 str(root / "imgs"), "--epochs", "1", "--batch", "4", "--workers", "0",
                 "--out", str(root / "run"), "--progress", "plain"]) == 0
    return root / "run"


# ---- how an image was read -----------------------------------------------------------

def test_how_an_image_was_read_in_words():
    assert Read((100, 60), "L", (32, 32), "RGB").text() == \
        "100x60 L → 32x32 RGB (resized, grey→RGB)"
    assert Read((32, 32), "RGB", (32, 32), "RGB").text() == ""
    assert Read((32, 32), "RGBA", (32, 32), "RGB").text() == \
        "32x32 RGBA → 32x32 RGB (alpha dropped)"
    assert Read((8, 8), "I;16", (8, 8), "L").text("->") == \
        "8x8 I;16 -> 8x8 L (16-bit grey->grey)"
    assert Read((8, 9), "RGB", (8, 8), "L").changes == ["resized", "RGB→grey"]


@pytest.mark.slow
def test_the_table_has_one_row_per_image_and_says_how_each_was_read(capsys, trained,
                                                                    tmp_path):
    same = grey(tmp_path / "same.png", 30)
    other = grey(tmp_path / "big.png", 230, (100, 60), "RGB")
    status, out, err = run(capsys, "predict", trained, same, other, "--top", "2")
    assert status == 0, err
    header, *rows = out.splitlines()
    assert header.split() == ["image", "top-1", "top-2", "read", "as"]
    assert len(rows) == 2
    assert rows[0].startswith(str(same)) and "→" not in rows[0] and rows[0].endswith("%")
    assert rows[1].startswith(str(other))
    assert rows[1].endswith("100x60 RGB → 8x8 L (resized, RGB→grey)")


@pytest.mark.slow
def test_folders_are_walked_in_byte_order_and_hidden_entries_left_out(capsys, trained,
                                                                      tmp_path):
    for name in ["b/2.png", "a/z.png", "a/sub/1.png", "B.png", "c.JPG", ".hidden/x.png",
                 "a/.x.png"]:
        grey(tmp_path / "pics" / name, 100)
    (tmp_path / "pics" / "c.JPG").rename(tmp_path / "pics" / "c.JPG")
    status, out, err = run(capsys, "predict", trained, tmp_path / "pics", "--format", "csv")
    assert status == 0, err
    images = [row["image"] for row in csv.DictReader(io.StringIO(out))]
    expected = ["B.png", "a/sub/1.png", "a/z.png", "b/2.png", "c.JPG"]
    assert images == [str(tmp_path / "pics" / name) for name in expected]


@pytest.mark.slow
def test_a_path_that_is_not_an_image_is_a_row_not_a_crash(capsys, trained, tmp_path):
    good = grey(tmp_path / "ok.png", 120)
    text = tmp_path / "notes.png"
    text.write_text("not a picture\n")
    (tmp_path / "empty").mkdir()
    status, out, err = run(capsys, "predict", trained, text, good, tmp_path / "missing.png",
                           tmp_path / "empty", "--format", "csv")
    assert status == 1 and "internal error" not in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["image"] for r in rows] == [str(text), str(good), str(tmp_path / "missing.png"),
                                          str(tmp_path / "empty")]
    assert rows[0]["error"] == "not an image Pillow can read" and rows[0]["top1"] == ""
    assert rows[1]["error"] == "" and rows[1]["top1"] in CLASSES
    assert rows[2]["error"] == "no such file or directory"
    assert rows[3]["error"].startswith("a folder with no images")
    assert err.strip().splitlines() == [
        f"error: 3 of 4 path(s) not predicted; the first: {text}: not an image Pillow can read"]


@pytest.mark.slow
def test_top_larger_than_the_classes_is_clamped_with_a_note(capsys, trained, tmp_path):
    picture = grey(tmp_path / "p.png", 200)
    status, out, err = run(capsys, "predict", trained, picture, "--top", "10", "--format",
                           "json")
    assert status == 0, err
    report = json.loads(out)
    assert report["top"] == 3 and len(report["images"][0]["top"]) == 3
    assert sum(t["probability"] for t in report["images"][0]["top"]) == pytest.approx(1)
    assert "--top 10 is more than the run's 3 classes; showing 3" in err
    assert report["notes"][0].startswith("--top 10")
    assert report["images"][0]["read"] == {"size": [8, 8], "mode": "L", "model_size": [8, 8],
                                           "model_mode": "L", "changes": []}


HOSTILE = ["a,b.png", 'say "hi".png', "two\nlines.png", "red\x1b[31m.png", "tab\t.png"]


@pytest.mark.slow
def test_hostile_file_names_are_exact_in_csv_and_json_and_escaped_in_the_table(
        capsys, trained, tmp_path):
    for name in HOSTILE:
        grey(tmp_path / "h" / name, 90)
    expected = sorted((str(tmp_path / "h" / n) for n in HOSTILE), key=os.fsencode)
    status, out, err = run(capsys, "predict", trained, tmp_path / "h", "--format", "csv")
    assert status == 0, err
    assert [r["image"] for r in csv.DictReader(io.StringIO(out))] == expected
    status, out, err = run(capsys, "predict", trained, tmp_path / "h", "--format", "json")
    assert status == 0, err
    assert [i["image"] for i in json.loads(out)["images"]] == expected
    status, out, err = run(capsys, "predict", trained, tmp_path / "h")
    assert status == 0, err
    assert "\x1b" not in out and "\t" not in out
    assert len(out.splitlines()) == 1 + len(HOSTILE)       # a newline in a name is escaped
    assert "two\\x0alines.png" in out and "red\\x1b[31m.png" in out


@pytest.mark.slow
def test_special_files_and_link_loops_are_skipped_and_counted(capsys, trained, tmp_path):
    grey(tmp_path / "w" / "sub" / "1.png", 50)
    os.mkfifo(tmp_path / "w" / "pipe.png")
    os.symlink(tmp_path / "w", tmp_path / "w" / "sub" / "back")       # a loop
    os.symlink(tmp_path / "nowhere.png", tmp_path / "w" / "broken.png")
    (tmp_path / "w" / "readme.txt").write_text("hello")
    status, out, err = run(capsys, "predict", trained, tmp_path / "w", "--format", "csv")
    assert status == 0, err
    assert [r["image"] for r in csv.DictReader(io.StringIO(out))] == \
        [str(tmp_path / "w" / "sub" / "1.png")]
    assert "skipped 2 special file(s)" in err
    assert "skipped 1 file(s) that are not images" in err
    assert "skipped 1 folder(s) reached again through a symbolic link" in err


@pytest.mark.slow
def test_a_fifo_given_by_name_is_one_row_and_does_not_block(capsys, trained, tmp_path):
    os.mkfifo(tmp_path / "zz.png")
    status, out, err = run(capsys, "predict", trained, tmp_path / "zz.png", "--format", "csv")
    assert status == 1
    (row,) = csv.DictReader(io.StringIO(out))
    assert "FIFO" in row["error"]


@pytest.mark.slow
def test_too_many_files_is_one_clear_error(capsys, trained, tmp_path, monkeypatch):
    for i in range(4):
        grey(tmp_path / "lots" / f"{i}.png", 10)
    monkeypatch.setattr(gather, "MAX_FILES", 3)
    status, out, err = run(capsys, "predict", trained, tmp_path / "lots")
    assert status == 1 and out == ""
    assert err.strip().splitlines() == [
        f"error: `{tmp_path / 'lots'}` holds over 3 images; predict takes at most that many "
        "at once: give it sub-folders in turn"]
    monkeypatch.setattr(gather, "MAX_FILES", 10)
    monkeypatch.setattr(gather, "MAX_ENTRIES", 2)
    status, out, err = run(capsys, "predict", trained, tmp_path / "lots")
    assert status == 1 and "holds over 2 files and folders" in err


def test_gather_keeps_the_order_of_the_arguments(tmp_path):
    for name in ["d/2.png", "d/1.png"]:
        grey(tmp_path / name, 1)
    found = gather.gather([str(tmp_path / "z.png"), str(tmp_path / "d"), "a.png"])
    assert found.paths == [str(tmp_path / "z.png"), str(tmp_path / "d" / "1.png"),
                           str(tmp_path / "d" / "2.png"), "a.png"]


@pytest.mark.slow
def test_a_file_name_that_is_not_utf8_comes_back_byte_for_byte(capsysbinary, trained,
                                                                tmp_path):
    folder = os.fsencode(tmp_path / "u")
    os.mkdir(folder)
    name = os.path.join(folder, b"caf\xe9.png")
    Image.fromarray(np.full((8, 8), 70, np.uint8)).save(os.fsdecode(name))
    assert main(["predict", str(trained), os.fsdecode(folder), "--format", "csv"]) == 0
    out = capsysbinary.readouterr().out
    assert out.splitlines()[1].startswith(name + b",")
    assert main(["predict", str(trained), os.fsdecode(folder), "--format", "json"]) == 0
    report = json.loads(capsysbinary.readouterr().out)
    assert os.fsencode(report["images"][0]["image"]) == name
    assert main(["predict", str(trained), os.fsdecode(folder)]) == 0
    assert b"caf\\udce9.png" in capsysbinary.readouterr().out


def test_a_model_gone_nan_is_null_in_json():
    from types import SimpleNamespace

    from cnndsl.backends.table.predictions import Row, _json

    trained = SimpleNamespace(task="classify", facts=SimpleNamespace(model="M"))
    text = _json([Row("x.png", [("a", float("nan"))])], trained, 1, [], "run")
    assert json.loads(text)["images"][0]["top"] == [{"class": "a", "probability": None}]


@pytest.mark.slow
def test_a_segmenter_s_rows_give_pixel_shares_and_the_mask_written(capsys, tmp_path):
    train_segmenter(capsys, tmp_path, images=6)
    picture = grey(tmp_path / "p.png", 150, (16, 8))
    status, out, err = run(capsys, "predict", tmp_path / "run", picture, "--format", "csv",
                           "--masks", tmp_path / "m")
    assert status == 0, err
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["mask"] == str(tmp_path / "m" / "p.mask.png") and Path(row["mask"]).is_file()
    assert row["top1"] in ("0", "1") and 0 < float(row["share1"]) <= 1
    assert row["read"] == "16x8 L → 8x8 RGB (resized, grey→RGB)"
    status, out, err = run(capsys, "predict", tmp_path / "run", picture, "--format", "json")
    item = json.loads(out)["images"][0]
    assert status == 0 and item["mask"] is None and "share" in item["top"][0]
