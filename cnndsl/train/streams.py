"""Image folders streamed from disk: `torch.utils.data` datasets decoded in workers.

A dataset holds the file paths as one numpy byte array (no per-file Python
object for forked workers to copy on touch) and decodes one sample when asked:
Pillow, then resize (or random-resized-crop), flip and crop, to a uint8 tensor.
An unreadable file gives an empty sample marked with a problem ("path: why"),
which the loop skips and counts; it never stops a worker.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from cnndsl.train import augment
from cnndsl.train.images import BadImage, open_image

IGNORE = -100          # a target the losses skip (F.cross_entropy's ignore_index)
MASK_IGNORE = 255      # in a mask file: "no class here"


def to_tensor(image) -> torch.Tensor:
    """A Pillow image as a (C, H, W) uint8 tensor."""
    tensor = torch.from_numpy(np.array(image))      # one copy, writable
    return tensor.permute(2, 0, 1) if tensor.dim() == 3 else tensor[None]


class FolderDataset(torch.utils.data.Dataset):
    """One image per class folder file; keys are (index, augmentation seed or None)."""

    def __init__(self, paths: np.ndarray, labels: np.ndarray, mode: str,
                 size: tuple[int, int], ops: dict, use_torchvision: bool) -> None:
        self.paths, self.labels, self.mode = paths, labels, mode
        self.size, self.ops = size, ops                      # size: (H, W)
        self.pipeline = augment.torchvision_pipeline(ops, size) if use_torchvision and ops \
            else None

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, key):
        index, seed = key if isinstance(key, tuple) else (key, None)
        path = self.paths[index]
        try:
            image = open_image(path, self.mode, (self.size[1], self.size[0]))
            x = self._train(image, seed) if seed is not None and self.ops else \
                to_tensor(fit(image, self.size))
        except BadImage as exc:
            channels = 1 if self.mode == "L" else 3
            return (torch.zeros((channels, *self.size), dtype=torch.uint8), IGNORE,
                    f"{os.fsdecode(path)}: {exc}")
        return x, int(self.labels[index]), ""

    def _train(self, image, seed: int) -> torch.Tensor:
        if self.pipeline is not None:
            # torchvision draws from the global RNG: seed it for this sample only, so that
            # with --workers 0 (in the training process) dropout's draws are left as they were
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                return self.pipeline(image)
        g = torch.Generator().manual_seed(seed)
        box = augment.rrc_box(*image.size, self.ops["rrc"], g) if "rrc" in self.ops else None
        x = to_tensor(fit(image, self.size, box))
        if "flip" in self.ops and augment.flip_draw(g):
            x = x.flip(-1)
        if self.ops.get("crop"):
            x = augment.pad_crop(x, int(self.ops["crop"]), *augment.crop_draw(self.ops["crop"], g))
        return x


class SegmentationDataset(torch.utils.data.Dataset):
    """Image/mask pairs; a mask is a class-index PNG (255: no class)."""

    def __init__(self, images: np.ndarray, masks: np.ndarray, mode: str,
                 size: tuple[int, int], ops: dict, classes: int) -> None:
        self.images, self.masks, self.mode = images, masks, mode
        self.size, self.ops, self.classes = size, ops, classes

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key):
        index, seed = key if isinstance(key, tuple) else (key, None)
        try:
            image = open_image(self.images[index], self.mode)
            mask = open_image(self.masks[index], "mask")
            x, y = self._pair(image, mask, seed if self.ops else None)
            y = self._targets(y)
        except BadImage as exc:
            channels = 1 if self.mode == "L" else 3
            return (torch.zeros((channels, *self.size), dtype=torch.uint8),
                    torch.full(self.size, IGNORE, dtype=torch.int64),
                    f"{os.fsdecode(self.images[index])}: {exc}")
        return x, y, ""

    def _pair(self, image, mask, seed: int | None):
        if image.size != mask.size:
            raise BadImage(f"its mask is {mask.size[0]}x{mask.size[1]}, the image "
                           f"{image.size[0]}x{image.size[1]}")
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        box = augment.rrc_box(*image.size, self.ops["rrc"], g) \
            if g is not None and "rrc" in self.ops else None
        x = to_tensor(image.resize(self.size[::-1], resample=_bilinear(), box=box))
        y = to_tensor(mask.resize(self.size[::-1], resample=_nearest(), box=box))[0]
        if g is not None and "flip" in self.ops and augment.flip_draw(g):
            x, y = x.flip(-1), y.flip(-1)
        if g is not None and self.ops.get("crop"):
            pad = int(self.ops["crop"])
            top, left = augment.crop_draw(pad, g)
            x = augment.pad_crop(x, pad, top, left)
            y = augment.pad_crop(y[None].int() - MASK_IGNORE, pad, top, left)[0] + MASK_IGNORE
        return x, y

    def _targets(self, mask: torch.Tensor) -> torch.Tensor:
        y = mask.to(torch.int64)
        ignore = y == MASK_IGNORE
        kept = y[~ignore]
        low, high = (int(kept.min()), int(kept.max())) if kept.numel() else (0, 0)
        if high >= self.classes or low < 0:
            raise BadImage(f"its mask holds class {high if high >= self.classes else low}, "
                           f"but the network outputs {self.classes} classes "
                           f"(0-{self.classes - 1}; 255: none)")
        return y.masked_fill(ignore, IGNORE)


def fit(image, size: tuple[int, int], box=None):
    """`image` (or its `box`) resized to `size` (H, W); as it is when it already fits."""
    if box is None and image.size == size[::-1]:
        return image
    return image.resize(size[::-1], resample=_bilinear(), box=box)


def _bilinear():
    from PIL import Image

    return Image.Resampling.BILINEAR


def _nearest():
    from PIL import Image

    return Image.Resampling.NEAREST
