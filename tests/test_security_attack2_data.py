"""The second attack on the data readers and run folders (issue 17, items 6, 7, 8, 10,
17, 18): nested pickles, compressed bombs, special files in every reader, labels and
masks out of range, tampered run folders, and high-bit-depth images' memory. Each
ends in a right answer or a one-line refusal, bounded in time and memory."""

from __future__ import annotations

import contextlib
import gzip
import json
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
        with within(90), pytest.raises(safepickle.UnsafePickle, match=words):
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
        here = os.getcwd()
        os.chdir(path.parent)   # bound by its name: a socket's path holds at most 107 bytes
        try:
            s.bind(path.name)
        finally:
            os.chdir(here)
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


# ---- a trained run, shared: special files and tampered run folders (items 8, 10, 17) ----------

TINY = "model Tiny\ninput 1x8x8\nconv 4 k3 -> relu -> fc 2\n"


def grey_folders(root: Path, names: list[str | bytes], n: int = 6) -> None:
    """`n` 8x8 grey images per class folder: class k is brighter than class k - 1."""
    rng = np.random.default_rng(0)
    for label, name in enumerate(names):
        folder = Path(os.fsdecode(root / os.fsdecode(name)))
        folder.mkdir(parents=True)
        for i in range(n):
            pixels = rng.integers(0, 60, (8, 8)) + 120 * label
            Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{i}.png")


def train_tiny(root: Path, names, *flags) -> int:
    grey_folders(root / "imgs", names)
    (root / "tiny.cnn").write_text(TINY)
    return main(["train", str(root / "tiny.cnn"), "--data", "folder", "--data-dir",
                 str(root / "imgs"), "--epochs", "1", "--batch", "4", "--workers", "0",
                 "--out", str(root / "run"), "--progress", "plain", *flags])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    assert train_tiny(root, ["a", "b"]) == 0
    return root


def command(capsys, *argv) -> tuple[int, str]:
    with within(120):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exc:
            status = exc.code
    return status, capsys.readouterr().err


@pytest.fixture
def run_copy(trained, tmp_path):
    """A fresh copy of the trained run folder, to damage."""
    shutil.copytree(trained / "run", tmp_path / "r", ignore=shutil.ignore_patterns(".lock"))
    return tmp_path / "r"


def set_in(record: dict, where: str, value) -> None:
    *path, last = where.split(".")
    for key in path:
        record = record[key]
    record[last] = value


def tamper_config(run: Path, where: str, value) -> None:
    record = json.loads((run / "config.json").read_text())
    set_in(record, where, value)
    (run / "config.json").write_text(json.dumps(record))


def tamper_checkpoint(run: Path, where: str, value, name: str = "last.pt") -> None:
    state = torch.load(run / name, weights_only=True)
    set_in(state, where, value)
    torch.save(state, run / name)


def uses(kind: str, trained: Path, run: Path) -> list:
    image = trained / "imgs" / "a" / "0.png"
    return {"predict": ["predict", run, image],
            "evaluate": ["evaluate", run],
            "resume": ["train", trained / "tiny.cnn", "--resume", "--out", run, "--epochs", "2",
                       "--progress", "plain", "--workers", "0"],
            "predict-last": ["predict", run, image, "--weights", "last.pt"]}[kind]


CONFIG_DAMAGE = [
    ("classes", [], "classes"),
    ("classes", ["a", "b", "c"], "classes"),
    ("preprocess.size", [8], "preprocess.size"),
    ("preprocess.size", [1, 8, 8], "preprocess.size"),
    ("preprocess.size", [0, 0], "preprocess.size"),
    ("preprocess.size", [-3, 8], "preprocess.size"),
    ("preprocess.size", [60000, 60000], "preprocess"),
    ("preprocess.mode", "RGB", "preprocess"),
    ("normalisation.mean", [0.1, 0.2], "normalisation"),
    ("normalisation.mean", ["0.1"], "normalisation.mean"),
    ("normalisation.std", [0], "normalisation.std"),
    ("normalisation.std", [float("nan")], "normalisation.std"),
    ("task", "segment", "task"),
]


@pytest.mark.slow
@pytest.mark.parametrize("use", ["predict", "evaluate", "resume"])
@pytest.mark.parametrize("where, value, words", CONFIG_DAMAGE,
                         ids=[f"{w}={v}" for w, v, _ in CONFIG_DAMAGE])
def test_a_tampered_config_is_one_line(capsys, trained, run_copy, use, where, value, words):
    tamper_config(run_copy, where, value)
    status, err = command(capsys, *uses(use, trained, run_copy))
    one_line_error(status, err)
    assert "config.json" in err and words in err, err


CHECKPOINT_DAMAGE = [
    ("epoch", -5, "epoch"),
    ("epoch", 0, "epoch"),
    ("metrics", [1, 2], "metrics"),
    ("metrics", [{"epoch": "x"}], "metrics"),
    ("rng.numpy.keys", 5, "rng"),
    ("rng.python.state", [2 ** 40] * 625, "rng"),
    ("rng.numpy.pos", 10 ** 6, "rng"),
]


@pytest.mark.slow
@pytest.mark.parametrize("use", ["resume", "predict-last"])
@pytest.mark.parametrize("where, value, words", CHECKPOINT_DAMAGE,
                         ids=[f"{w}={v}"[:30] for w, v, _ in CHECKPOINT_DAMAGE])
def test_a_tampered_checkpoint_is_one_line(capsys, trained, run_copy, use, where, value,
                                           words):
    tamper_checkpoint(run_copy, where, value)
    status, err = command(capsys, *uses(use, trained, run_copy))
    one_line_error(status, err)
    assert "last.pt" in err and words in err, err


@pytest.mark.slow
def test_a_recorded_spec_too_large_to_hold_is_refused_before_it_is_built(
        capsys, trained, run_copy, monkeypatch):
    from cnndsl import memory

    text = TINY.replace("fc 2", "fc 200000")
    tamper_config(run_copy, "spec_text", text)
    tamper_config(run_copy, "spec_hash", checkpoint.spec_hash(text))
    monkeypatch.setattr(memory, "available", lambda device: memory.Limit(64 << 20, "a test"))
    for use in ("predict", "evaluate"):
        status, err = command(capsys, *uses(use, trained, run_copy))
        one_line_error(status, err)
        assert "needs at least" in err, err


@pytest.mark.slow
@pytest.mark.parametrize("kind", SPECIAL)
def test_predict_on_a_special_file_is_one_line(capsys, trained, kind, tmp_path):
    make_special(tmp_path / "zz.png", kind)
    status, err = command(capsys, "predict", trained / "run", tmp_path / "zz.png")
    assert status == 1 and "zz.png" in err and err.count("\n") == 1, err


@pytest.mark.slow
@pytest.mark.parametrize("name", ["best.pt", "config.json"])
def test_a_run_file_that_is_a_fifo_is_one_line(capsys, trained, run_copy, name):
    (run_copy / name).unlink()
    os.mkfifo(run_copy / name)
    for use in ("predict", "evaluate", "resume"):
        if use == "resume" and name == "best.pt":
            continue
        status, err = command(capsys, *uses(use, trained, run_copy))
        one_line_error(status, err)
        assert "FIFO" in err, err


@pytest.mark.slow
def test_a_fifo_in_a_class_folder_is_skipped_by_evaluate_and_train(capsys, trained, tmp_path):
    shutil.copytree(trained / "imgs", tmp_path / "imgs")
    os.mkfifo(tmp_path / "imgs" / "a" / "zz.png")
    (tmp_path / "imgs" / "b" / "dir.png").mkdir()
    status, err = command(capsys, "evaluate", trained / "run", "--data-dir", tmp_path / "imgs",
                          "--all", "--confusion", tmp_path / "c.png", "--workers", "0")
    assert status == 0, err
    status, err = command(capsys, "train", trained / "tiny.cnn", "--data", "folder",
                          "--data-dir", tmp_path / "imgs", "--epochs", "1", "--batch", "4",
                          "--workers", "0", "--out", tmp_path / "new", "--progress", "plain")
    assert status == 0 and "skipped 2 unreadable file(s)" in err, err


@pytest.mark.slow
def test_evaluate_on_a_class_folder_with_a_non_utf8_name(capsys, tmp_path):
    assert train_tiny(tmp_path, [b"a", b"b\xff"]) == 0
    capsys.readouterr()
    status, err = command(capsys, "evaluate", tmp_path / "run", "--workers", "0")
    assert status == 0 and (tmp_path / "run" / "confusion.png").is_file(), err


@pytest.mark.slow
def test_a_resume_whose_rows_lack_the_figure_it_ranks_by_is_one_line(capsys, trained,
                                                                      run_copy):
    tamper_config(run_copy, "settings.ema", 0.99)
    state = torch.load(run_copy / "last.pt", weights_only=True)
    tamper_checkpoint(run_copy, "ema", state["model"])
    status, err = command(capsys, *uses("resume", trained, run_copy))
    one_line_error(status, err)
    assert "last.pt" in err and "ema_test_acc" in err, err


def test_a_checkpoint_with_compressed_entries_is_not_inflated(tmp_path):
    import io
    import zipfile

    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(1 << 16)}, buffer)
    plain = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(tmp_path / "last.pt", "w") as out:
        for info in plain.infolist():
            out.writestr(info.filename, plain.read(info.filename), zipfile.ZIP_DEFLATED)
    assert (tmp_path / "last.pt").stat().st_size < 8 << 10       # 256 KiB of zeros inside
    with pytest.raises(checkpoint.CheckpointError, match="compressed"):
        checkpoint.load(tmp_path / "last.pt")


def test_a_pickled_dict_keyed_by_code_is_refused():
    # d = {}; d[numpy.dtype] = 1: a global as a key, hashable, so it passed unnoticed
    data = b"\x80\x02}q\x00cnumpy\ndtype\nq\x01K\x01s."
    with pytest.raises(safepickle.UnsafePickle, match="code"):
        safepickle.loads(data)
