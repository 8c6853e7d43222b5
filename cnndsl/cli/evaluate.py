"""`cnndsl evaluate RUN_DIR`: top-1/top-5 (or pixel accuracy and mean IoU) on held-out
data, per-class precision, recall, F1 and support with their macro and weighted averages
(printed, and written as `per_class.csv`), and a confusion-matrix picture, from a run
folder."""

from __future__ import annotations

from pathlib import Path

from cnndsl.cli import common


def add(sub) -> None:
    from cnndsl.ir.train_section import DATASETS

    p = sub.add_parser("evaluate", help="measure a trained run on held-out data")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (config.json, best.pt)")
    p.add_argument("--data", choices=DATASETS, help="default: the data the run trained on")
    p.add_argument("--data-dir", help="where the data is (default: the absolute path the "
                   "run recorded)")
    p.add_argument("--all", action="store_true",
                   help="folders: every image of --data-dir, not its held-out split")
    p.add_argument("--weights", choices=("best.pt", "last.pt"), default="best.pt")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--workers", type=int, help="data-loading processes for folders")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | mps (default cpu)")
    p.add_argument("--out", metavar="DIR",
                   help="where to write confusion.png and per_class.csv (default: RUN_DIR)")
    p.add_argument("--confusion", metavar="PNG",
                   help="where to draw the confusion matrix (default: DIR/confusion.png); "
                        "per_class.csv is written beside it")
    p.set_defaults(run=run)


def run(args) -> int:
    from cnndsl.train.devices import DeviceError
    from cnndsl.train.evaluation import evaluate_run
    from cnndsl.train.run import ERRORS

    if args.batch < 1 or (args.workers is not None and args.workers < 0):
        raise common.CommandError("--batch must be at least 1 and --workers at least 0")
    folder = Path(args.out) if args.out else Path(args.run_dir)
    target = Path(args.confusion) if args.confusion else folder / "confusion.png"
    if target.suffix.lower() != ".png":    # the picture is a PNG whatever the name says
        from cnndsl.files import show_path

        raise common.CommandError(f"`--confusion {show_path(target)}`: the confusion matrix is "
                                  "drawn as a PNG; give a path ending in `.png`",
                                  common.EXIT_USAGE)
    try:
        lines = evaluate_run(args, target)
    except (*ERRORS, DeviceError) as exc:
        raise common.CommandError(str(exc)) from None
    from cnndsl.files import printable

    print("\n".join(printable(line) for line in lines))
    return common.EXIT_OK
