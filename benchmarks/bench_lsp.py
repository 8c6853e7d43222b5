"""Benchmark the language server (issue 23): one keystroke on ResNet-50 to its
published diagnostics and inlay hints, in process (server time, no transport).

A keystroke is an edit of `specs/resnet50.cnn` (a digit typed in a channel count);
the server then checks the document and computes what it publishes: the
diagnostics and the inlay hints of the whole document. Best and median of N.
Target (issue 23): <= 30 ms.

Run:  python benchmarks/bench_lsp.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from lsprotocol import types as T

from cnndsl.lsp import analysis as A
from cnndsl.lsp import server as S

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "resnet50.cnn"


def keystroke(ls, text: str) -> float:
    start = time.perf_counter()
    an = A.analyse(text, "resnet50.cnn")
    S.lsp_diagnostics(ls, "file:///resnet50.cnn", an)
    S.inlay(ls, an, T.Range(start=T.Position(line=0, character=0),
                            end=T.Position(line=len(an.line_starts), character=0)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    text = SPEC.read_text()
    ls = S.build()
    keystroke(ls, text)                        # warm: imports, the parser's tables
    at = text.index("conv 64 k7")
    times, stages = [], {"check": [], "index+publish": []}
    for n in range(args.runs):
        edited = text[:at] + f"conv 6{n % 10} k7" + text[at + len("conv 64 k7"):]
        times.append(keystroke(ls, edited))
        t0 = time.perf_counter()
        import cnndsl

        cnndsl.check(edited, "resnet50.cnn")
        stages["check"].append(time.perf_counter() - t0)
    stages["index+publish"] = [t - c for t, c in zip(times, stages["check"])]
    print(f"keystroke on ResNet-50 ({len(text):,} characters), {args.runs} runs:")
    print(f"  to diagnostics + inlay hints: best {min(times) * 1e3:.1f} ms, "
          f"median {statistics.median(times) * 1e3:.1f} ms (target <= 30 ms)")
    for name, values in stages.items():
        print(f"  {name:>14}: median {statistics.median(values) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
