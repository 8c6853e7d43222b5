"""Data: augmentation by its statistics, deterministic splits and workers, CIFAR-10
without unpickling, unreadable images skipped and named, a dying worker named."""

from __future__ import annotations

import os
import pickle
import re
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from cnndsl.train import augment, datasets, images
from cnndsl.train.batches import EpochBatches
from cnndsl.train.data import split
from cnndsl.train.datasets import DataError
from cnndsl.train.streams import IGNORE, FolderDataset, SegmentationDataset

BACKENDS = [False] + ([True] if augment.have_torchvision() else [])


# ---- augmentation, by what comes out ---------------------------------------------------------

def test_batch_flip_rate_and_crop_bounds():
    g = torch.Generator().manual_seed(0)
    x = torch.arange(1, 8 * 8 + 1, dtype=torch.float32).view(1, 1, 8, 8).repeat(4000, 1, 1, 1)
    flipped = augment.batch_augment(x, {"flip": None}, g)
    rate = float((flipped[:, 0, 0, 0] == 8).float().mean())
    assert 0.47 < rate < 0.53 and bool(((flipped[:, 0, 0, 0] == 1) | (flipped[:, 0, 0, 0] == 8))
                                       .all())
    cropped = augment.batch_augment(x, {"crop": 2}, g)
    shifts = _shifts(cropped[:, 0], x[0, 0])
    assert set(shifts) == {(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)}
    counts = np.bincount([(dy + 2) * 5 + dx + 2 for dy, dx in shifts], minlength=25)
    assert counts.min() > 4000 / 25 * 0.6       # every offset drawn about as often


def _shifts(crops: torch.Tensor, original: torch.Tensor) -> list[tuple[int, int]]:
    """The (dy, dx) each crop was taken at, found from where pixel (3, 3) went."""
    out = []
    for crop in crops:
        where = (crop == original[3, 3]).nonzero()
        assert len(where) == 1, "a crop must be a shifted window of the original"
        out.append((3 - int(where[0, 0]), 3 - int(where[0, 1])))
    return out


@pytest.fixture
def half_bright(tmp_path):
    """One class folder of 24x24 images whose left half is white."""
    folder = tmp_path / "imgs" / "a"
    folder.mkdir(parents=True)
    array = np.zeros((24, 24, 3), np.uint8)
    array[:, :12] = 255
    for i in range(4):
        Image.fromarray(array).save(folder / f"{i}.png")
    paths, labels = images.scan_classes(tmp_path / "imgs", ["a"])
    return paths, labels


@pytest.mark.parametrize("tv", BACKENDS, ids=lambda tv: "torchvision" if tv else "tensors")
def test_folder_flip_rate(half_bright, tv):
    data = FolderDataset(*half_bright, "RGB", (24, 24), {"flip": None}, tv)
    lefts = [float(data[(i % 4, seed)][0][:, :, :12].float().mean()) for i, seed in
             enumerate(range(1000))]
    rate = np.mean([v < 128 for v in lefts])
    assert 0.45 < rate < 0.55


@pytest.mark.parametrize("tv", BACKENDS, ids=lambda tv: "torchvision" if tv else "tensors")
def test_folder_crop_stays_within_its_padding(half_bright, tv):
    data = FolderDataset(*half_bright, "RGB", (24, 24), {"crop": 3}, tv)
    edges = set()
    for seed in range(400):
        x = data[(0, seed)][0][0].float()
        bright = (x[12] > 128).nonzero().flatten()      # one row: the white run moves
        edges.add(int(bright.max()) - 11)                # how far right it moved
        assert x.shape == (24, 24)
    assert edges == set(range(-3, 4))


@pytest.mark.parametrize("tv", BACKENDS, ids=lambda tv: "torchvision" if tv else "tensors")
def test_random_resized_crop_keeps_the_size_and_varies(half_bright, tv):
    data = FolderDataset(*half_bright, "RGB", (16, 16), {"rrc": 0.3}, tv)
    outs = [data[(0, seed)][0] for seed in range(50)]
    assert all(o.shape == (3, 16, 16) and o.dtype == torch.uint8 for o in outs)
    means = {round(float(o.float().mean()), 1) for o in outs}
    assert len(means) > 10


def test_rrc_boxes_respect_scale_and_ratio():
    g = torch.Generator().manual_seed(1)
    for _ in range(500):
        left, top, right, bottom = augment.rrc_box(100, 80, 0.25, g)
        w, h = right - left, bottom - top
        assert 0 <= left < right <= 100 and 0 <= top < bottom <= 80
        assert w * h >= 0.25 * 8000 * 0.95 and 0.7 < w / h < 1.4


@pytest.mark.parametrize("n, batch, world, sizes", [
    (5, 1, 1, [1, 1, 1, 1, 1]),      # batches of one were asked for: none is dropped
    (5, 2, 1, [2, 2]),               # a lone last sample is dropped (batch norm)
    (6, 2, 1, [2, 2, 2]),
    (1, 4, 1, [1]),                  # ... unless it is the only one
    (8, 4, 2, [2, 2]),               # each process takes its share of the global batch
    (7, 4, 2, [2]),                  # ... and none is left with one sample
    (5, 2, 2, [1, 1]),               # ... unless batches of one a process were asked for
])
def test_every_training_batch_is_kept_but_a_lone_last_one(n, batch, world, sizes):
    for rank in range(world):
        sampler = EpochBatches(n, batch, seed=3, train=True, rank=rank, world=world)
        assert [len(b) for b in sampler.index_batches()] == sizes
        assert len(sampler) == len(sizes) == len(list(sampler))
    every = EpochBatches(n, batch, seed=3, train=False)
    assert sum(len(b) for b in every.index_batches()) == n == sum(map(len, every))


def test_the_same_seed_gives_the_same_sample_with_any_worker_count(half_bright):
    data = FolderDataset(*half_bright, "RGB", (24, 24), {"flip": None, "crop": 2}, False)
    batches = []
    for workers in (0, 2):
        sampler = EpochBatches(len(data), 2, seed=7, train=True)
        sampler.set_epoch(3)
        loader = torch.utils.data.DataLoader(data, batch_sampler=sampler, num_workers=workers)
        batches.append(torch.cat([x for x, _, _ in loader]))
    assert torch.equal(batches[0], batches[1])


def test_segmentation_pairs_move_together(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    picture = np.zeros((20, 20, 3), np.uint8)
    picture[:, :6] = 255
    mask = np.zeros((20, 20), np.uint8)
    mask[:, :6] = 1
    Image.fromarray(picture).save(tmp_path / "images" / "x.png")
    Image.fromarray(mask).save(tmp_path / "masks" / "x.png")
    pictures, masks = images.scan_pairs(tmp_path)
    data = SegmentationDataset(pictures, masks, "RGB", (20, 20), {"flip": None, "crop": 3}, 2)
    for seed in range(100):
        x, y, problem = data[(0, seed)]
        assert problem == ""
        white = x[0] > 128
        assert torch.equal(white, y == 1)                # image and mask cut alike
        assert set(torch.unique(y).tolist()) <= {0, 1, IGNORE}


# ---- splits ------------------------------------------------------------------------------------

def test_held_out_split_is_deterministic_and_stratified():
    labels = np.repeat(np.arange(4), [50, 30, 10, 2])
    a = split(labels, len(labels), 0.2, seed=1)
    b = split(labels, len(labels), 0.2, seed=1)
    c = split(labels, len(labels), 0.2, seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[1], c[1])
    held = np.bincount(labels[a[1]], minlength=4)
    assert held.tolist() == [10, 6, 2, 1]
    assert len(np.intersect1d(a[0], a[1])) == 0 and len(a[0]) + len(a[1]) == len(labels)


# ---- CIFAR-10 ----------------------------------------------------------------------------------

def _cifar_arrays(n: int, seed: int):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072)).astype(np.uint8), rng.integers(0, 10, n)


def test_cifar_binary_distribution(tmp_path):
    root = tmp_path / "cifar-10-batches-bin"
    root.mkdir()
    expected = {}
    for i, name in enumerate([f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]):
        pixels, labels = _cifar_arrays(7, i)
        records = np.concatenate([labels[:, None].astype(np.uint8), pixels], axis=1)
        (root / name).write_bytes(records.tobytes())
        expected[name] = (pixels, labels)
    (root / "batches.meta.txt").write_text("\n".join(f"c{i}" for i in range(10)) + "\n\n")
    data = datasets.cifar10(tmp_path, download=False)
    assert data.train_x.shape == (35, 3, 32, 32) and data.test_x.shape == (7, 3, 32, 32)
    assert np.array_equal(data.test_x.reshape(7, -1), expected["test_batch.bin"][0])
    assert np.array_equal(data.test_y, expected["test_batch.bin"][1])
    assert data.classes == [f"c{i}" for i in range(10)]


def test_cifar_binary_of_the_wrong_size_is_named(tmp_path):
    root = tmp_path / "cifar-10-batches-bin"
    root.mkdir()
    for name in [f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]:
        (root / name).write_bytes(b"\x01" * 3074)
    with pytest.raises(DataError, match="data_batch_1.bin.*whole number of 3,073-byte"):
        datasets.cifar10(tmp_path, download=False)


def _python_batches(root, payload=None):
    root.mkdir()
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        pixels, labels = _cifar_arrays(5, i)
        batch = payload or {b"batch_label": b"x", b"labels": labels.tolist(), b"data": pixels,
                            b"filenames": [b"f"] * 5}
        (root / name).write_bytes(pickle.dumps(batch, protocol=2))


def test_cifar_python_batches_are_read_without_unpickling(tmp_path):
    _python_batches(tmp_path / "cifar-10-batches-py")
    data = datasets.cifar10(tmp_path, download=False)
    pixels, labels = _cifar_arrays(5, 5)
    assert np.array_equal(data.test_x.reshape(5, -1), pixels)
    assert data.test_y.tolist() == labels.tolist()


class Planted:
    def __init__(self, proof):
        self.proof = str(proof)

    def __reduce__(self):
        return (open, (self.proof, "w"))


def test_a_planted_python_batch_never_runs(tmp_path):
    proof = tmp_path / "proof.txt"
    _python_batches(tmp_path / "cifar-10-batches-py", {b"data": Planted(proof), b"labels": []})
    with pytest.raises(DataError, match="data_batch_1.*io.open.*binary version"):
        datasets.cifar10(tmp_path, download=False)
    assert not proof.exists()


@pytest.mark.parametrize("labels, says", [
    ([0, 1, 50, 2, 3], "data_batch_1` holds label 50; CIFAR-10 has 0-9"),
    ([0, 1, -1, 2, 3], "data_batch_1` holds label -1; CIFAR-10 has 0-9"),
    ([b"cat"] * 5, "data_batch_1`: its labels are not whole numbers"),
    ([[1, 2]] * 5, "data_batch_1`: its labels are not a list of numbers"),
])
def test_a_python_batch_with_labels_out_of_range_is_named(tmp_path, labels, says):
    pixels, _ = _cifar_arrays(5, 0)
    _python_batches(tmp_path / "cifar-10-batches-py", {b"labels": labels, b"data": pixels})
    with pytest.raises(DataError, match=re.escape(says)):
        datasets.cifar10(tmp_path, download=False)


def test_a_binary_batch_with_a_label_out_of_range_is_named(tmp_path):
    root = tmp_path / "cifar-10-batches-bin"
    root.mkdir()
    for name in [f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]:
        (root / name).write_bytes(bytes([12]) + b"\x00" * 3072)
    with pytest.raises(DataError, match="data_batch_1.bin` holds label 12; CIFAR-10 has 0-9"):
        datasets.cifar10(tmp_path, download=False)


def test_idx_labels_out_of_range_are_named(tmp_path):
    root = tmp_path / "MNIST" / "raw"
    root.mkdir(parents=True)

    def idx(path, array):
        dims = struct.pack(">" + "I" * array.ndim, *array.shape)
        path.write_bytes(bytes([0, 0, 0x08, array.ndim]) + dims + array.astype(np.uint8).tobytes())

    for part, n in (("train", 3), ("t10k", 2)):
        idx(root / f"{part}-images-idx3-ubyte", np.zeros((n, 4, 4)))
        idx(root / f"{part}-labels-idx1-ubyte", np.array([1, 10, 2][:n]))
    with pytest.raises(DataError, match="train-labels-idx1-ubyte` holds label 10; mnist has 0-9"):
        datasets.load("mnist", tmp_path)


def test_a_malformed_python_batch_is_a_data_error(tmp_path):
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        (root / name).write_bytes(b"\x80\x02}K\x01a.")     # APPEND onto a dict
    with pytest.raises(DataError, match="data_batch_1.*not a well-formed pickle"):
        datasets.cifar10(tmp_path, download=False)


# ---- unreadable images -------------------------------------------------------------------------

def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims 10 gigapixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))


def test_bad_images_become_problems_not_crashes(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(good)
    truncated = tmp_path / "cut.jpg"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bomb_png())
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    paths = np.array([os.fsencode(p) for p in (good, truncated, bomb, text)])
    data = FolderDataset(paths, np.zeros(4, np.int64), "RGB", (8, 8), {}, False)
    outcomes = [data[i] for i in range(4)]
    assert outcomes[0][2] == "" and outcomes[0][1] == 0
    for x, y, problem in outcomes[1:]:
        assert y == IGNORE and x.shape == (3, 8, 8) and problem
    assert "decompression bomb" in outcomes[2][2] and str(bomb) in outcomes[2][2]


DYING = """
import os, signal, torch
from cnndsl.train.data import watched
from cnndsl.train.datasets import DataError

class Dying(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        if index == 5:
            os.kill(os.getpid(), signal.SIGKILL)
        return torch.zeros(2)

try:
    list(watched(torch.utils.data.DataLoader(Dying(), batch_size=2, num_workers=1)))
except DataError as exc:
    print(exc)
"""


class _Worker:
    def __init__(self, pid, alive):
        self.pid, self.alive = pid, alive

    def is_alive(self):
        return self.alive


class _BrokenHandOver:
    """A loader whose worker died while handing over a batch: the main process sees the
    shared-memory hand-over's connection reset before torch reports the death."""

    def __init__(self, alive):
        self._workers = [_Worker(4242, alive)]
        self.shut = False

    def __iter__(self):
        return self

    def __next__(self):
        raise ConnectionResetError(104, "Connection reset by peer")

    def _shutdown_workers(self):
        self.shut = True


def test_a_worker_dying_mid_hand_over_is_reported_as_its_death():
    from cnndsl.train.data import watched

    loader = _BrokenHandOver(alive=False)
    with pytest.raises(DataError, match=r"^a data-loading worker died \(DataLoader worker "
                                        r"\(pid\(s\) 4242\) exited unexpectedly"):
        list(watched(loader))
    assert loader.shut


def test_torchs_report_arriving_while_the_death_is_awaited_is_the_one_shown():
    from cnndsl.train.data import watched

    class Reaped(_Worker):
        def is_alive(self):        # torch's SIGCHLD handler raises from whatever is running
            raise RuntimeError("DataLoader worker (pid 77) is killed by signal: Killed. ")

    loader = _BrokenHandOver(alive=True)
    loader._workers = [Reaped(77, True)]
    with pytest.raises(DataError, match=r"^a data-loading worker died \(DataLoader worker "
                                        r"\(pid 77\) is killed by signal: Killed\. \);"):
        list(watched(loader))
    assert loader.shut


def test_a_connection_error_with_every_worker_alive_is_not_called_a_death(monkeypatch):
    from cnndsl.train import data

    monkeypatch.setattr(data.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(data.time, "monotonic", iter(range(0, 1000, 10)).__next__)
    with pytest.raises(ConnectionResetError):
        list(data.watched(_BrokenHandOver(alive=True)))


def test_a_dying_worker_is_reported_clearly():
    # in a process of its own: torch's SIGCHLD handler belongs to the process
    done = subprocess.run([sys.executable, "-c", DYING], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("a data-loading worker died (DataLoader worker (pid")
    assert "fewer --workers" in done.stdout


def test_a_worker_death_reported_mid_step_is_one_line(capsys, tmp_path, monkeypatch):
    # torch's SIGCHLD handler raises wherever the main process is: here, inside training
    from cnndsl.cli import main
    from cnndsl.train import run

    def dies(*_):
        raise RuntimeError("DataLoader worker (pid 77) is killed by signal: Killed. ")

    monkeypatch.setattr(run, "_train", dies)
    spec = tmp_path / "t.cnn"
    spec.write_text("input 1x8x8\nfc 10\n")
    assert main(["train", str(spec), "--out", str(tmp_path / "r")]) == 1
    assert capsys.readouterr().err == (
        "error: a data-loading worker died (DataLoader worker (pid 77) is killed by signal: "
        "Killed. ); often it ran out of memory: try fewer --workers or a smaller --batch\n")


def test_an_error_raised_inside_a_worker_is_not_called_its_death():
    from cnndsl.train.data import watched

    class Failing(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            raise RuntimeError("DataLoader worker saw a bad sample")   # named alike, not a death

    loader = torch.utils.data.DataLoader(Failing(), batch_size=2, num_workers=1)
    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker"):
        list(watched(loader))
