"""`cnndsl predict RUN_DIR IMAGE...`: the top classes of each image, from a run folder."""

from __future__ import annotations

from pathlib import Path

from cnndsl.cli import common


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
    from cnndsl.files import printable

    if args.top < 1:
        raise common.CommandError("--top must be at least 1")
    trained = _load(args)
    failed = 0
    for image in args.images:
        try:
            lines = _predict(trained, image, args)
        except _image_errors() as exc:
            common.say(f"error: {printable(image)}: {printable(str(exc))}")
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


def _predict(trained, image: str, args) -> list[str]:
    from cnndsl.train.inference import load_image, segment, top_k

    x = load_image(trained, image)
    if trained.task == "segment":
        return _segmented(trained, image, segment(trained, x), args.masks)
    ranked = top_k(trained, x, args.top)
    width = max(len(name) for name, _ in ranked)
    return [image] + [f"  {i}. {name:<{width}}  {p:7.2%}" for i, (name, p) in
                      enumerate(ranked, 1)]


def _segmented(trained, image: str, mask, folder: str | None) -> list[str]:
    import torch

    counts = torch.bincount(mask.flatten(), minlength=len(trained.classes))
    shares = counts.double() / counts.sum()
    order = shares.argsort(descending=True)[:5]
    lines = [image] + [f"  class {trained.classes[i]}: {float(shares[i]):.1%} of the pixels"
                       for i in order.tolist() if shares[i] > 0]
    if folder:
        lines.append(f"  mask: {_write_mask(mask, image, Path(folder))}")
    return lines


def _write_mask(mask, image: str, folder: Path) -> str:
    import io

    import torch
    from PIL import Image

    from cnndsl.files import guard, show_path, write_atomic

    buffer = io.BytesIO()
    Image.fromarray(mask.to(torch.uint8).numpy()).save(buffer, "PNG")
    target = folder / (Path(image).stem + ".mask.png")
    written = write_atomic(target, buffer.getvalue(), before=guard(
        lambda _: False, False, hint="remove it, or pass another --masks folder"))
    return show_path(written)
