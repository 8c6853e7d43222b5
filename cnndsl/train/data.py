"""The data a run trains on, as batches ready for the model.

Two kinds behind one face (`Data`): the small standard sets (digits, IDX,
CIFAR-10) live in memory on the training device and are batched by index,
adapted to the spec's input, augmented and normalised there; image folders and
segmentation folders stream from disk through a `DataLoader` with worker
processes, which decode, resize and augment one sample each, so only the
current batches are ever in memory. Normalisation is computed once from the
training split (or given) and recorded by the run.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cnndsl.files import show_path
from cnndsl.ir.train_section import PATH_DATASETS
from cnndsl.train import augment, datasets, images
from cnndsl.train.batches import EpochBatches, mix
from cnndsl.train.datasets import DataError, DataMissing
from cnndsl.train.folder import forget_inherited_locks
from cnndsl.train.streams import FolderDataset, SegmentationDataset

STATS_SAMPLES = 10_000      # in-memory samples the normalisation is computed from
STATS_FILES = 1_000         # image files the normalisation is computed from
FIT_ONCE_BYTES = 256 << 20  # an in-memory set adapted up to this size is adapted once
DEFAULT_VAL = 0.2
Batch = tuple[torch.Tensor, torch.Tensor, list[str]]   # inputs, targets, problems


def default_workers() -> int:
    """Loader processes for image folders: one per core but one, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(8, cores - 1))


@dataclass
class Data:
    """Batches for training and evaluation, and what the run records about them."""

    name: str
    task: str                       # "classify" | "segment"
    classes: list[str]
    n_train: int
    n_test: int
    mean: list[float]
    std: list[float]
    preprocess: dict                # for predict/evaluate: mode, size, scale
    notes: list[str] = field(default_factory=list)
    sampler: EpochBatches | None = None
    source: object = None           # _Memory or _Stream

    def train_batches(self, epoch: int) -> Iterator[Batch]:
        self.sampler.set_epoch(epoch)
        return self.source.train(epoch)

    def test_batches(self) -> Iterator[Batch]:
        return self.source.test()

    @property
    def steps(self) -> int:
        return len(self.sampler)


# ---- in memory -------------------------------------------------------------------------------

class _Memory:
    """Arrays on the device; each batch adapted, augmented and normalised there."""

    def __init__(self, arrays: datasets.Arrays, shape: tuple[int, ...], ops: dict,
                 sampler: EpochBatches, batch: int, seed: int, device) -> None:
        self.shape, self.ops, self.sampler = shape, ops, sampler
        self.batch, self.seed, self.device = batch, seed, device
        self.train_x = torch.from_numpy(np.ascontiguousarray(arrays.train_x)).to(device)
        self.train_y = torch.from_numpy(arrays.train_y).to(device)
        self.test_x = torch.from_numpy(np.ascontiguousarray(arrays.test_x)).to(device)
        self.test_y = torch.from_numpy(arrays.test_y).to(device)
        self.scale = 255.0 if self.train_x.dtype == torch.uint8 else 1.0
        self.channels, self.spatial = shape[0], len(shape) - 1
        self.mean = self.std = None
        self._fit_once()

    def _fit_once(self) -> None:
        """Adapt the whole set once when the result is small (digits: 4 MB), so that
        a batch costs an index; larger sets are adapted batch by batch."""
        elements = (len(self.train_y) + len(self.test_y)) * math.prod(self.shape)
        if elements * 4 <= FIT_ONCE_BYTES:
            self.train_x = torch.cat([self.fit(self.train_x[s:s + 4096])
                                      for s in range(0, len(self.train_x), 4096)])
            self.test_x = torch.cat([self.fit(self.test_x[s:s + 4096])
                                     for s in range(0, len(self.test_x), 4096)])
            self.scale, self.adapted = 1.0, True

    adapted = False

    def fit(self, x: torch.Tensor) -> torch.Tensor:
        """Scale to [0, 1] and adapt size and channels to the spec's input."""
        if self.adapted:
            return x
        x = x.float() / self.scale
        return adapt(x, self.shape)

    normalised = False

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.normalised else (x - self.mean) / self.std

    def normalise_once(self) -> None:
        """Without augmentation (whose padding is black before normalisation), an
        adapted set is normalised once, not batch by batch."""
        if self.adapted and not self.ops:
            self.train_x = (self.train_x - self.mean) / self.std
            self.test_x = (self.test_x - self.mean) / self.std
            self.normalised = True

    def train(self, epoch: int) -> Iterator[Batch]:
        for step, idx in enumerate(self.sampler.index_batches()):
            idx = idx.to(self.device)
            x = self.fit(self.train_x[idx])
            if self.ops:
                g = torch.Generator().manual_seed(mix(self.seed, epoch, step))
                x = augment.batch_augment(x, self.ops, g)
            yield self.finish(x), self.train_y[idx], []

    def test(self) -> Iterator[Batch]:
        for start in range(0, len(self.test_y), self.batch):
            x = self.fit(self.test_x[start:start + self.batch])
            yield self.finish(x), self.test_y[start:start + self.batch], []

    def statistics(self) -> tuple[list[float], list[float]]:
        count = min(len(self.train_y), STATS_SAMPLES)
        pick = torch.randperm(len(self.train_y), generator=torch.Generator().manual_seed(0))
        x = torch.cat([self.fit(self.train_x[pick[s:s + 1024].to(self.device)])
                       for s in range(0, count, 1024)])
        dims = [0] + list(range(2, x.dim()))
        return x.mean(dim=dims).tolist(), x.std(dim=dims).clamp_min(1e-6).tolist()


def adapt(x: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """Resize spatially and map 1<->3 channels so a batch matches the spec's input."""
    if tuple(x.shape[2:]) != tuple(shape[1:]):
        mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[len(shape) - 1]
        x = F.interpolate(x, size=tuple(shape[1:]), mode=mode, align_corners=False)
    if x.shape[1] == 1 and shape[0] == 3:
        x = x.repeat(1, 3, *([1] * (x.dim() - 2)))
    elif x.shape[1] == 3 and shape[0] == 1:
        weights = torch.tensor([0.299, 0.587, 0.114], device=x.device)
        x = (x * weights.view(1, 3, *([1] * (x.dim() - 2)))).sum(dim=1, keepdim=True)
    return x


def check_adaptable(name: str, have: tuple[int, ...], want: tuple[int, ...]) -> str | None:
    """None when samples already fit; a note when they are adapted; DataError otherwise."""
    if have == tuple(want):
        return None
    spec, got = "x".join(map(str, want)), "x".join(map(str, have))
    if len(have) != len(want):
        raise DataError(f"the spec takes {spec} samples, but {name} has {got} samples: they "
                        "differ in rank and cannot be adapted")
    if have[0] != want[0] and {have[0], want[0]} != {1, 3}:
        raise DataError(f"the spec takes {want[0]} channels ({spec}), but {name} has {have[0]} "
                        f"({got}); only 1<->3 channels are adapted")
    return f"data: {name} samples are {got}; adapted to the spec's input {spec}"


# ---- streamed from disk ----------------------------------------------------------------------

class _Stream:
    """Two `DataLoader`s with worker processes; batches moved to the device as they come."""

    def __init__(self, train_set, test_set, sampler: EpochBatches, batch: int, workers: int,
                 seed: int, device) -> None:
        self.device = device
        cuda = torch.device(device).type == "cuda"
        common = {"num_workers": workers, "pin_memory": cuda,
                  "persistent_workers": workers > 0, "worker_init_fn": forget_inherited_locks}
        self.train_loader = torch.utils.data.DataLoader(
            train_set, batch_sampler=sampler, generator=own_generator(seed, 1), **common)
        self.test_loader = torch.utils.data.DataLoader(
            test_set, batch_sampler=EpochBatches(len(test_set), batch, 0, train=False),
            generator=own_generator(seed, 2), **common)
        self.train_set, self.workers = train_set, workers
        self.mean = self.std = None

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True).float().div_(255.0)
        return (x - self.mean) / self.std

    def train(self, epoch: int) -> Iterator[Batch]:
        return self._run(self.train_loader)

    def test(self) -> Iterator[Batch]:
        return self._run(self.test_loader)

    def _run(self, loader) -> Iterator[Batch]:
        for x, y, problems in watched(loader):
            yield self.finish(x), y.to(self.device, non_blocking=True), \
                [p for p in problems if p]

    def statistics(self) -> tuple[list[float], list[float]]:
        """Mean and std per channel over (up to) `STATS_FILES` training images."""
        n = len(self.train_set)
        pick = torch.randperm(n, generator=torch.Generator().manual_seed(0))[:STATS_FILES]
        keys = [[(int(i), None) for i in pick[s:s + 64]] for s in range(0, len(pick), 64)]
        loader = torch.utils.data.DataLoader(self.train_set, batch_sampler=keys,
                                             num_workers=self.workers,
                                             generator=own_generator(0, 3))
        total = square = count = 0
        first = None        # the first unreadable file's "path: why", to say if none was read
        for x, _, problems in watched(loader):
            first = first or next((p for p in problems if p), None)
            good = torch.tensor([not p for p in problems])
            x = x[good].double() / 255.0
            total = total + x.sum(dim=(0, 2, 3))
            square = square + (x * x).sum(dim=(0, 2, 3))
            count += x.numel() // x.shape[1] if len(x) else 0
        if not count:
            raise DataError(f"none of the training images could be read; the first: {first}")
        mean = total / count
        std = (square / count - mean * mean).clamp_min(1e-12).sqrt()
        return mean.tolist(), std.clamp_min(1e-6).tolist()


def own_generator(seed: int, loader: int) -> torch.Generator:
    """A loader's own RNG. Each new iterator draws its workers' base seed from it, which
    would otherwise come from the global RNG that dropout draws from: with persistent
    workers only the first epoch draws, with none every epoch, and a resumed run draws
    anew after its RNG was restored, so the metrics would depend on --workers and on
    resuming. (Augmentation draws from per-sample seeds, `batches.mix`, not from these.)"""
    return torch.Generator().manual_seed(mix(seed, 0x10AD, loader))


def watched(loader) -> Iterator:
    """Iterate a `DataLoader`, turning a worker's death into one clear `DataError`.

    torch's SIGCHLD handler raises its report wherever this code happens to be (while a
    batch is fetched, when the generator resumes, while the death is being diagnosed), so
    the whole loop is guarded. The dead loader is shut down before the error is raised:
    the handler would otherwise report the same death again at any later point."""
    iterator = iter(loader)
    try:
        while True:
            try:
                batch = next(iterator)
            except StopIteration:
                return
            yield batch
    except (RuntimeError, OSError, EOFError) as exc:
        try:
            message = _death(iterator, exc)
        except RuntimeError as report:       # torch's report, arriving while we looked
            message = _death(iterator, report)
        if message is None:
            raise
    _shut_down(iterator)
    raise died(message)


def died(message: str) -> DataError:
    """The error for a worker's death, from torch's report of it (its first line)."""
    return DataError(f"a data-loading worker died ({message}); often it ran out of memory: "
                     "try fewer --workers or a smaller --batch")


def _death(iterator, exc: BaseException) -> str | None:
    """What `exc` says of a worker's death, or None if it is not one: torch's own report (a
    RuntimeError naming the worker), or a hand-over broken by a worker killed while passing a
    batch's shared memory (connection reset, end of file), which torch reports only later."""
    if isinstance(exc, RuntimeError):
        return worker_report(exc)
    dead = _dead_workers(iterator)
    if not dead:
        return None
    return (f"DataLoader worker (pid(s) {', '.join(dead)}) exited unexpectedly: "
            f"{type(exc).__name__}")


def _dead_workers(iterator, wait: float = 5.0) -> list[str]:
    """The pids of the iterator's workers that have exited, waiting up to `wait` seconds
    for a dying one to be reaped."""
    workers = getattr(iterator, "_workers", None) or []
    deadline = time.monotonic() + wait
    while True:
        dead = [str(w.pid) for w in workers if not w.is_alive()]
        if dead or not workers or time.monotonic() > deadline:
            return dead
        time.sleep(0.05)


def worker_report(exc: BaseException) -> str | None:
    """The first line of torch's report of a worker's death, or None for any other error."""
    text = str(exc)
    if isinstance(exc, RuntimeError) and text.startswith("DataLoader worker"):
        return text.splitlines()[0]
    return None


def _shut_down(iterator) -> None:
    shutdown = getattr(iterator, "_shutdown_workers", None)
    if shutdown is None:
        return
    try:
        shutdown()
    except RuntimeError as exc:
        if worker_report(exc) is None:     # not the same death, reported again
            raise


# ---- choosing ----------------------------------------------------------------------------------

def open_data(s, facts, device, rank: int = 0, world: int = 1, *, stats=None,
              origin: str | None = None) -> Data:
    """The run's data, from its settings (`options.Settings`) and the spec (`SpecFacts`);
    `stats` (mean, std) as recorded by a run being resumed, else computed or given.
    `origin` says where `s.data_dir` came from (`given by --data-dir`): a message that
    the data is missing, or not laid out as it should be, names it."""
    try:
        return _open_data(s, facts, device, rank, world, stats)
    except (DataMissing, images.ScanError) as exc:
        if origin is None:
            raise
        raise type(exc)(f"{exc} (the data folder is {origin})") from None


def _open_data(s, facts, device, rank, world, stats) -> Data:
    ops = augment.parse(s.augment)
    if ops and len(facts.input) != 3:
        raise DataError("augmentation works on 2-D images; this spec's input is "
                        + "x".join(map(str, facts.input)))
    if s.data in PATH_DATASETS:
        return _stream_data(s, facts, ops, device, rank, world, stats)
    return _memory_data(s, facts, ops, device, rank, world, stats)


def _memory_data(s, facts, ops, device, rank, world, stats) -> Data:
    if "rrc" in ops:
        raise DataError("rrc (random-resized-crop) is for image folders; use crop=N here")
    arrays = datasets.load(s.data, Path(s.data_dir), download=s.download)
    notes = [] if s.val is None else [f"--val {s.val:g} not used: {arrays.name} has its own "
                                      "test split"]
    note = check_adaptable(arrays.name, tuple(arrays.train_x.shape[1:]), facts.input)
    notes += [note] if note else []
    sampler = EpochBatches(len(arrays.train_y), s.batch, s.seed, train=True, rank=rank,
                           world=world)
    source = _Memory(arrays, facts.input, ops, sampler, s.batch, s.seed, device)
    mean, std = _normalisation(s, source, stats)
    source.normalise_once()
    preprocess = {"mode": "L" if facts.input[0] == 1 else "RGB", "size": list(facts.input[1:]),
                  "scale": 255}
    return Data(arrays.name, "classify", arrays.classes, len(arrays.train_y),
                len(arrays.test_y), mean, std, preprocess, notes, sampler, source)


def _normalisation(s, source, stats) -> tuple[list[float], list[float]]:
    mean, std = stats or ((s.mean, s.std) if s.mean is not None else source.statistics())
    if len(mean) not in (1, source.channels):
        raise DataError(f"--mean/--std give {len(mean)} values; the data has "
                        f"{source.channels} channels")
    view = (1, -1) + (1,) * source.spatial
    source.mean = torch.tensor(mean, device=source.device).view(view)
    source.std = torch.tensor(std, device=source.device).view(view)
    return [float(m) for m in mean], [float(v) for v in std]


def _mode(facts) -> str:
    if len(facts.input) != 3 or facts.input[0] not in (1, 3):
        raise DataError("image folders give 1- or 3-channel 2-D images; the spec takes "
                        + "x".join(map(str, facts.input)))
    return "L" if facts.input[0] == 1 else "RGB"


def split(labels: np.ndarray | None, n: int, fraction: float, seed: int):
    """(train, held-out) indices: `fraction` of each class (of all, without labels),
    chosen by `seed`; each class with two samples or more keeps one on each side."""
    g = np.random.default_rng(mix(seed, 0x5EED))
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)] if labels is not None \
        else [np.arange(n)]
    train, held = [], []
    for group in groups:
        group = g.permutation(group)
        k = int(round(len(group) * fraction))
        k = min(max(k, 1), len(group) - 1) if len(group) > 1 else 0
        held.append(group[:k])
        train.append(group[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(held))


def _stream_data(s, facts, ops, device, rank, world, stats) -> Data:
    mode = _mode(facts)
    size = tuple(facts.input[1:])
    root = Path(s.data_dir)
    if not root.is_dir():
        what = "folder" if s.data == "folder" else f"{s.data} folder"
        problem = "is not a folder" if root.exists() else "does not exist"
        raise DataMissing(f"{what} `{show_path(os.path.abspath(root))}` {problem}")
    workers = s.workers if s.workers is not None else default_workers()
    if s.data == "segmentation":
        train_set, test_set, classes, notes = _segmentation_sets(root, s, facts, mode, ops)
    else:
        train_set, test_set, classes, notes = _folder_sets(root, s, mode, size, ops)
    sampler = EpochBatches(len(train_set), s.batch, s.seed, train=True, rank=rank, world=world)
    source = _Stream(train_set, test_set, sampler, s.batch, workers, s.seed, device)
    source.channels, source.spatial = facts.input[0], 2
    mean, std = _normalisation(s, source, stats)
    preprocess = {"mode": mode, "size": list(size), "scale": 255}
    task = "segment" if s.data == "segmentation" else "classify"
    return Data(s.data, task, classes, len(train_set), len(test_set), mean, std, preprocess,
                notes, sampler, source)


def split_folders(root: Path, task: str) -> list[Path]:
    """The folders under `root` that training reads its images from: `train/` and
    `test/` (or `val/`); `train/` alone or the root, split by the seed (a segmenter
    uses `train/` only with a held-out folder beside it)."""
    held = _held_out(root)
    if not (root / "train").is_dir() or (task == "segment" and held is None):
        return [root]
    return [root / "train"] + ([held] if held is not None else [])


def _held_out(root: Path) -> Path | None:
    for name in ("test", "val"):
        if (root / name).is_dir():
            return root / name
    return None


def _folder_sets(root: Path, s, mode: str, size: tuple[int, int], ops: dict):
    base, *rest = split_folders(root, "classify")
    held = rest[0] if rest else None
    classes = images.class_folders(base)
    paths, labels = images.scan_classes(base, classes)
    notes = []
    if held is not None:
        test_paths, test_labels = images.scan_classes(held, classes)
        if s.val is not None:
            notes.append(f"--val {s.val:g} not used: `{held}` is the held-out split")
    else:
        fraction = s.val if s.val is not None else DEFAULT_VAL
        train_idx, test_idx = split(labels, len(labels), fraction, s.seed)
        paths, labels, test_paths, test_labels = (paths[train_idx], labels[train_idx],
                                                  paths[test_idx], labels[test_idx])
        notes.append(f"data: {len(test_idx):,} of {len(train_idx) + len(test_idx):,} images "
                     f"held out for validation (--val {fraction:g}, by --seed)")
    tv = augment.have_torchvision()
    return (FolderDataset(paths, labels, mode, size, ops, tv),
            FolderDataset(test_paths, test_labels, mode, size, {}, tv), classes, notes)


def _segmentation_sets(root: Path, s, facts, mode: str, ops: dict):
    size = tuple(facts.input[1:])
    classes = facts.output[0]
    notes = []
    folders = split_folders(root, "segment")
    if len(folders) == 2:
        train_images, train_masks = images.scan_pairs(folders[0])
        test_images, test_masks = images.scan_pairs(folders[1])
    else:
        all_images, all_masks = images.scan_pairs(root)
        fraction = s.val if s.val is not None else DEFAULT_VAL
        train_idx, test_idx = split(None, len(all_images), fraction, s.seed)
        train_images, train_masks = all_images[train_idx], all_masks[train_idx]
        test_images, test_masks = all_images[test_idx], all_masks[test_idx]
        notes.append(f"data: {len(test_idx):,} of {len(all_images):,} image/mask pairs held "
                     f"out for validation (--val {fraction:g}, by --seed)")
    names = [str(c) for c in range(classes)]
    return (SegmentationDataset(train_images, train_masks, mode, size, ops, classes),
            SegmentationDataset(test_images, test_masks, mode, size, {}, classes), names, notes)
