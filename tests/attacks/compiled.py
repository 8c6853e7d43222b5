"""Run compiled reproducers as their users would; a child process.

    python tests/attacks/compiled.py CASES.json RESULTS.jsonl

For each case (`{"dir", "spec", "module"}`, paths relative to the working
directory, `dir` the case's own folder, where its payload would leave a proof)
it runs the compiled module as `__main__` with `--help`, then imports it and
calls `cnndsl.load` and `cnndsl.build` on the spec and a forward pass: what two
processes per case did, with torch imported once for all the cases. It appends
one JSON line per case as soon as the case is done: `{"dir", "help": exit status,
"help_output", "build": exit status, "build_output"}` (a status of 1 comes with
the traceback as its output).
"""

from __future__ import annotations

import importlib.util
import json
import os
import runpy
import sys
from pathlib import Path

from captured import captured  # this folder: the script's own


def main(cases_file: str, results_file: str) -> None:
    cases = json.loads(Path(cases_file).read_text(encoding="utf-8"))
    home = Path.cwd()
    with open(results_file, "a", encoding="utf-8") as results:
        for n, case in enumerate(cases):
            os.chdir(home / case["dir"])     # a payload's proof lands in the case's folder
            try:
                outcome = {"dir": case["dir"]}
                outcome["help"], outcome["help_output"] = _captured(_help, case["module"])
                outcome["build"], outcome["build_output"] = _captured(
                    _import_and_build, case["module"], case["spec"], n)
            finally:
                os.chdir(home)
            results.write(json.dumps(outcome, ensure_ascii=True) + "\n")
            results.flush()


def _captured(action, *args) -> tuple[int, str]:
    """One step, as a process would give it: (exit status, its two streams as one text)."""
    status, out, err = captured(action, *args)
    return status, (out + err).decode("utf-8")


def _help(module: str) -> None:
    """`python MODULE --help`: the file run as `__main__` with that argv."""
    argv = sys.argv
    sys.argv = [module, "--help"]
    try:
        runpy.run_path(module, run_name="__main__")
    finally:
        sys.argv = argv


def _import_and_build(module: str, spec: str, n: int) -> None:
    """Import the compiled file, then `load` and `build` the spec and run it."""
    import torch

    import cnndsl

    found = importlib.util.spec_from_file_location(f"generated_{n}", module)
    found.loader.exec_module(importlib.util.module_from_spec(found))
    cnndsl.load(Path(spec))
    cnndsl.build(Path(spec))(torch.zeros(2, 1, 8, 8))


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    main(sys.argv[1], sys.argv[2])
