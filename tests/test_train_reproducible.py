"""Streamed folders train reproducibly: the same metrics with any number of loader
workers and after a resume; images of any bit depth and unreadable masks included."""

from __future__ import annotations

import pytest
from test_train_folders import metrics, run, stripes

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
    train_tiny(capsys, tmp_path, tmp_path / "w1", "--epochs", "3", "--workers", "1")
    train_tiny(capsys, tmp_path, tmp_path / "w0", "--epochs", "3", "--workers", "0")
    train_tiny(capsys, tmp_path, tmp_path / "part", "--epochs", "2", "--workers", "1")
    status, _, err = run(capsys, "train", str(tmp_path / "tiny.cnn"), "--resume", "--out",
                         str(tmp_path / "part"), "--epochs", "3", "--progress", "plain")
    assert status == 0, err
    assert losses(tmp_path / "w0") == losses(tmp_path / "w1")
    assert losses(tmp_path / "part") == losses(tmp_path / "w1")
