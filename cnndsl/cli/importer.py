"""`cnndsl import`: a PyTorch module -> a `.cnn` spec (and its weights, keyed for it).

The module is named as TARGET, `path/to/file.py:make_net` or `package.module:make_net`,
a callable that takes no arguments and returns an `nn.Module`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from cnndsl.cli import common

#: The most elements one input may have (a 4096x4096 RGB image is 50M).
MAX_INPUT_ELEMENTS = 2**26


def add(sub) -> None:
    p = sub.add_parser("import", help="import a PyTorch module as a spec, with its weights",
                       description="Trace a PyTorch module and write it as a `.cnn` spec whose "
                                   "labels follow the module's attribute names.")
    p.add_argument("target", metavar="TARGET",
                   help="FILE.py:CALLABLE or package.module:CALLABLE, called with no "
                        "arguments, returning an nn.Module")
    p.add_argument("--input", action="append", default=None, metavar="SIZE",
                   help="one sample's size without the batch, e.g. 3x224x224, or "
                        "NAME=3x64x64 for named inputs (repeatable); default: the module's "
                        "`input_size` attribute")
    p.add_argument("-o", "--output", metavar="OUT", help="write the spec here (default: stdout)")
    p.add_argument("--weights", metavar="FILE.pt",
                   help="write the weights, keyed for the spec (`torch.save` of a dict of "
                        "tensors; load with `torch.load(FILE, weights_only=True)`)")
    p.add_argument("--name", metavar="MODEL", help="the model name (default: the class name)")
    p.add_argument("--force", action="store_true",
                   help="overwrite OUT or the weights file even if cnndsl did not write it")
    p.set_defaults(run=run)


def parse_inputs(given: list[str]) -> list[tuple[str, tuple[int, ...]]]:
    """`3x224x224` or `image=3x64x64`, as (name, size) pairs."""
    pairs = []
    for text in given:
        name, _, size = text.rpartition("=")
        if not re.fullmatch(r"[1-9][0-9]{0,6}(x[1-9][0-9]{0,6}){1,3}", size) or \
                (name and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,59}", name)):
            raise common.CommandError(f"`--input {_shown(text)}` is not a size like 3x224x224 "
                                      "or NAME=3x64x64", common.EXIT_USAGE)
        shape = tuple(int(v) for v in size.split("x"))
        pairs.append((name, _bounded(shape, f"`--input {_shown(text)}`")))
    names = [n for n, _ in pairs]
    if len(pairs) > 1 and (not all(names) or len(set(names)) != len(names)):
        raise common.CommandError("several inputs each need a distinct name: "
                                  "`--input image=3x64x64 --input depth=1x64x64`",
                                  common.EXIT_USAGE)
    return pairs


def _bounded(shape: tuple[int, ...], shown: str) -> tuple[int, ...]:
    """`shape`, if one sample of it has at most `MAX_INPUT_ELEMENTS` values."""
    elements = 1
    for v in shape:
        elements *= v
        if elements > MAX_INPUT_ELEMENTS:
            break
    if elements > MAX_INPUT_ELEMENTS:
        raise common.CommandError(f"{shown} has over {MAX_INPUT_ELEMENTS:,} values per sample"
                                  f"; at most {MAX_INPUT_ELEMENTS:,}", common.EXIT_USAGE)
    return shape


def _shown(text: str) -> str:
    from cnndsl.files import printable

    return printable(text[:80])


def _inputs(args, module):
    if args.input:
        pairs = parse_inputs(args.input)
        return {n: s for n, s in pairs} if pairs[0][0] else [s for _, s in pairs]
    size = getattr(module, "input_size", None)
    if isinstance(size, tuple) and 2 <= len(size) <= 4 and \
            all(type(v) is int and v > 0 for v in size):
        return [_bounded(size, f"the module's `input_size` {_shown(repr(size))}")]
    raise common.CommandError("give the input size: `--input 3x224x224` (one sample, no "
                              "batch), or give the module an `input_size` attribute",
                              common.EXIT_USAGE)


def run(args) -> int:
    from cnndsl.files import printable
    from cnndsl.importer import Unsupported, import_module
    from cnndsl.importer.load import TargetError, load

    if args.name is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,59}", args.name):
        raise common.CommandError(f"`--name {_shown(args.name)}` is not a model name "
                                  "(letters, digits and `_`)", common.EXIT_USAGE)
    try:
        module = load(args.target)
    except TargetError as exc:
        raise common.CommandError(str(exc)) from None
    inputs = _inputs(args, module)
    try:
        imported = import_module(module, inputs, args.name)
    except Unsupported as exc:
        raise common.CommandError(printable(str(exc))) from None
    except ValueError as exc:
        raise common.CommandError(printable(str(exc)), common.EXIT_USAGE) from None
    _write(args, imported)
    return common.EXIT_OK


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (through links, or as one existing file)."""
    import os

    try:
        return os.path.realpath(a) == os.path.realpath(b) or os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _write(args, imported) -> None:
    from cnndsl.files import FileProblem, guard, is_directory, show_path, write_atomic
    from cnndsl.importer.outputs import is_imported_spec, is_imported_weights, weights_bytes

    targets = [(args.weights, is_imported_weights), (args.output, is_imported_spec)]
    if args.weights and args.output and args.output != "-" and \
            _same_file(args.weights, args.output):
        raise common.CommandError(f"`-o {show_path(args.output)}` and `--weights "
                                  f"{show_path(args.weights)}` name the same file; give "
                                  "each its own", common.EXIT_USAGE)
    for path, recognise in targets:
        if path and path != "-" and is_directory(path):
            raise common.CommandError(f"`{show_path(path)}` is a directory; give a file name")
        if path and path != "-":
            guard(recognise, args.force)(Path(path))   # refuse before anything is written
    written = []
    try:
        if args.weights:
            existed = Path(args.weights).exists()
            target = write_atomic(args.weights, weights_bytes(imported.state_dict))
            written.append((target, existed))
        if args.output and args.output != "-":
            write_atomic(args.output, imported.text)
    except FileProblem:
        for target, existed in written:
            if not existed:
                target.unlink(missing_ok=True)
        raise
    if not args.output or args.output == "-":
        sys.stdout.write(imported.text)
    else:
        common.say(f"wrote {show_path(args.output)} ({imported.params:,} parameters)")
    if args.weights:
        keys = "the original's keys" if imported.keys_kept else "the spec's own keys"
        common.say(f"wrote {show_path(args.weights)} ({len(imported.state_dict)} tensors, "
                   f"{keys})")
