"""Streamed folders train reproducibly: the same metrics with any number of loader
workers and after a resume; images of any bit depth and unreadable masks included."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from test_train_folders import metrics, run, stripes

from cnndsl.train.images import BadImage, open_image

pytestmark = pytest.mark.slow

#: dropout draws from the global torch RNG, so anything else drawing from it shows
TINY = "model TinyRgb\ninput 3x8x8\nconv 4 k3 p1 -> relu -> dropout 0.5 -> fc 3\n"


def losses(out) -> list[tuple[str, str]]:
    return [(r["train_loss"], r["test_loss"]) for r in metrics(out)]


def train_tiny(capsys, root, out, *flags) -> None:
    status, _, err = run(capsys, "train", str(root / "tiny.cnn"), "--data", "folder",
                         "--data-dir", str(root / "imgs"), "--batch", "4", "--out", str(out),
                         "--progress", "plain", *flags)
    assert status == 0, err


def test_workers_and_resume_do_not_change_the_metrics(capsys, tmp_path):
    stripes(tmp_path / "imgs", 30, 0)
    (tmp_path / "tiny.cnn").write_text(TINY)
    train_tiny(capsys, tmp_path, tmp_path / "w1", "--epochs", "2", "--workers", "1")
    train_tiny(capsys, tmp_path, tmp_path / "w0", "--epochs", "2", "--workers", "0")
    train_tiny(capsys, tmp_path, tmp_path / "part", "--epochs", "1", "--workers", "1")
    status, _, err = run(capsys, "train", str(tmp_path / "tiny.cnn"), "--resume", "--out",
                         str(tmp_path / "part"), "--epochs", "2", "--progress", "plain")
    assert status == 0, err
    assert losses(tmp_path / "w0") == losses(tmp_path / "w1")
    assert losses(tmp_path / "part") == losses(tmp_path / "w1")


def test_high_bit_depth_images_are_scaled_to_8_bits_not_clipped(tmp_path):
    grey = np.array([[0, 20000], [40000, 65535]], np.uint16)
    Image.fromarray(grey).save(tmp_path / "i16.png")                      # I;16
    Image.fromarray(grey.astype(np.int32)).save(tmp_path / "i32.tif")     # I
    Image.fromarray(grey / np.float32(65535)).save(tmp_path / "f01.tif")  # F, 0..1
    want = [[0, 78], [156, 255]]
    for name in ("i16.png", "i32.tif", "f01.tif"):
        assert np.asarray(open_image(str(tmp_path / name), "L")).tolist() == want, name
    assert np.asarray(open_image(str(tmp_path / "i16.png"), "RGB"))[1, 0].tolist() == [156] * 3
    Image.fromarray(np.array([[0, 70000]], np.int32)).save(tmp_path / "wide.tif")
    with pytest.raises(BadImage, match="outside 0-65535"):      # no range to scale it by
        open_image(str(tmp_path / "wide.tif"), "L")


def test_a_folder_of_16_bit_pngs_trains(capsys, tmp_path):
    rng = np.random.default_rng(0)
    for i in range(24):
        low = 0 if i % 2 else 40000
        folder = tmp_path / "imgs" / ("dark" if i % 2 else "light")
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(low, low + 20000, (8, 8)).astype(np.uint16)
        Image.fromarray(pixels).save(folder / f"{i}.png")
    (tmp_path / "grey.cnn").write_text("model Grey16\ninput 1x8x8\nconv 4 k3 p1 -> relu -> fc 2\n")
    status, _, err = run(capsys, "train", str(tmp_path / "grey.cnn"), "--data", "folder",
                         "--data-dir", str(tmp_path / "imgs"), "--batch", "4", "--epochs", "3",
                         "--workers", "0", "--out", str(tmp_path / "r"), "--progress", "plain")
    assert status == 0, err
    mean = json.loads((tmp_path / "r" / "config.json").read_text())["normalisation"]["mean"]
    assert 0.3 < mean[0] < 0.7          # solid white (clipped at 255) gave 0.996
    assert float(metrics(tmp_path / "r")[-1]["test_acc"]) == 1.0


def test_masks_all_out_of_range_name_the_reason(capsys, tmp_path):
    seg = tmp_path / "seg"
    (seg / "images").mkdir(parents=True)
    (seg / "masks").mkdir()
    for i in range(6):
        Image.fromarray(np.full((16, 16, 3), 40 * i, np.uint8)).save(seg / "images" / f"{i}.png")
        Image.fromarray(np.full((16, 16), 5, np.uint8)).save(seg / "masks" / f"{i}.png")
    spec = tmp_path / "seg.cnn"
    spec.write_text("model Seg\ninput 3x16x16\nconv 8 k3 p1 -> relu -> conv 3 k1\n")
    status, _, err = run(capsys, "train", str(spec), "--data", "segmentation", "--data-dir",
                         str(seg), "--epochs", "1", "--workers", "1", "--out",
                         str(tmp_path / "r"), "--progress", "plain")
    assert status == 1
    assert "its mask holds class 5" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_torchvision_pipeline_leaves_the_global_rng_as_it_was(tmp_path):
    # torchvision's transforms draw from the global RNG; with --workers 0 they run in the
    # training process, where dropout draws from it too
    from cnndsl.train.streams import FolderDataset

    path = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(path)
    data = FolderDataset([str(path)], np.zeros(1, np.int64), "RGB", (8, 8), {}, False)
    draws = []
    data.pipeline = lambda image: draws.append(torch.rand(1)) or torch.zeros(3, 8, 8)
    torch.manual_seed(5)
    data._train(Image.open(path), 123)
    data._train(Image.open(path), 123)
    after = torch.rand(1)
    torch.manual_seed(5)
    assert torch.equal(after, torch.rand(1))          # the global stream is untouched
    assert torch.equal(draws[0], draws[1])            # and each sample's draws are its seed's
