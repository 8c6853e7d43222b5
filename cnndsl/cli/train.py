"""`cnndsl train`: the command-line face of the training harness."""

from __future__ import annotations

import os

from cnndsl.cli import common


def add(sub) -> None:
    from cnndsl.train.flags import add_train_arguments

    p = sub.add_parser("train", help="train a spec on a built-in or standard dataset")
    p.add_argument("file", metavar="SPEC")
    add_train_arguments(p)
    common.add_allow_option(p)
    common.add_override_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    given = common.overrides(args)
    result = common.load_checked(args.file, allow=common.allowed_codes(args), overrides=given)
    if result is None:
        return common.EXIT_ERRORS
    if args.resume and given is None:   # rebuilt with the values the run recorded
        from cnndsl.train.folder import FolderError
        from cnndsl.train.resume import recorded_overrides

        try:
            kept = recorded_overrides(args, result.network.model)
        except FolderError as exc:
            raise common.CommandError(str(exc)) from None
        if kept is not None:
            result = common.load_checked(args.file, allow=common.allowed_codes(args),
                                         overrides=kept)
            if result is None:
                return common.EXIT_ERRORS

    from cnndsl.train.run import train_from_result

    # the spec's `train { data folder ./x }` is relative to the spec's own folder
    args.spec_dir = os.path.dirname(os.path.abspath(args.file))
    return train_from_result(result, args)
