"""Benchmark `cnndsl check` (issue 2).

1. Whole-process time of `cnndsl check specs/resnet50.cnn` against building the
   same network in PyTorch and summarising it with torchinfo, side by side, the
   best of N runs each (alternating, so machine noise hits both alike).
2. Scaling: in-process check time of generated chains of 1,000 and 8,000 layers.

Run:  python benchmarks/bench_check.py [--runs 10]
torchinfo is optional (`pip install torchinfo`); without it part 1 times the
PyTorch build plus a forward pass with shape hooks.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
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
    hooks = [m.register_forward_hook(lambda m, i, o: o.shape) for m in model.modules()]
    with torch.no_grad():
        model(torch.randn(1, 3, 224, 224))
"""


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def process_times(runs: int) -> tuple[float, float]:
    exe = shutil.which("cnndsl")
    check = [exe, "check", "--quiet", str(SPEC)] if exe else \
        [sys.executable, "-m", "cnndsl", "check", "--quiet", str(SPEC)]
    torch_cmd = [sys.executable, "-c", TORCHINFO.format(spec=str(SPEC))]
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(_time(check))
        theirs.append(_time(torch_cmd))
    return min(ours), min(theirs)


def chain(layers: int) -> str:
    body = " -> ".join("conv 8 k3 p1" if i % 2 == 0 else "relu" for i in range(layers))
    return f"input 8x16x16\n{body}\n"


def scaling(runs: int) -> dict[int, float]:
    import cnndsl

    out = {}
    for layers in (1_000, 8_000):
        text = chain(layers)
        cnndsl.check(text)  # warm up: schemas, grammar
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            result = cnndsl.check(text)
            times.append(time.perf_counter() - start)
            assert result.ok, result.diagnostics
        out[layers] = statistics.median(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    ours, theirs = process_times(args.runs)
    print(f"cnndsl check resnet50 (whole process): {ours * 1e3:7.1f} ms (best of {args.runs})")
    print(f"torch build + torchinfo summary      : {theirs * 1e3:7.1f} ms (best of {args.runs})")
    print(f"ratio                                 : {theirs / ours:7.1f}x faster")
    times = scaling(max(3, args.runs // 2))
    small, large = times[1_000], times[8_000]
    print(f"check 1,000 layers: {small * 1e3:7.1f} ms; 8,000 layers: {large * 1e3:7.1f} ms; "
          f"ratio {large / small:.2f} (linear: 8.00)")


if __name__ == "__main__":
    main()
