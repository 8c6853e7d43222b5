"""Augmentation: horizontal flip, random crop with padding, random-resized-crop.

Two forms of the same operations. Per sample, on a Pillow image or a uint8
tensor, for image folders (in the loader's workers): torchvision's transforms
when torchvision is importable, else the functions here. Per batch, on the
device, for the in-memory sets (each sample of the batch draws its own flip and
offsets). Every draw comes from a generator seeded by (seed, epoch, sample), so
a run is the same whatever the number of workers, and resumes exactly.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

RRC_RATIO = (3 / 4, 4 / 3)


def parse(augment) -> dict:
    """`[["flip", None], ["crop", 4]]` -> `{"flip": None, "crop": 4}`."""
    return {name: value for name, value in augment or ()}


def have_torchvision() -> bool:
    try:
        import torchvision.transforms.v2  # noqa: F401
    except Exception:  # missing, or built against another torch
        return False
    return True


# ---- one sample ----------------------------------------------------------------------------

def _uniform(g: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=g))


def _randint(g: torch.Generator, high: int) -> int:
    """A whole number in [0, high]."""
    return int(torch.randint(0, high + 1, (), generator=g))


def rrc_box(width: int, height: int, scale: float, g: torch.Generator):
    """torchvision's RandomResizedCrop draw: (left, top, right, bottom) of a region
    of `scale`..1 of the area and aspect ratio 3/4..4/3."""
    area = width * height
    for _ in range(10):
        target = area * _uniform(g, scale, 1.0)
        ratio = math.exp(_uniform(g, math.log(RRC_RATIO[0]), math.log(RRC_RATIO[1])))
        w = round(math.sqrt(target * ratio))
        h = round(math.sqrt(target / ratio))
        if 0 < w <= width and 0 < h <= height:
            top, left = _randint(g, height - h), _randint(g, width - w)
            return left, top, left + w, top + h
    side = min(width, height)          # the fallback: a central square
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def flip_draw(g: torch.Generator) -> bool:
    return bool(torch.rand((), generator=g) < 0.5)


def crop_draw(pad: int, g: torch.Generator) -> tuple[int, int]:
    """Offsets (top, left) into the padded image, each in [0, 2 * pad]."""
    return _randint(g, 2 * pad), _randint(g, 2 * pad)


def pad_crop(x: torch.Tensor, pad: int, top: int, left: int) -> torch.Tensor:
    """Zero-pad a (C, H, W) tensor by `pad` and cut its H x W window at (top, left)."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (pad, pad, pad, pad))
    return padded[..., top:top + h, left:left + w]


# ---- a batch on the device -------------------------------------------------------------------

def batch_augment(x: torch.Tensor, ops: dict, g: torch.Generator) -> torch.Tensor:
    """Flip and pad-crop a (N, C, H, W) batch, each sample with its own draw."""
    if "flip" in ops:
        flips = (torch.rand(len(x), generator=g) < 0.5).to(x.device)
        x = torch.where(flips.view(-1, *([1] * (x.dim() - 1))), x.flip(-1), x)
    pad = ops.get("crop")
    if pad:
        x = _batch_pad_crop(x, int(pad), g)
    return x


def _batch_pad_crop(x: torch.Tensor, pad: int, g: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    offsets = torch.randint(0, 2 * pad + 1, (2, n), generator=g).to(x.device)
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = offsets[0][:, None] + torch.arange(h, device=x.device)       # (N, H)
    cols = offsets[1][:, None] + torch.arange(w, device=x.device)       # (N, W)
    batch = torch.arange(n, device=x.device)[:, None, None]
    picked = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
    return picked.permute(0, 3, 1, 2).contiguous()                       # (N, C, H, W)


# ---- torchvision, for image folders -------------------------------------------------------------

def torchvision_pipeline(ops: dict, size: tuple[int, int]):
    """The same operations as torchvision transforms (PIL image in, uint8 tensor out)."""
    import torchvision.transforms.v2 as T

    steps = [T.RandomResizedCrop(size, scale=(ops["rrc"], 1.0), antialias=True)
             if "rrc" in ops else T.Resize(size, antialias=True)]
    steps.append(T.PILToTensor())
    if "flip" in ops:
        steps.append(T.RandomHorizontalFlip())
    if ops.get("crop"):
        steps.append(T.RandomCrop(size, padding=int(ops["crop"])))
    return T.Compose(steps)
