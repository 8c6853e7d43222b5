"""`cnndsl predict RUN_DIR IMAGE...`: the top classes of each image, from a run folder."""

from __future__ import annotations

from pathlib import Path

from cnndsl.cli import common

#: the `Software` text of the masks `--masks` writes: a later run replaces only such files
MASK_MARK = "cnndsl predict: class mask"


def add(sub) -> None:
    p = sub.add_parser("predict", help="classify (or segment) images with a trained run")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (config.json, best.pt)")
    p.add_argument("images", metavar="IMAGE", nargs="+")
    p.add_argument("--top", type=int, default=5, help="how many classes to show (default 5)")
    p.add_argument("--weights", choices=("best.pt", "last.pt"), default="best.pt")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | mps (default cpu)")
    p.add_argument("--masks", metavar="DIR",
                   help="segmenters: write each image's class mask as DIR/NAME.mask.png")
    p.set_defaults(run=run)


def run(args) -> int:
    from cnndsl.files import printable, printable_lines

    if args.top < 1:
        raise common.CommandError("--top must be at least 1")
    trained = _load(args)
    failed = 0
    masks: dict[str, str] = {}    # the masks written by this run: file name -> its image
    for image in args.images:
        try:
            lines = _predict(trained, image, args, masks)
        except _image_errors() as exc:
            common.say(f"error: {printable(image)}: {printable_lines(str(exc))}")
            failed += 1
            continue
        print("\n".join(printable(line) for line in lines))
    return common.EXIT_ERRORS if failed else common.EXIT_OK


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


def _predict(trained, image: str, args, masks: dict[str, str]) -> list[str]:
    from cnndsl.train.inference import load_image, segment, top_k

    x = load_image(trained, image)
    if trained.task == "segment":
        return _segmented(trained, image, segment(trained, x), args.masks, masks)
    ranked = top_k(trained, x, args.top)
    width = max(len(name) for name, _ in ranked)
    return [image] + [f"  {i}. {name:<{width}}  {p:7.2%}" for i, (name, p) in
                      enumerate(ranked, 1)]


def _segmented(trained, image: str, mask, folder: str | None,
               masks: dict[str, str]) -> list[str]:
    import torch

    counts = torch.bincount(mask.flatten(), minlength=len(trained.classes))
    shares = counts.double() / counts.sum()
    order = shares.argsort(descending=True)[:5]
    lines = [image] + [f"  class {trained.classes[i]}: {float(shares[i]):.1%} of the pixels"
                       for i in order.tolist() if shares[i] > 0]
    if folder:
        lines.append(f"  mask: {_write_mask(mask, image, Path(folder), masks)}")
    return lines


def _write_mask(mask, image: str, folder: Path, masks: dict[str, str]) -> str:
    import io

    import torch
    from PIL import Image, PngImagePlugin

    from cnndsl.files import guard, png_marked, show_path, write_atomic

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
    return show_path(written)


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
