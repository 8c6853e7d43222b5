"""Rendering DOT with Graphviz's `dot` within a time and a memory bound, and the
mark that tells a diagram cnndsl wrote (so that only such a file is replaced)."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import zlib
from pathlib import Path

from cnndsl.backends.diagram.style import MARK, DrawProblem
from cnndsl.files import PNG_SIGNATURE, png_marked, printable, read_head

#: what one `dot` run may take: seconds of wall-clock time and bytes of address space
DOT_SECONDS = 20
DOT_MEMORY = 1 << 30


def render(source: str, fmt: str) -> bytes:
    """DOT source laid out by Graphviz's `dot` as `fmt` (svg, png, pdf), within
    `DOT_SECONDS` and `DOT_MEMORY`. Raises `DrawProblem` (one line) when `dot`
    cannot run, takes too long, fails or crashes."""
    argv = ["dot", f"-T{fmt}"]
    if os.name == "posix":   # the shell sets the limit, then becomes `dot`
        argv = ["/bin/sh", "-c", f'ulimit -v {DOT_MEMORY >> 10} 2>/dev/null; exec "$@"',
                "dot", *argv]
    try:
        done = subprocess.run(argv, input=source.encode("utf-8"), capture_output=True,
                              timeout=DOT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise DrawProblem(f"Graphviz took over {DOT_SECONDS} s to lay the diagram "
                          "out") from None
    except OSError as exc:
        raise DrawProblem(f"Graphviz's `dot` could not be run: "
                          f"{printable(exc.strerror or type(exc).__name__)}") from None
    if done.returncode:
        raise DrawProblem(_failure(done.returncode, done.stderr))
    return done.stdout


def _failure(status: int, stderr: bytes) -> str:
    """`dot`'s failure in one line: its exit status or signal, its first line of error."""
    if status < 0:
        try:
            why = f"was killed by {signal.Signals(-status).name}"
        except ValueError:
            why = f"was killed by signal {-status}"
        if -status == signal.SIGKILL or -status == signal.SIGSEGV:
            why += f" (it may have run out of memory: it may use {DOT_MEMORY >> 20} MiB)"
    else:
        why = f"failed (exit {status})"
    lines = stderr[:4096].decode("utf-8", "replace").splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    return f"Graphviz's `dot` {why}" + (f": {printable(first[:200])}" if first else "")


def mark(data: bytes, fmt: str) -> bytes:
    """The rendered diagram with cnndsl's mark, so that a later run may replace it
    (and nothing else). DOT and SVG carry it already, as the graph's comment."""
    if fmt == "png" and data.startswith(PNG_SIGNATURE):
        # a tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR chunk)
        body = b"tEXt" + b"Software\x00" + MARK.encode()
        chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
        return data[:33] + chunk + data[33:]
    if fmt == "pdf":
        return data + b"%" + MARK.encode() + b"\n"   # a comment after %%EOF
    return data


def drawn_by_us(path: Path, fmt: str) -> bool:
    """True when the file at `path` is a diagram that cnndsl wrote."""
    if fmt == "png":
        return png_marked(path, MARK)
    head = read_head(path)
    if head is None:
        return False
    if fmt == "dot":
        return head.startswith(b"// " + MARK.encode())
    if fmt == "tex":
        return head.startswith(b"% " + MARK.encode() + b"\n")
    if fmt == "svg":
        return head.startswith(b"<?xml") and b"<!-- " + MARK.encode() in head
    tail = read_head(path, 64, tail=True) or b""
    return head.startswith(b"%PDF-") and tail.endswith(b"%" + MARK.encode() + b"\n")
