"""The small standard datasets, held in memory as arrays.

`digits` is the UCI handwritten digits as scikit-learn bundles them, shipped in
the package as `digits.npz` (origin and licence in `digits.md`; no network). MNIST
and Fashion-MNIST are read from their IDX files, CIFAR-10 from its binary
distribution (`cifar-10-batches-bin`) or its python batches, which are read by
`safepickle` (opcode by opcode, never unpickled). Every file read is bounded.
"""

from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnndsl.files import FileProblem, read_bytes, show_path
from cnndsl.train import safepickle

DIGITS = Path(__file__).with_name("digits.npz")
MAX_DATA_BYTES = 1 << 30    # the largest standard file here (MNIST train images) is 47 MB
CIFAR_RECORD = 1 + 3 * 32 * 32


class DataError(Exception):
    """A dataset problem, in words for the user (names the file)."""


class DataMissing(DataError):
    """The data is not where it was looked for; the caller adds where that path came from."""


@dataclass
class Arrays:
    """A dataset in memory: images (N, C, *spatial) as uint8 (or float in [0, 1])."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray | None
    test_y: np.ndarray | None
    classes: list[str]


def load(name: str, root: Path, *, download: bool = False) -> Arrays:
    """One of the built-in or standard sets, by name."""
    if name == "digits":
        return digits()
    if name in ("mnist", "fashion-mnist"):
        return idx_dataset(name, root, download)
    if name == "cifar10":
        return cifar10(root, download)
    raise DataError(f"unknown dataset `{name}`")


def digits() -> Arrays:
    """The 1,797 8x8 digits (values 0..16, scaled to [0, 1]), 80/20 as `digits_split` makes."""
    with np.load(DIGITS, allow_pickle=False) as stored:
        images, labels = stored["images"], stored["labels"]
    x = (images / 16.0).astype(np.float32)[:, None, :, :]
    y = labels.astype(np.int64)
    test = digits_split(y)
    return Arrays("digits", x[~test], y[~test], x[test], y[test], [str(i) for i in range(10)])


def digits_split(labels: np.ndarray, test_share: float = 0.2) -> np.ndarray:
    """A boolean mask of the held-out samples: `ceil(test_share * n)` of them (360 of
    1,797, as scikit-learn's `train_test_split` took), each class held out in
    proportion (largest remainder first), evenly spaced through the class's samples.
    No random draw, so the split is the same with every NumPy."""
    counts = np.bincount(labels)
    total = int(np.ceil(test_share * len(labels)))
    quota = counts * total / len(labels)
    taken = np.floor(quota).astype(np.int64)
    by_remainder = np.argsort(-(quota - taken), kind="stable")
    taken[by_remainder[:total - int(taken.sum())]] += 1
    test = np.zeros(len(labels), dtype=bool)
    for label, (count, k) in enumerate(zip(counts, taken)):
        middles = ((2 * np.arange(k) + 1) * count) // (2 * k)   # of k equal stretches
        test[np.flatnonzero(labels == label)[middles]] = True
    return test


def _read(path: Path, what: str, *, inflate: bool = True) -> bytes:
    """A data file's bytes, bounded by MAX_DATA_BYTES (inflated too, if `.gz`)."""
    try:
        data = read_bytes(path, MAX_DATA_BYTES, what=what)
        if inflate and path.suffix == ".gz":
            with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as stream:
                data = stream.read(MAX_DATA_BYTES + 1)
            if len(data) > MAX_DATA_BYTES:
                raise DataError(f"`{show_path(path)}` inflates to over {MAX_DATA_BYTES:,} "
                                f"bytes; a {what} may be at most that")
        return data
    except (FileProblem, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read `{show_path(path)}`: {exc}") from None


# ---- IDX (MNIST, Fashion-MNIST) ---------------------------------------------------------

_IDX_FILES = {"train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
              "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte"}
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
              0x0E: ">f8"}
_FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot"]


def _find(root: Path, names: list[str], stem: str) -> Path | None:
    for folder in [root / n for n in names] + [root / n / "raw" for n in names] + [root]:
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    return None


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped), checking its header. A gzipped file is
    inflated no further than its header's counts say it holds (a few megabytes of zeros
    would otherwise inflate to gigabytes)."""
    with _opened(path) as stream:
        head = _take(stream, path, 4)
        if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES:
            raise DataError(f"`{show_path(path)}` is not an IDX file (bad magic number)")
        dims = head[3]
        counts = _take(stream, path, 4 * dims)
        if len(counts) < 4 * dims:
            raise DataError(f"`{show_path(path)}` is truncated: its header is incomplete")
        shape = struct.unpack(f">{dims}I", counts)
        dtype = np.dtype(_IDX_TYPES[head[2]])
        expected = math.prod(shape) * dtype.itemsize
        if expected > MAX_DATA_BYTES:
            raise DataError(f"`{show_path(path)}` declares {expected:,} bytes of data (shape "
                            f"{shape}); an IDX file here may hold at most {MAX_DATA_BYTES:,}")
        body = _take(stream, path, expected + 1)
    if len(body) > expected:
        raise DataError(f"`{show_path(path)}` holds more data than its header declares "
                        f"({expected:,} bytes for shape {shape}); the file is corrupt")
    if len(body) != expected:
        raise DataError(f"`{show_path(path)}` is truncated or corrupt: expected "
                        f"{expected:,} bytes of data for shape {shape}, found {len(body):,}")
    return np.frombuffer(body, dtype=dtype).reshape(shape)


def _opened(path: Path):
    """The file's bytes as a stream: read whole (bounded), inflated on demand if `.gz`."""
    raw = io.BytesIO(_read(path, "IDX file", inflate=False))
    return gzip.GzipFile(fileobj=raw, mode="rb") if path.suffix == ".gz" else raw


def _take(stream, path: Path, size: int) -> bytes:
    """Up to `size` bytes of `stream`; a damaged gzip stream is a `DataError`."""
    try:
        return stream.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read `{show_path(path)}`: {exc}") from None


def idx_dataset(name: str, root: Path, download: bool) -> Arrays:
    folders = ["MNIST", "mnist"] if name == "mnist" else ["FashionMNIST", "fashion-mnist",
                                                          "fashion_mnist"]
    found = {key: _find(root, folders, stem) for key, stem in _IDX_FILES.items()}
    if any(v is None for v in found.values()) and download:
        _download(name, root)
        found = {key: _find(root, folders, stem) for key, stem in _IDX_FILES.items()}
    missing = [_IDX_FILES[k] for k, v in found.items() if v is None]
    if missing:
        raise DataMissing(f"{name}: cannot find {', '.join(missing)} in `{show_path(root)}` (or "
                        f"its {folders[0]}/raw folder); put the IDX files there, or pass "
                        "--download (needs torchvision)")
    arrays = {k: read_idx(v) for k, v in found.items()}
    for split in ("train", "test"):
        x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
        if x.ndim != 3:
            raise DataError(f"`{show_path(found[split + '_x'])}` holds {x.ndim}-dimensional "
                            "data; IDX images are (count, height, width)")
        if y.ndim != 1:
            raise DataError(f"`{show_path(found[split + '_y'])}` holds {y.ndim}-dimensional "
                            "data; IDX labels are one list of numbers")
        if len(x) != len(y):
            raise DataError(f"{name}: {len(x):,} {split} images but {len(y):,} labels in "
                            f"`{show_path(found[split + '_y'])}`")
        arrays[f"{split}_y"] = _labels(found[f"{split}_y"], y, name, 10)
    classes = _FASHION if name == "fashion-mnist" else [str(i) for i in range(10)]
    return Arrays(name, arrays["train_x"][:, None], arrays["train_y"],
                  arrays["test_x"][:, None], arrays["test_y"], classes)


def _labels(path: Path, labels, name: str, classes: int) -> np.ndarray:
    """`labels` as int64 class indices, or a `DataError` naming the file."""
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (ValueError, TypeError, OverflowError):
        raise DataError(f"`{show_path(path)}`: its labels are not whole numbers") from None
    if labels.ndim != 1:
        raise DataError(f"`{show_path(path)}`: its labels are not a list of numbers")
    bad = labels[(labels < 0) | (labels >= classes)]
    if len(bad):
        raise DataError(f"`{show_path(path)}` holds label {bad[0]}; {name} has 0-{classes - 1}")
    return labels


# ---- CIFAR-10 ----------------------------------------------------------------------------

CIFAR_BINARY_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR_BINARY_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                 "ship", "truck"]


def cifar10(root: Path, download: bool) -> Arrays:
    """The binary distribution when present, else the python batches (read safely)."""
    binary = _cifar_folder(root, "cifar-10-batches-bin", "data_batch_1.bin")
    if binary is not None:
        return _cifar_binary(binary)
    python = _cifar_folder(root, "cifar-10-batches-py", "data_batch_1")
    if python is None and download:
        _download("cifar10", root)
        return _cifar_binary(root / "cifar-10-batches-bin")
    if python is None:
        raise DataMissing(f"cifar10: cannot find cifar-10-batches-bin/ (or cifar-10-batches-py/) "
                        f"in `{show_path(root)}`; unpack cifar-10-binary.tar.gz there, or pass "
                        "--download (needs torchvision)")
    return _cifar_python(python)


def _cifar_folder(root: Path, name: str, first: str) -> Path | None:
    for folder in (root / name, root):
        if (folder / first).is_file():
            return folder
    return None


def _cifar_binary(folder: Path) -> Arrays:
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    _require(folder, names)
    parts = [_cifar_records(folder / n) for n in names]
    classes = CIFAR_CLASSES
    meta = folder / "batches.meta.txt"
    if meta.is_file():
        names_read = [line.strip() for line in _read(meta, "class list").decode(
            "utf-8", "replace").splitlines() if line.strip()]
        classes = names_read if len(names_read) == 10 else classes
    train_x = np.concatenate([p[0] for p in parts[:5]])
    train_y = np.concatenate([p[1] for p in parts[:5]])
    return Arrays("cifar10", train_x, train_y, parts[5][0], parts[5][1], classes)


def _cifar_records(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """1 label byte + 3,072 pixel bytes (R, G, B planes of 32x32) per record."""
    data = _read(path, "CIFAR-10 batch")
    if len(data) == 0 or len(data) % CIFAR_RECORD:
        raise DataError(f"`{show_path(path)}` is not a CIFAR-10 binary batch: {len(data):,} "
                        f"bytes is not a whole number of {CIFAR_RECORD:,}-byte records")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, CIFAR_RECORD)
    return records[:, 1:].reshape(-1, 3, 32, 32), _labels(path, records[:, 0], "CIFAR-10", 10)


def _cifar_python(folder: Path) -> Arrays:
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    _require(folder, names)
    parts = [_cifar_pickled(folder / n) for n in names]
    train_x = np.concatenate([p[0] for p in parts[:5]])
    train_y = np.concatenate([p[1] for p in parts[:5]])
    return Arrays("cifar10", train_x, train_y, parts[5][0], parts[5][1], CIFAR_CLASSES)


def _cifar_pickled(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = safepickle.loads(_read(path, "CIFAR-10 batch"))
    except safepickle.UnsafePickle as exc:
        raise DataError(f"`{show_path(path)}` is not a CIFAR-10 python batch: {exc}; use the "
                        "binary version (cifar-10-binary.tar.gz) instead") from None
    if not isinstance(batch, dict) or "data" not in batch or "labels" not in batch:
        raise DataError(f"`{show_path(path)}` is not a CIFAR-10 python batch (no data/labels)")
    data, labels = batch["data"], _labels(path, batch["labels"], "CIFAR-10", 10)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or \
            data.shape[1] != 3072 or len(labels) != len(data):
        raise DataError(f"`{show_path(path)}`: expected rows of 3,072 bytes with one label each")
    return data.reshape(-1, 3, 32, 32), labels


def _require(folder: Path, names: list[str]) -> None:
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise DataError(f"cifar10: cannot find {', '.join(missing)} in `{show_path(folder)}`")


def _download(name: str, root: Path) -> None:
    try:
        import torchvision.datasets as tvd
    except Exception:  # torchvision missing, or built against another torch
        raise DataError(f"--download needs a working torchvision; otherwise put the {name} "
                        f"files in `{show_path(root)}` yourself") from None
    try:
        if name == "cifar10":   # the binary distribution: torchvision's class would unpickle
            from torchvision.datasets.utils import download_and_extract_archive

            download_and_extract_archive(CIFAR_BINARY_URL, str(root), md5=CIFAR_BINARY_MD5)
            return
        cls = {"mnist": tvd.MNIST, "fashion-mnist": tvd.FashionMNIST}[name]
        for train in (True, False):
            cls(str(root), train=train, download=True)
    except Exception as exc:  # torchvision's network and archive errors, in one line
        raise DataError(f"--download of {name} failed: {str(exc).splitlines()[0][:200]}") \
            from None
