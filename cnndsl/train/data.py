"""Datasets, held in memory as tensors and batched by index.

`digits` is scikit-learn's bundled 8x8 handwritten digits (no network). MNIST,
Fashion-MNIST (IDX files) and CIFAR-10 (python batches) are read from their
standard distributed formats; `folder` reads one sub-folder per class.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


class DataError(Exception):
    """A dataset problem, in words for the user (names the file)."""


@dataclass
class Dataset:
    name: str
    train_x: torch.Tensor   # (N, C, *spatial), float32, normalised
    train_y: torch.Tensor   # (N,), int64
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: int
    note: str = ""          # one line about adaptation, when shapes were changed

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.train_x.shape[1:])

    def to(self, device) -> Dataset:
        return Dataset(self.name, self.train_x.to(device), self.train_y.to(device),
                       self.test_x.to(device), self.test_y.to(device), self.classes, self.note)


# ---- loading -------------------------------------------------------------------

def load(name: str, data_dir: str, *, download: bool = False, path: str | None = None,
         channels: int | None = None, workers: int = 0) -> Dataset:
    """Load a dataset by name as uint8/float arrays split into train and test.
    `workers` threads decode an image folder's files (0: decode in this thread)."""
    if name == "digits":
        return _digits()
    if name in ("mnist", "fashion-mnist"):
        return _idx_dataset(name, Path(data_dir), download)
    if name == "cifar10":
        return _cifar10(Path(data_dir), download)
    if name == "folder":
        return _folder(Path(path or data_dir), channels, workers)
    raise DataError(f"unknown dataset `{name}`")


def _finish(name: str, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
            test_y: np.ndarray) -> Dataset:
    """Scale to [0, 1], normalise with the training set's mean and std."""
    tx = torch.from_numpy(np.ascontiguousarray(train_x)).float()
    vx = torch.from_numpy(np.ascontiguousarray(test_x)).float()
    if tx.max() > 1.5:
        tx, vx = tx / 255.0, vx / 255.0
    dims = [0] + list(range(2, tx.dim()))
    mean = tx.mean(dim=dims, keepdim=True)
    std = tx.std(dim=dims, keepdim=True).clamp_min(1e-6)
    ty = torch.from_numpy(np.asarray(train_y)).long()
    vy = torch.from_numpy(np.asarray(test_y)).long()
    classes = int(max(ty.max(), vy.max())) + 1
    return Dataset(name, (tx - mean) / std, ty, (vx - mean) / std, vy, classes)


def _digits() -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    train_x, test_x, train_y, test_y = train_test_split(
        x, digits.target, test_size=0.2, random_state=0, stratify=digits.target)
    return _finish("digits", train_x, train_y, test_x, test_y)


_IDX_FILES = {"train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
              "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte"}
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
              0x0E: ">f8"}


def _find(root: Path, names: list[str], stem: str) -> Path | None:
    for folder in [root / n for n in names] + [root / n / "raw" for n in names] + [root]:
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    return None


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped), checking its header."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read `{path}`: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise DataError(f"`{path}` is not an IDX file (bad magic number)")
    dims = data[3]
    if len(data) < 4 + 4 * dims:
        raise DataError(f"`{path}` is truncated: its header is incomplete")
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    body = data[4 + 4 * dims:]
    if len(body) != expected:
        raise DataError(f"`{path}` is truncated or corrupt: expected {expected:,} bytes of "
                        f"data for shape {shape}, found {len(body):,}")
    return np.frombuffer(body, dtype=dtype).reshape(shape)


def _idx_dataset(name: str, root: Path, download: bool) -> Dataset:
    folders = ["MNIST", "mnist"] if name == "mnist" else ["FashionMNIST", "fashion-mnist",
                                                          "fashion_mnist"]
    found = {key: _find(root, folders, stem) for key, stem in _IDX_FILES.items()}
    if any(v is None for v in found.values()) and download:
        _download(name, root)
        found = {key: _find(root, folders, stem) for key, stem in _IDX_FILES.items()}
    missing = [_IDX_FILES[k] for k, v in found.items() if v is None]
    if missing:
        raise DataError(f"{name}: cannot find {', '.join(missing)} in `{root}` (or its "
                        f"{folders[0]}/raw folder); put the IDX files there, or pass "
                        "--download (needs torchvision)")
    arrays = {k: read_idx(v) for k, v in found.items()}
    for split in ("train", "test"):
        x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
        if len(x) != len(y):
            raise DataError(f"{name}: {len(x):,} {split} images but {len(y):,} labels in "
                            f"`{found[split + '_y']}`")
    return _finish(name, arrays["train_x"][:, None], arrays["train_y"],
                   arrays["test_x"][:, None], arrays["test_y"])


def _unpickle(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
    except Exception as exc:  # any unpickling failure is a corrupt file
        raise DataError(f"cannot read CIFAR-10 batch `{path}`: {exc}") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DataError(f"`{path}` is not a CIFAR-10 python batch (no data/labels)")
    return batch


def _cifar10(root: Path, download: bool) -> Dataset:
    folder = root / "cifar-10-batches-py" if (root / "cifar-10-batches-py").is_dir() else root
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    if not all((folder / n).is_file() for n in names) and download:
        _download("cifar10", root)
        folder = root / "cifar-10-batches-py"
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise DataError(f"cifar10: cannot find {', '.join(missing)} in `{folder}`; unpack "
                        "cifar-10-python.tar.gz there, or pass --download (needs torchvision)")
    parts = [_unpickle(folder / n) for n in names]

    def images(batch: dict, path: str) -> np.ndarray:
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3072:
            raise DataError(f"`{folder / path}`: expected rows of 3072 bytes, got "
                            f"{data.shape}")
        return data.reshape(-1, 3, 32, 32)

    train_x = np.concatenate([images(p, n) for p, n in zip(parts[:5], names)])
    train_y = np.concatenate([np.asarray(p[b"labels"]) for p in parts[:5]])
    return _finish("cifar10", train_x, train_y, images(parts[5], names[5]),
                   np.asarray(parts[5][b"labels"]))


_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def _folder(root: Path, channels: int | None, workers: int = 0) -> Dataset:
    try:
        from PIL import Image
    except ImportError:
        raise DataError("`data folder` needs Pillow: pip install pillow") from None
    if not root.is_dir():
        raise DataError(f"image folder `{root}` does not exist")
    splits = {s: root / s for s in ("train", "test") if (root / s).is_dir()}
    if "test" not in splits and (root / "val").is_dir():
        splits["test"] = root / "val"
    mode = "L" if channels == 1 else "RGB"

    def decode(file: Path) -> np.ndarray:
        try:
            with Image.open(file) as image:
                return np.asarray(image.convert(mode))
        except OSError as exc:
            raise DataError(f"cannot read image `{file}`: {exc}") from None

    def read(folder: Path, classes: list[str]):
        files, ys = [], []
        for label, cls in enumerate(classes):
            for file in sorted((folder / cls).iterdir()) if (folder / cls).is_dir() else []:
                if file.suffix.lower() in _IMAGE_SUFFIXES:
                    files.append(file)
                    ys.append(label)
        if workers < 1:
            return [decode(f) for f in files], ys
        # Pillow releases the GIL while it decodes, so threads decode in parallel
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(decode, files)), ys

    base = splits.get("train", root)
    classes = sorted(d.name for d in base.iterdir() if d.is_dir() and d.name not in
                     ("train", "test", "val"))
    if not classes:
        raise DataError(f"`{base}` holds no class folders (expected one folder per class)")
    xs, ys = read(base, classes)
    if not xs:
        raise DataError(f"no images found under `{base}`")
    sizes = {x.shape for x in xs}
    if len(sizes) > 1:
        target = max(sizes)
        xs = [np.asarray(Image.fromarray(x).resize((target[1], target[0]))) for x in xs]
    x = np.stack(xs)
    x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
    y = np.asarray(ys)
    if "test" in splits:
        tx, ty = read(splits["test"], classes)
        tx = np.stack([np.asarray(Image.fromarray(t).resize((x.shape[-1], x.shape[-2])))
                       for t in tx])
        tx = tx[:, None] if tx.ndim == 3 else tx.transpose(0, 3, 1, 2)
        return _finish("folder", x, y, tx, np.asarray(ty))
    from sklearn.model_selection import train_test_split

    stratify = y if min(np.bincount(y)) >= 2 else None
    train_x, test_x, train_y, test_y = train_test_split(x, y, test_size=0.2, random_state=0,
                                                        stratify=stratify)
    return _finish("folder", train_x, train_y, test_x, test_y)


def _download(name: str, root: Path) -> None:
    try:
        import torchvision.datasets as tvd
    except Exception:  # torchvision missing, or built against another torch
        raise DataError(f"--download needs a working torchvision; otherwise put the {name} "
                        f"files in `{root}` yourself") from None
    cls = {"mnist": tvd.MNIST, "fashion-mnist": tvd.FashionMNIST, "cifar10": tvd.CIFAR10}[name]
    for train in (True, False):
        cls(str(root), train=train, download=True)


# ---- fitting data to a spec -------------------------------------------------------

def adapt(data: Dataset, shape: tuple[int, ...]) -> Dataset:
    """Resize spatially and adapt 1<->3 channels so samples match the spec's input.

    Anything else (another rank, other channel counts) is a DataError naming both shapes.
    """
    have = data.sample_shape
    if have == tuple(shape):
        return data
    spec = "x".join(map(str, shape))
    got = "x".join(map(str, have))
    if len(have) != len(shape):
        raise DataError(f"the spec takes {spec} samples, but {data.name} has {got} "
                        f"samples: they differ in rank and cannot be adapted")
    c_have, c_want = have[0], shape[0]
    if c_have != c_want and {c_have, c_want} != {1, 3}:
        raise DataError(f"the spec takes {c_want} channels ({spec}), but {data.name} has "
                        f"{c_have} ({got}); only 1<->3 channels are adapted")

    def fit(x: torch.Tensor) -> torch.Tensor:
        if x.shape[2:] != tuple(shape[1:]):
            mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[len(shape) - 1]
            x = F.interpolate(x, size=tuple(shape[1:]), mode=mode, align_corners=False)
        if c_have == 1 and c_want == 3:
            x = x.repeat(1, 3, *([1] * (x.dim() - 2)))
        elif c_have == 3 and c_want == 1:
            weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, *([1] * (x.dim() - 2)))
            x = (x * weights).sum(dim=1, keepdim=True)
        return x.contiguous()

    note = f"data: {data.name} samples are {got}; adapted to the spec's input {spec}"
    return Dataset(data.name, fit(data.train_x), data.train_y, fit(data.test_x), data.test_y,
                   data.classes, note)
