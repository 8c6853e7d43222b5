"""The second attack on the data readers and run folders (issue 17, items 6, 7, 8, 10,
17, 18): nested pickles, compressed bombs, special files in every reader, labels and
masks out of range, tampered run folders, and high-bit-depth images' memory. Each
ends in a right answer or a one-line refusal, bounded in time and memory."""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import signal
import socket
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnndsl.cli import main
from cnndsl.train import checkpoint, datasets, safepickle
from cnndsl.train.images import BadImage, open_image
from cnndsl.train.streams import SegmentationDataset


class Hung(BaseException):
    """Raised by `within`: not an OSError or Exception, which the code under test catches."""


@contextlib.contextmanager
def within(seconds: int):
    """Fail (instead of hanging the suite) when the block takes over `seconds`."""
    def expired(*_):
        raise Hung(f"still running after {seconds} s: it hangs")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def one_line_error(status, err: str) -> None:
    assert status == 1, err
    assert "Traceback" not in err and err.startswith("error: ") and err.count("\n") == 1, err


# ---- item 6: CIFAR python batches: shared and cyclic references ----------------------------

def shared_levels(levels: int) -> bytes:
    """[l, l] where l = [m, m], m = ...: 2**levels leaves from a few hundred bytes."""
    out = b"\x80\x02]q\x00"                            # level 0: [], memo 0
    for k in range(1, levels + 1):
        get = b"h" + bytes([(k - 1) % 256]) if k - 1 < 256 else b"j" + struct.pack("<I", k - 1)
        put = b"q" + bytes([k]) if k < 256 else b"r" + struct.pack("<I", k)
        out += b"](" + get + get + b"e" + put
    return out + b"."


SELF_LIST = b"\x80\x02]q\x00h\x00a."                 # l = []; l.append(l)
SELF_DICT = b"\x80\x02}q\x00X\x01\x00\x00\x00ah\x00s."  # d = {}; d["a"] = d
DEEP = b"\x80\x02" + b"]" * 200_000 + b"a" * 199_999 + b"."


@pytest.mark.parametrize("data, words", [
    (shared_levels(39), "nested|shared"), (shared_levels(24), "shared"),
    (SELF_LIST, "contains itself"), (SELF_DICT, "contains itself"), (DEEP, "nested"),
], ids=["shared-39-levels", "shared-24-levels", "self-list", "self-dict", "deep"])
def test_a_pickle_of_references_is_refused_in_bounded_memory(data, words):
    assert len(SELF_LIST) == 9 and len(shared_levels(39)) < 400
    tracemalloc.start()
    try:
        with within(20), pytest.raises(safepickle.UnsafePickle, match=words):
            safepickle.loads(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, peak


def test_shared_leaves_and_a_real_batch_still_read():
    import pickle

    text = "cat"
    value = {"labels": [1, 2], "names": [text, text], "data": np.arange(6, dtype=np.uint8)}
    for protocol in (2, 4, 5):
        got = safepickle.loads(pickle.dumps(value, protocol=protocol))
        assert got["labels"] == [1, 2] and got["names"] == ["cat", "cat"]
        assert got["data"].tolist() == list(range(6))
    pair = [1, 2]
    got = safepickle.loads(pickle.dumps({"a": pair, "b": pair}, protocol=2))
    assert got == {"a": [1, 2], "b": [1, 2]}


def cifar_python_folder(root: Path, batch: bytes) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(batch)
    return root


@pytest.mark.slow
def test_train_on_a_cifar_batch_of_shared_references_is_one_line(tmp_path, capsys,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    cifar_python_folder(tmp_path / "c", shared_levels(39))
    (tmp_path / "t.cnn").write_text("model T\ninput 3x32x32\ngap -> fc 10\n")
    with within(60):
        status = main(["train", "t.cnn", "--data", "cifar10", "--data-dir", "c",
                       "--epochs", "1", "--progress", "plain"])
    err = capsys.readouterr().err
    one_line_error(status, err)
    assert "data_batch_1" in err and "python batch" in err


# ---- item 7: gzipped IDX files inflate only as far as their header says ----------------------

def gz_idx(header_count: int, body_bytes: int) -> bytes:
    """An IDX image file claiming `header_count` 28x28 images, holding `body_bytes` zeros."""
    compressor = gzip.GzipFile  # streamed, so the test itself stays small
    import io

    buffer = io.BytesIO()
    with compressor(fileobj=buffer, mode="wb", compresslevel=9) as out:
        out.write(b"\0\0\x08\x03" + struct.pack(">III", header_count, 28, 28))
        chunk = b"\0" * (1 << 20)
        for _ in range(body_bytes >> 20):
            out.write(chunk)
        out.write(b"\0" * (body_bytes % (1 << 20)))
    return buffer.getvalue()


def test_a_gzip_bomb_inflates_no_further_than_the_header_says(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gz_idx(10, 256 << 20))          # 10 images declared, 256 MiB inside
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(datasets.DataError, match="more data than its header"):
            datasets.read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20, f"{peak:,} bytes at peak for 7,840 declared"


def test_an_idx_header_past_the_limit_is_refused_before_inflating(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"\0\0\x08\x03" + struct.pack(">III", 0xFFFFFFFF, 0xFFFFFFFF,
                                                                 0xFFFFFFFF)))
    with pytest.raises(datasets.DataError, match="declares"):
        datasets.read_idx(path)


def test_a_gzipped_idx_file_still_reads(tmp_path):
    body = np.arange(2 * 28 * 28, dtype=np.uint8).tobytes()
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"\0\0\x08\x03" + struct.pack(">III", 2, 28, 28) + body))
    assert datasets.read_idx(path).shape == (2, 28, 28)
    short = tmp_path / "y.gz"
    short.write_bytes(gzip.compress(b"\0\0\x08\x03" + struct.pack(">III", 2, 28, 28) + body[:9]))
    with pytest.raises(datasets.DataError, match="truncated"):
        datasets.read_idx(short)
    damaged = tmp_path / "z.gz"
    damaged.write_bytes(gzip.compress(b"\0\0\x08\x03" + body)[:-12] + b"junkjunkjunk")
    with pytest.raises(datasets.DataError):
        datasets.read_idx(damaged)


@pytest.mark.parametrize("dims", [0, 1, 4])
def test_idx_images_of_the_wrong_rank_are_refused(tmp_path, dims):
    root = tmp_path / "MNIST"
    root.mkdir()
    shape = {0: (), 1: (2,), 4: (2, 1, 2, 2)}[dims]
    for stem in datasets._IDX_FILES.values():
        header = b"\0\0\x08" + bytes([dims if "images" in stem else 1])
        if "images" in stem:
            header += struct.pack(f">{dims}I", *shape)
            body = bytes(int(np.prod(shape)))
        else:
            header += struct.pack(">I", 2)
            body = bytes(2)
        (root / stem).write_bytes(header + body)
    with pytest.raises(datasets.DataError, match="images"):
        datasets.load("mnist", tmp_path)


# ---- item 8: special files in every reader -----------------------------------------------

def make_special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()


SPECIAL = ["fifo", "directory", "device", "loop", "socket"]


@pytest.mark.parametrize("kind", SPECIAL)
@pytest.mark.parametrize("mode", ["RGB", "L", "mask"])
def test_open_image_refuses_a_special_file_at_once(tmp_path, kind, mode):
    path = tmp_path / "zz.png"
    make_special(path, kind)
    with within(10), pytest.raises(BadImage):
        open_image(os.fsencode(path), mode)


@pytest.mark.parametrize("kind", SPECIAL)
def test_a_checkpoint_that_is_a_special_file_is_refused(tmp_path, kind):
    path = tmp_path / "last.pt"
    make_special(path, kind)
    with within(10), pytest.raises(checkpoint.CheckpointError):
        checkpoint.load(path)


@pytest.mark.parametrize("kind", SPECIAL)
def test_a_dataset_file_that_is_a_special_file_is_refused_or_missing(tmp_path, kind):
    make_special(tmp_path / "train-images-idx3-ubyte", kind)
    with within(10), pytest.raises(datasets.DataError):
        datasets.load("mnist", tmp_path)
    shutil.rmtree(tmp_path / "c", ignore_errors=True)
    folder = tmp_path / "c" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        (folder / name).write_bytes(bytes(3073))
    (folder / "batches.meta.txt").unlink(missing_ok=True)
    make_special(folder / "batches.meta.txt", kind)
    with within(10):
        try:
            datasets.load("cifar10", tmp_path / "c")
        except datasets.DataError:
            pass


# ---- item 10: masks below zero -------------------------------------------------------------

def test_a_mask_holding_a_negative_class_is_a_problem_not_a_target(tmp_path):
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "x.png")
    mask = np.zeros((4, 4), np.int32)
    mask[0, 0] = -7
    Image.fromarray(mask, mode="I").save(tmp_path / "x.tif")
    assert Image.open(tmp_path / "x.tif").mode == "I"
    ds = SegmentationDataset(np.array([os.fsencode(tmp_path / "x.png")]),
                             np.array([os.fsencode(tmp_path / "x.tif")]), "RGB", (4, 4), {}, 3)
    x, y, problem = ds[0]
    assert "-7" in problem and (y == -100).all(), problem


def test_a_class_name_that_is_not_utf8_is_drawn_escaped(tmp_path):
    from cnndsl.train.record import plot_confusion

    names = ["a", os.fsdecode(b"b\xff"), "c\x1b[31m", "$\\nope{$"]
    plot_confusion(tmp_path / "c.png", torch.eye(4, dtype=torch.int64), names, "t $\\x{$")
    assert (tmp_path / "c.png").stat().st_size > 0


# ---- item 18: high-bit-depth images convert in their own dtype -----------------------------

@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_a_high_bit_depth_image_converts_in_little_memory(tmp_path, mode):
    from cnndsl.train.images import _eight_bit

    side = 1024
    rng = np.random.default_rng(0)
    if mode == "F":
        values = rng.random((side, side), dtype=np.float32)
    else:
        values = rng.integers(0, 65536, (side, side)).astype(np.uint16 if mode == "I;16"
                                                              else np.int32)
    image = Image.fromarray(values)
    assert image.mode == mode
    tracemalloc.start()
    try:
        converted = _eight_bit(image, Image)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    got = np.asarray(converted)
    top = 1.0 if mode == "F" else 65535.0
    expected = np.clip(np.rint(values.astype(np.float64) * (255.0 / top)), 0, 255)
    assert converted.mode == "L"
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= (1 if mode == "F" else 0)
    # the 8-bit result and a band at a time; not copies of the whole image in float64
    assert peak < side * side * 3, f"{peak / side / side:.1f} bytes a pixel"
