"""Benchmark `cnndsl check` (issue 2).

1. Whole-process time of `cnndsl check specs/resnet50.cnn` against building the
   same network in PyTorch and summarising it with torchinfo, side by side, the
   best of N runs each (alternating, so machine noise hits both alike).
2. Scaling: check time of generated chains of 1,000 and 8,000 layers, in
   process (`cnndsl.check` as a whole and stage by stage) and as a whole process.

Run:  python benchmarks/bench_check.py [--runs 10]
torchinfo is optional (`pip install torchinfo`); without it part 1 times the
PyTorch build plus a forward pass with shape hooks.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "resnet50.cnn"

TORCHINFO = """
import torch, cnndsl
model = cnndsl.build({spec!r})
try:
    import torchinfo
    torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0)
except ImportError:
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(getattr(o, "shape", None)))
             for m in model.modules()]
    with torch.no_grad():
        model(torch.randn(1, 3, 224, 224))
"""


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def check_command() -> list[str]:
    """The console script beside this interpreter: `shutil.which` may find a
    version manager's shell shim (pyenv's costs ~100 ms), which torch's side,
    run with `sys.executable`, would not pay."""
    script = Path(sys.executable).parent / "cnndsl"
    exe = str(script) if script.exists() else shutil.which("cnndsl")
    if exe is None:
        return [sys.executable, "-m", "cnndsl", "check", "--quiet", str(SPEC)]
    return [exe, "check", "--quiet", str(SPEC)]


def process_times(runs: int) -> tuple[float, float, float]:
    """Best-of-`runs` seconds for: cnndsl check, torch + torchinfo, a bare interpreter."""
    import cnndsl

    # An installed wheel has its bytecode compiled; a checkout under
    # PYTHONDONTWRITEBYTECODE would recompile every module on every run.
    compileall.compile_dir(Path(cnndsl.__file__).parent, quiet=1)
    commands = (check_command(), [sys.executable, "-c", TORCHINFO.format(spec=str(SPEC))],
                [sys.executable, "-c", "pass"])
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):  # alternate, so machine noise hits all alike
        for command, samples in zip(commands, times):
            samples.append(_time(command))
    ours, theirs, bare = (min(samples) for samples in times)
    return ours, theirs, bare


def chain(layers: int) -> str:
    body = " -> ".join("conv 8 k3 p1" if i % 2 == 0 else "relu" for i in range(layers))
    return f"input 8x16x16\n{body}\n"


SIZES = (1_000, 8_000)              # the two sizes
SWEEP = (500, 1_000, 2_000, 4_000, 8_000, 16_000)


def _stages(text: str) -> dict[str, float]:
    """Seconds per pipeline stage of one check, as `cnndsl.check` runs them."""
    from cnndsl.api import model_name_for
    from cnndsl.front.parser import parse
    from cnndsl.front.source import Source
    from cnndsl.passes.lint import lint
    from cnndsl.passes.resolve import resolve
    from cnndsl.passes.summary import summarize

    source = Source(text)
    marks = [time.perf_counter()]
    program, _ = parse(source)
    marks.append(time.perf_counter())
    network, _ = resolve(program, source, model_name_for("<string>"))
    marks.append(time.perf_counter())
    summary = summarize(network)
    lint(network, summary, program)
    marks.append(time.perf_counter())
    return dict(zip(("parse", "resolve+infer", "summary+lint"),
                (b - a for a, b in zip(marks, marks[1:]))))


def _best(runs: int, sizes, measure) -> dict[int, dict[str, float]]:
    """Best of `runs` per size and key, the sizes alternating run by run so
    machine noise hits all alike; each run starts from a collected heap."""
    import gc

    texts = {layers: chain(layers) for layers in sizes}
    for text in texts.values():
        measure(text)  # warm up: grammar, caches
    best: dict[int, dict[str, float]] = {layers: {} for layers in sizes}
    for _ in range(runs):
        for layers, text in texts.items():
            gc.collect()
            for key, value in measure(text).items():
                best[layers][key] = min(value, best[layers].get(key, value))
    return best


def _whole_check(text: str) -> dict[str, float]:
    import cnndsl

    start = time.perf_counter()
    result = cnndsl.check(text)
    elapsed = time.perf_counter() - start
    assert result.ok, result.diagnostics
    return {"check": elapsed}


def process_scaling(runs: int) -> dict[int, float]:
    """Best whole-process `cnndsl check --quiet FILE` time per size."""
    with tempfile.TemporaryDirectory() as tmp:
        files = {layers: Path(tmp) / f"chain{layers}.cnn" for layers in SIZES}
        for layers, path in files.items():
            path.write_text(chain(layers), encoding="utf-8")
        command = check_command()[:-1]
        times: dict[int, list[float]] = {layers: [] for layers in SIZES}
        for _ in range(runs):
            for layers, path in files.items():
                times[layers].append(_time([*command, str(path)]))
    return {layers: min(samples) for layers, samples in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    ours, theirs, bare = process_times(args.runs)
    print(f"cnndsl check resnet50 (whole process): {ours * 1e3:7.1f} ms (best of {args.runs})")
    print(f"torch build + torchinfo summary      : {theirs * 1e3:7.1f} ms (best of {args.runs})")
    print(f"ratio                                 : {theirs / ours:7.1f}x faster")
    print(f"(a bare `python -c pass` takes         {bare * 1e3:7.1f} ms here)")
    runs = max(3, args.runs // 2)
    sweep = _best(runs, SWEEP, _whole_check)
    print("\nscaling, in process (`cnndsl.check` of a chain of N layers):")
    for layers in SWEEP:
        seconds = sweep[layers]["check"]
        print(f"  {layers:>7,} layers {seconds * 1e3:8.1f} ms "
              f"{seconds / layers * 1e6:6.1f} us/layer")
    small, large = SIZES
    print(f"  {large:,} / {small:,} layers: "
          f"{sweep[large]['check'] / sweep[small]['check']:.2f}x (linear: 8.00x)")
    stages = _best(runs, SIZES, _stages)
    print("  stage by stage, " + ", ".join(
        f"{key} {stages[large][key] / stages[small][key]:.2f}x" for key in stages[small]))
    whole = process_scaling(runs)
    print(f"scaling, whole `cnndsl check` process: {whole[small] * 1e3:.0f} ms -> "
          f"{whole[large] * 1e3:.0f} ms   {whole[large] / whole[small]:.2f}x")

if __name__ == "__main__":
    main()
