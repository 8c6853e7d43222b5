"""`cnndsl train`: the command-line face of the training harness."""

from __future__ import annotations


def add_train_command(sub) -> None:
    from cnndsl.train.options import add_train_arguments

    p = sub.add_parser("train", help="train a spec on a built-in or standard dataset")
    p.add_argument("file", metavar="SPEC")
    add_train_arguments(p)
    p.set_defaults(run=cmd_train)


def cmd_train(args) -> int:
    import sys

    from cnndsl.cli import _colour, load_checked

    result = load_checked(args.file, _colour(sys.stderr, "auto"))
    if result is None:
        return 1
    from cnndsl.train.run import train_from_result

    return train_from_result(result, args)
