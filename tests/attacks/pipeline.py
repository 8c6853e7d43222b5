"""Run hostile specs through everything that executes generated code; a child process.

    python tests/attacks/pipeline.py CASES.json RESULTS.jsonl

Run with the working directory where a payload would leave its proof file. For
each case (`{"id", "spec"}`, a spec path relative to the working directory) it
runs the `compile` command, the API's `compile`, imports the compiled file, runs
its `__main__` with `--help`, and calls `cnndsl.load` and `cnndsl.build` (by
path and by text) and a forward pass. It appends one JSON line per case, as
soon as the case is done, so a crash or a hang loses only the cases after it:
`{"id", "cli": status, "cli_output", "api_code": text | null, "spec_error": bool,
"model": the class name | null, "failures": ["step: Type: message", ...]}`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import runpy
import sys
import traceback
from pathlib import Path


def main(cases_file: str, results_file: str) -> None:
    import cnndsl  # noqa: F401  (imported once, before any case, as a user's process would)

    cases = json.loads(Path(cases_file).read_text(encoding="utf-8"))
    with open(results_file, "a", encoding="utf-8") as results:
        for n, case in enumerate(cases):
            outcome = run_case(case, n)
            results.write(json.dumps(outcome, ensure_ascii=True) + "\n")
            results.flush()


def run_case(case: dict, n: int) -> dict:
    outcome = {"id": case["id"], "cli": None, "cli_output": "", "api_code": None,
               "spec_error": False, "model": None, "failures": []}
    spec = case["spec"]
    status, output = _cli(["compile", spec])
    outcome.update(cli=status, cli_output=output)
    if status == 0:
        _step(outcome, "import", _import, _compiled_path(spec), n)
        _step(outcome, "__main__ --help", _run_main, _compiled_path(spec))
    _step(outcome, "api compile", _api_compile, spec, outcome)
    if outcome["api_code"] is not None:
        _step(outcome, "load/build", _load_and_build, spec)
    return outcome


def _step(outcome: dict, name: str, action, *args) -> None:
    """Run one step; any exception (a clean `SpecError` aside) is a failure."""
    from cnndsl.backends.pytorch.build import SpecError

    try:
        action(*args)
    except SpecError:
        outcome["spec_error"] = True
    except BaseException as exc:  # SystemExit too: a payload may raise it
        if isinstance(exc, KeyboardInterrupt):
            raise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        outcome["failures"].append(f"{name}: {type(exc).__name__}: {str(exc)[:300]} "
                                   f"(at {where.filename}:{where.lineno})")


def _compiled_path(spec: str) -> Path:
    return Path(spec).with_suffix(".py")


def _cli(argv: list[str]) -> tuple[int, str]:
    """The `cnndsl` command line, in this process, with its output captured."""
    from cnndsl.cli import main as cli_main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli_main(argv)
        except SystemExit as exc:  # argparse
            status = exc.code if isinstance(exc.code, int) else 2
    return status, out.getvalue() + err.getvalue()


def _import(path: Path, n: int) -> None:
    spec = importlib.util.spec_from_file_location(f"hostile_generated_{n}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


def _run_main(path: Path) -> None:
    """`python compiled.py --help`, in this process: argparse prints and exits 0."""
    argv = sys.argv
    sys.argv = [str(path), "--help"]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise RuntimeError(f"`{path.name} --help` exited {exc.code!r}") from None
    else:
        raise RuntimeError("the compiled file's __main__ did not run its argument parser")
    finally:
        sys.argv = argv


def _api_compile(spec: str, outcome: dict) -> None:
    import cnndsl
    from tests.attacks import adapter

    text = Path(spec).read_bytes().decode("utf-8", "surrogateescape")
    outcome["api_code"] = cnndsl.compile(text, spec)
    outcome["model"] = adapter.model_name(cnndsl.check(text, spec))


def _load_and_build(spec: str) -> None:
    """`load` and `build` by path and by text; the model must run and have the
    parameters `check` reports."""
    import torch

    import cnndsl
    from tests.attacks import adapter

    result = cnndsl.check_file(spec)
    cls = cnndsl.load(Path(spec))
    for model in (cnndsl.build(Path(spec)), cnndsl.build(Path(spec).read_text("utf-8")), cls()):
        model.eval()
        with torch.no_grad():
            model(torch.zeros(2, *adapter.input_shape(result)))
        params = sum(p.numel() for p in model.parameters())
        if params != adapter.param_count(result):
            raise AssertionError(f"the module has {params} parameters, check says "
                                 f"{adapter.param_count(result)}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("NO_COLOR", "1")
    # one intra-op thread, as under pytest-xdist: the tensors are tiny, and a second
    # thread spin-waits for a core (on a loaded two-core machine the sweep took 42 s
    # of CPU with two threads, 21 s with one, when pytest ran without xdist)
    for threads in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(threads, "1")
    main(sys.argv[1], sys.argv[2])
