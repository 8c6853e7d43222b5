"""`cnndsl export SPEC|RUN -o FILE`: ONNX, TorchScript or an ExportedProgram, checked."""

from __future__ import annotations

from cnndsl.cli import common

FORMATS = ("onnx", "torchscript", "exported-program")


def add(sub) -> None:
    p = sub.add_parser("export", help="export a spec's or a trained run's network to ONNX, "
                                      "TorchScript or a torch.export program")
    p.add_argument("source", metavar="SPEC|RUN", help="a spec (initial weights) or a run "
                   "folder (its best weights)")
    p.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="where to write; .onnx, .pt2 and .pt name their format")
    p.add_argument("--format", choices=FORMATS,
                   help="onnx, torchscript or exported-program (default: from FILE's "
                        "extension)")
    p.add_argument("--weights", metavar="W",
                   help="a spec: a weights file (a state_dict or a checkpoint); a run: "
                        "best.pt (default) or last.pt")
    p.add_argument("--input", action="append", default=None, metavar="[NAME=]SIZE",
                   dest="inputs", help="a spec: check and export the network at another "
                   "input size (as `check --input`); a run: the sample to trace, e.g. "
                   "3x320x320 (default: the run's input); the batch is always dynamic")
    p.add_argument("--set", action="append", default=None, metavar="NAME=VALUE", dest="sets",
                   help="a spec: replace a `let` constant's value (`--set w=0.5`, repeatable)")
    p.add_argument("--force", action="store_true",
                   help="overwrite FILE even if cnndsl did not write it")
    common.add_colour_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from cnndsl.backends.export import ExportError, export_result, export_run
    from cnndsl.files import is_directory, show_path

    options = {"weights": args.weights, "input": None, "force": args.force}
    try:
        if is_directory(args.source):
            if args.sets or len(args.inputs or ()) > 1:
                raise common.CommandError("a run is exported as it was trained (its "
                                          "`--set` values recorded); give `--set` with a "
                                          "spec", common.EXIT_USAGE)
            options["input"] = args.inputs[0] if args.inputs else None
            done = export_run(args.source, args.output, args.format, **options)
        else:
            result = common.load_checked(args.source, args.color,
                                         overrides=common.overrides(args))
            if result is None:
                return common.EXIT_ERRORS
            done = export_result(result, args.output, args.format, **options)
    except ExportError as exc:
        raise common.CommandError(str(exc)) from None
    shape = "x".join(map(str, done.input))
    common.say(f"wrote {show_path(done.path)} ({done.format}, {done.model}, input Bx{shape}, "
               f"{done.weights})")
    verdict = "" if done.agrees else \
        f"; warning: more than the {done.tolerance:.1e} float32 rounding explains"
    common.say(f"checked with {done.checked_with} at batch 1 and 3: max difference from "
               f"PyTorch {done.max_difference:.2e}{verdict}")
    return common.EXIT_OK if done.agrees else common.EXIT_ERRORS
