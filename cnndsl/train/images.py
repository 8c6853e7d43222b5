"""Image files on disk: finding them (class folders, image/mask pairs) and
decoding one safely with Pillow.

A file that cannot be decoded (truncated, corrupt, not an image, or a
decompression bomb: more pixels than `MAX_PIXELS`, checked from the header
before anything is decoded) raises `BadImage`; the loaders skip such a sample,
count it and name the first one, instead of stopping the run.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
#: 8,192 x 8,192: far above any training image, far below a decompression bomb
MAX_PIXELS = 1 << 26
MAX_FILES = 50_000_000


class BadImage(Exception):
    """One unreadable image; the message says why (the caller names the file)."""


class ScanError(Exception):
    """A folder that does not hold what the dataset needs, in words."""


def pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ScanError("image folders need Pillow: pip install pillow") from None
    return Image


def open_image(path: str | bytes, mode: str, size: tuple[int, int] | None = None,
               seen: dict | None = None):
    """Decode `path` as a Pillow image in `mode` (`RGB`, `L`, or `mask`: class indices).

    `size` (width, height), when given, lets JPEG decode at a reduced scale
    (`draft`) when the file is at least twice as large as needed. `seen`, when given,
    receives the file's own `size` (width, height) and `mode`, before any conversion.
    """
    Image = pillow()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with _regular(path) as handle, Image.open(handle) as image:
                width, height = image.size
                if seen is not None:
                    seen.update(size=(width, height), mode=image.mode)
                if width * height > MAX_PIXELS:
                    raise BadImage(f"{width}x{height} pixels, over the limit of "
                                   f"{MAX_PIXELS:,} (a decompression bomb?)")
                if mode == "mask":
                    return _mask(image)
                if size is not None and image.format == "JPEG":
                    image.draft(mode, size)
                image = _eight_bit(image, Image)
                return image.convert(mode) if image.mode != mode else image.copy()
        except BadImage:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise BadImage(f"a decompression bomb ({exc})") from None
        except Image.UnidentifiedImageError:     # its message names a file descriptor
            raise BadImage("not an image Pillow can read") from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise BadImage(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) \
                from None


def _regular(path: str | bytes):
    """The image file, opened only if it is a regular file: Pillow's own open would block
    forever on a FIFO, and read a device or a directory named `x.png`."""
    from cnndsl.files import Unopened, open_regular

    try:
        return open_regular(os.fsdecode(path), what="regular file")
    except Unopened as exc:
        raise BadImage(exc.reason) from None


#: pixels converted at a time: the working copies stay a few megabytes, whatever the image
BAND_PIXELS = 1 << 16


def _eight_bit(image, Image):
    """A 16-bit, 32-bit integer or float grey image scaled to 8 bits (mode L): Pillow's
    `convert` clips such values at 255, which turns nearly every pixel white.

    Converted band of rows by band, each in the image's own dtype, into one uint8 array:
    beyond what Pillow holds, the largest image allowed (MAX_PIXELS) needs one byte a
    pixel and a band's working copies (not the float64 copies of the whole image)."""
    if not image.mode.startswith(("I", "F")):
        return image
    width, height = image.size
    rows = max(1, BAND_PIXELS // max(width, 1))
    bands = [(top, min(height, top + rows)) for top in range(0, height, rows)]

    def band(top: int, bottom: int) -> np.ndarray:
        return np.asarray(image.crop((0, top, width, bottom))).reshape(-1)
    if image.mode.startswith("I"):
        if image.mode == "I":
            low, high = _extremes(band(*b) for b in bands)
            if low < 0 or high > 65535:
                raise BadImage("a 32-bit integer image with values outside 0-65535 (the "
                               "16-bit range); save it as an 8- or 16-bit image")
        scale = _to_eight_bits
    else:
        scale = _float_scale(_extremes(band(*b) for b in bands)[1])
    out = np.empty((height, width), np.uint8)
    for top, bottom in bands:
        out[top:bottom] = scale(band(top, bottom)).reshape(bottom - top, width)
    return Image.fromarray(out)


def _extremes(bands) -> tuple[float, float]:
    """The lowest and highest value over every band, NaN left out (0, 0 for none)."""
    low, high = np.inf, -np.inf
    for values in bands:
        if values.size:
            low = min(low, float(np.fmin.reduce(values)))
            high = max(high, float(np.fmax.reduce(values)))
    return (0.0, 0.0) if low > high else (low, high)


def _to_eight_bits(band: np.ndarray) -> np.ndarray:
    """0-65535 to 0-255, rounded to nearest: rint(v / 257) is (v + 128) // 257 (no ties)."""
    return ((band.astype(np.int32) + 128) // 257).astype(np.uint8)


def _float_scale(high: float):
    """F: 0..1 if it stays within, else 0..255 (NaN counts as 0, infinities as extremes)."""
    factor = np.float32(255.0 if high <= 1 else 1.0)

    def scale(band: np.ndarray) -> np.ndarray:
        band = np.nan_to_num(band * factor, nan=0.0, posinf=255.0, neginf=0.0)
        return np.clip(np.rint(band), 0, 255).astype(np.uint8)
    return scale


def _mask(image):
    """A class-index mask as it is: palette indices or grey levels are the classes."""
    if image.mode in ("P", "L", "I"):
        image.load()
        return image.copy()
    if image.mode == "1":                 # two classes: 0 and 1
        return image.convert("L").point(lambda v: v // 255)
    if image.mode in ("I;16", "I;16B", "I;16L"):
        return image.convert("I")
    raise BadImage(f"a mask must be a single-channel class-index image; this one is "
                   f"{image.mode}")


def class_folders(root: Path) -> list[str]:
    """The class names of an image folder: its sub-folders, sorted."""
    try:
        names = sorted(d.name for d in root.iterdir() if d.is_dir() and
                       d.name not in ("train", "test", "val") and not d.name.startswith("."))
    except OSError as exc:
        raise ScanError(f"cannot read `{root}`: {exc.strerror}") from None
    if not names:
        raise ScanError(f"`{root}` holds no class folders (expected one folder per class)")
    return names


def scan_classes(root: Path, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Paths (as bytes: no per-file Python objects for workers to copy) and labels."""
    paths: list[bytes] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        folder = root / name
        for file in _images_in(folder) if folder.is_dir() else ():
            paths.append(os.fsencode(file))
            labels.append(label)
    return _as_arrays(paths, labels, root)


def scan_pairs(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """`images/NAME.*` with `masks/NAME.png`: paths of both, in name order."""
    images, masks = root / "images", root / "masks"
    if not images.is_dir() or not masks.is_dir():
        raise ScanError(f"`{root}` needs `images/` and `masks/` folders (masks: class-index "
                        "PNGs with the images' names)")
    by_stem = {f.stem: f for f in _images_in(masks)}
    pairs = [(os.fsencode(f), os.fsencode(by_stem[f.stem])) for f in _images_in(images)
             if f.stem in by_stem]
    if not pairs:
        raise ScanError(f"no image in `{images}` has a mask of the same name in `{masks}`")
    return (np.array([p[0] for p in pairs], dtype=object).astype(bytes),
            np.array([p[1] for p in pairs], dtype=object).astype(bytes))


def _images_in(folder: Path) -> list[Path]:
    """The images of a folder, in name order; refused as soon as it passes MAX_FILES
    (counted while listing, so a huge folder is not read whole first)."""
    files = []
    try:
        for f in folder.iterdir():
            if f.suffix.lower() in SUFFIXES:
                files.append(f)
                if len(files) > MAX_FILES:
                    raise ScanError(f"`{folder}` holds over {MAX_FILES:,} images")
    except OSError as exc:
        raise ScanError(f"cannot read `{folder}`: {exc.strerror}") from None
    return sorted(files)


def _as_arrays(paths: list[bytes], labels: list[int], root: Path):
    if not paths:
        raise ScanError(f"no images found under `{root}` (looked for "
                        f"{', '.join(sorted(SUFFIXES))})")
    return np.array(paths, dtype=bytes), np.array(labels, dtype=np.int64)
