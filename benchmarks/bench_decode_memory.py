"""Benchmark the memory of decoding hostile data files (issue 17, items 7 and 18).

1. A 16-bit grey PNG of 8192x8000 (a few hundred KB of zeros and noise-free rows):
   the peak resident memory of one `open_image(path, "L")`, as a training worker
   decodes it, in a fresh process each (the 8-bit scaling used float64 copies of
   the whole image: ~2 GB; now band by band in the image's own dtype).
2. A gzipped IDX file whose header declares 10 images but which inflates to
   1 GiB: the peak resident memory of `read_idx` (it was inflated whole).

Run:  python benchmarks/bench_decode_memory.py
Each case runs in its own process; the figure is that process's peak RSS
(`ru_maxrss`) less its RSS just before the call.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = """
import resource, sys
from pathlib import Path
{setup}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
{call}
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{{(after - before) / 1024:.0f}} MiB above the {{before / 1024:.0f}} MiB already held")
"""


def make_png(path: Path) -> None:
    import numpy as np
    from PIL import Image

    Image.fromarray(np.full((8000, 8192), 40000, np.uint16)).save(path)


def make_gz(path: Path) -> None:
    import gzip
    import struct

    with gzip.GzipFile(path, "wb", compresslevel=9) as out:
        out.write(b"\0\0\x08\x03" + struct.pack(">III", 10, 28, 28))
        chunk = b"\0" * (1 << 24)
        for _ in range(64):
            out.write(chunk)


def probe(setup: str, call: str) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE.format(setup=setup, call=call)],
                          capture_output=True, text=True, timeout=600)
    return (done.stdout or done.stderr).strip().splitlines()[-1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        png, gz = Path(tmp) / "big16.png", Path(tmp) / "train-images-idx3-ubyte.gz"
        make_png(png)
        make_gz(gz)
        print(f"16-bit PNG 8192x8000 ({png.stat().st_size:,} bytes), open_image(L): "
              + probe("from cnndsl.train.images import open_image\nimport PIL.Image",
                      f"open_image({str(png)!r}, 'L')"))
        print(f"gzipped IDX declaring 10 images, 1 GiB inflated ({gz.stat().st_size:,} "
              "bytes), read_idx: "
              + probe("from cnndsl.train.datasets import read_idx, DataError",
                      f"try:\n    read_idx(Path({str(gz)!r}))\nexcept DataError as e:\n"
                      "    print('refused:', str(e)[:100])"))


if __name__ == "__main__":
    main()
