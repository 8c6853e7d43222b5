"""`cnndsl predict`'s rows, written as a table, CSV or JSON on standard output.

The table is for a terminal: every path and class name is escaped (`printable`). CSV
and JSON are for programs: names are exact (CSV quoted as the `csv` module quotes, in
UTF-8, a name that is not UTF-8 given back byte for byte; JSON escaped as JSON
escapes), so a comma, a quote, a line break or a terminal escape in a file name cannot
break a row.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from cnndsl.files import printable


@dataclass
class Row:
    """One image: its top classes (with probabilities, or pixel shares for a segmenter),
    how it was read (`inference.Read`), the mask written, or why it was not predicted."""

    image: str
    top: list[tuple[str, float]] = field(default_factory=list)
    read: object = None
    mask: str | None = None
    error: str | None = None


def write(rows: list[Row], trained, top: int, fmt: str, notes: list[str], run_dir) -> None:
    """Write `rows` to standard output in `fmt` (table, csv or json)."""
    segment = trained.task == "segment"
    if fmt == "json":
        _out(_json(rows, trained, top, notes, run_dir) + "\n")
    elif fmt == "csv":
        _out(_csv(rows, top, segment))
    else:
        text = _table(rows, top, segment, _arrow(sys.stdout))
        if text:
            print(text)


def _out(text: str) -> None:
    """Text on standard output as UTF-8; a file name that is not UTF-8 (a surrogate
    escape) is given back as its own bytes."""
    stdout = sys.stdout
    data = text.encode("utf-8", "surrogateescape")
    buffer = getattr(stdout, "buffer", None)
    if buffer is None:
        stdout.write(data.decode("utf-8", "replace"))
        return
    stdout.flush()
    buffer.write(data)
    buffer.flush()


def _arrow(stream) -> str:
    """`→` where the stream can show it, else `->`."""
    try:
        "→".encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "->"
    return "→"


# ---- table ---------------------------------------------------------------------------

def _table(rows: list[Row], top: int, segment: bool, arrow: str) -> str:
    reads = [r.read.text(arrow) if r.read is not None else "" for r in rows]
    masks = any(r.mask for r in rows)
    header = ["image"] + [f"top-{i}" for i in range(1, top + 1)]
    header += ["read as"] if any(reads) else []
    header += ["mask"] if masks else []
    lines, errors = [], set()
    for row, read in zip(rows, reads):
        if row.error is not None:
            errors.add(len(lines))
            lines.append([printable(row.image), f"error: {printable(row.error)}"])
            continue
        cells = [f"{printable(name)} {share:.2%}" for name, share in row.top]
        cells += [""] * (top - len(cells))
        cells += [read] if any(reads) else []
        cells += [printable(row.mask or "")] if masks else []
        lines.append([printable(row.image)] + cells)
    columns = [header] + [line for i, line in enumerate(lines) if i not in errors]
    widths = [max(len(line[i]) for line in columns) for i in range(len(header))]
    widths[0] = max([widths[0]] + [len(line[0]) for line in lines])
    return "\n".join("  ".join(f"{c:<{w}}" for c, w in zip(line, widths)).rstrip()
                     for line in [header, *lines])


# ---- CSV -------------------------------------------------------------------------------

def _csv(rows: list[Row], top: int, segment: bool) -> str:
    from cnndsl.files import csv_text

    value = "share" if segment else "p"
    header = ["image"] + [f"{kind}{i}" for i in range(1, top + 1)
                          for kind in ("top", value)] + ["read", "error"]
    header[-2:-2] = ["mask"] if segment else []
    lines = [header]
    for row in rows:
        cells = [row.image]
        for name, share in row.top + [("", None)] * (top - len(row.top)):
            cells += [name, "" if share is None else f"{share:.6f}"]
        cells += [row.mask or ""] if segment else []
        cells += [row.read.text() if row.read is not None else "", row.error or ""]
        lines.append(cells)
    return csv_text(lines)


# ---- JSON ------------------------------------------------------------------------------

def _json(rows: list[Row], trained, top: int, notes: list[str], run_dir) -> str:
    import json
    import os

    value = "share" if trained.task == "segment" else "probability"
    images = []
    for row in rows:
        item = {"image": row.image, "top": [{"class": name, value: _finite(share)}
                                             for name, share in row.top],
                "read": _read(row.read), "error": row.error}
        if trained.task == "segment":
            item["mask"] = row.mask
        images.append(item)
    return json.dumps({"run": os.fsdecode(run_dir), "model": trained.facts.model,
                       "task": trained.task, "top": top, "images": images, "notes": notes},
                      indent=1, allow_nan=False)


def _finite(value: float) -> float | None:
    """A probability as JSON can hold it: a model gone NaN gives null, not `NaN`."""
    import math

    return value if math.isfinite(value) else None


def _read(read) -> dict | None:
    if read is None:
        return None
    return {"size": list(read.size), "mode": read.mode, "model_size": list(read.model_size),
            "model_mode": read.model_mode, "changes": read.changes}
