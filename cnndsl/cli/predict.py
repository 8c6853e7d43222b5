"""`cnndsl predict RUN_DIR PATH...`: the top classes of each image (files, and folders
walked), from a run folder: one row per image, as a table, CSV or JSON."""

from __future__ import annotations

from pathlib import Path

from cnndsl.cli import common
from cnndsl.files import printable, printable_lines

#: the `Software` text of the masks `--masks` writes: a later run replaces only such files
MASK_MARK = "cnndsl predict: class mask"
DEFAULT_TOP = 5


def add(sub) -> None:
    p = sub.add_parser("predict", help="classify (or segment) images with a trained run")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (config.json, best.pt)")
    p.add_argument("images", metavar="PATH", nargs="+",
                   help="image files, or folders (walked recursively)")
    p.add_argument("--top", type=int, metavar="K",
                   help="how many classes to show (default 5, or all if fewer)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="one row per image, on standard output (default table)")
    p.add_argument("--weights", choices=("best.pt", "last.pt"), default="best.pt")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | mps (default cpu)")
    p.add_argument("--masks", metavar="DIR",
                   help="segmenters: write each image's class mask as DIR/NAME.mask.png")
    p.set_defaults(run=run)


def run(args) -> int:
    from cnndsl.train.gather import TooMany, gather

    if args.top is not None and args.top < 1:
        raise common.CommandError("--top must be at least 1")
    try:
        found = gather(args.images)
    except TooMany as exc:
        raise common.CommandError(str(exc)) from None
    trained = _load(args)
    top = min(args.top or DEFAULT_TOP, len(trained.classes))
    notes = found.notes()
    if args.top is not None and top < args.top:
        notes.insert(0, f"--top {args.top} is more than the run's {len(trained.classes)} "
                        f"classes; showing {top}")
    masks: dict[str, str] = {}    # the masks written by this run: file name -> its image
    rows = [_row(trained, path, top, args, masks, found.empty) for path in found.paths]
    for note in notes:
        common.say(f"note: {printable(note)}")
    _render().write(rows, trained, top, args.format, notes, args.run_dir)
    failed = [row for row in rows if row.error]
    if failed:
        first = failed[0]
        common.say(f"error: {len(failed):,} of {len(rows):,} path(s) not predicted; the "
                   f"first: {printable(first.image)}: {printable_lines(first.error)}")
    return common.EXIT_ERRORS if failed else common.EXIT_OK


def _render():
    """The rows and their writers (`--format table|csv|json`), imported when the command runs."""
    from cnndsl.backends.table import predictions

    return predictions


def _image_errors():
    from cnndsl.files import FileProblem
    from cnndsl.train.images import BadImage, ScanError

    return BadImage, ScanError, FileProblem


def _load(args):
    from cnndsl.train.devices import DeviceError, pick_device
    from cnndsl.train.inference import load_run
    from cnndsl.train.run import ERRORS

    try:
        return load_run(args.run_dir, pick_device(args.device), args.weights)
    except (*ERRORS, DeviceError) as exc:
        raise common.CommandError(str(exc)) from None


def _row(trained, path: str, top: int, args, masks: dict[str, str], empty: set[str]):
    from cnndsl.train.images import SUFFIXES

    if path in empty:
        return _render().Row(path, error="a folder with no images in it (looked for "
                          f"{', '.join(sorted(SUFFIXES))})")
    try:
        return _predict(trained, path, top, args, masks)
    except _image_errors() as exc:
        return _render().Row(path, error=str(exc))


def _predict(trained, image: str, top: int, args, masks: dict[str, str]):
    from cnndsl.train.inference import read_image, segment, top_k

    x, read = read_image(trained, image)
    if trained.task == "segment":
        mask = segment(trained, x)
        written = _write_mask(mask, image, Path(args.masks), masks) if args.masks else None
        return _render().Row(image, _shares(trained, mask, top), read, written)
    return _render().Row(image, top_k(trained, x, top), read)


def _shares(trained, mask, top: int) -> list[tuple[str, float]]:
    """The `top` classes covering most pixels, with their shares (those above 0)."""
    import torch

    counts = torch.bincount(mask.flatten(), minlength=len(trained.classes))
    shares = counts.double() / counts.sum()
    order = shares.argsort(descending=True)[:top]
    return [(trained.classes[i], float(shares[i])) for i in order.tolist() if shares[i] > 0]


def _write_mask(mask, image: str, folder: Path, masks: dict[str, str]) -> str:
    """The mask written as DIR/NAME.mask.png; returns the path written (as given)."""
    import io

    import torch
    from PIL import Image, PngImagePlugin

    from cnndsl.files import guard, png_marked, write_atomic

    name = Path(image).stem + ".mask.png"
    _not_written_yet(name, image, folder, masks)
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", MASK_MARK)
    buffer = io.BytesIO()
    Image.fromarray(mask.to(torch.uint8).numpy()).save(buffer, "PNG", pnginfo=info)
    written = write_atomic(folder / name, buffer.getvalue(), before=guard(
        lambda target: png_marked(target, MASK_MARK), False,
        hint="remove it, or pass another --masks folder"))
    masks[name] = image
    return str(written)


def _not_written_yet(name: str, image: str, folder: Path, masks: dict[str, str]) -> None:
    """Two images of one name (`a/x.png`, `b/x.png`) would share a mask file: the
    second is refused rather than overwrite the first's mask of this same run."""
    import os

    from cnndsl.files import FileProblem, show_path

    first = masks.get(name)
    if first is not None and os.path.realpath(first) != os.path.realpath(image):
        raise FileProblem(f"its mask `{show_path(folder / name)}` would replace that of "
                          f"`{show_path(first)}` (the same name); give them separate "
                          "--masks folders")
