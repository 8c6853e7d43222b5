"""The entry point of generated modules: `python lenet.py --epochs 5`."""

from __future__ import annotations

import argparse
import sys


def main(model_cls: type, spec_name: str, spec_text: str, argv=None,
         overrides: dict | None = None) -> int:
    """Train `model_cls` (the generated class) exactly as `cnndsl train` would;
    `overrides` are the `--set`/`--input` values it was compiled with."""
    from cnndsl.api import check
    from cnndsl.backends.pytorch.build import compile_result
    from cnndsl.cli.common import print_diagnostics
    from cnndsl.train.flags import add_train_arguments
    from cnndsl.train.run import train

    parser = argparse.ArgumentParser(prog=sys.argv[0],
                                     description=f"train {model_cls.__name__} ({spec_name})")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    from cnndsl.ir.overrides import Overrides

    result = check(spec_text, spec_name, overrides=Overrides.from_json(overrides) or None)
    if not result.ok:
        print_diagnostics(result, colour=False)
        return 1
    return train(model_cls, result, args, compile_result(result))
