"""`cnndsl train`: the command-line face of the training harness."""

from __future__ import annotations

from cnndsl.cli import common


def add(sub) -> None:
    from cnndsl.train.flags import add_train_arguments

    p = sub.add_parser("train", help="train a spec on a built-in or standard dataset")
    p.add_argument("file", metavar="SPEC")
    add_train_arguments(p)
    common.add_allow_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    result = common.load_checked(args.file, allow=common.allowed_codes(args))
    if result is None:
        return common.EXIT_ERRORS
    from cnndsl.train.run import train_from_result

    return train_from_result(result, args)
