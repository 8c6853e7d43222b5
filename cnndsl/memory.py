"""One memory guard for `cnndsl train` and `cnndsl.build`: will this fit?

What a network needs is estimated from the checker's figures: parameters (and,
when training, their gradients and the optimizer's per-parameter state) plus
activations, the sum of every layer's output elements for each sample of the
batch, twice when training (the forward values kept for backward, and their
gradients). What is available is the tightest of every limit that applies to
this process: `ulimit -v` (RLIMIT_AS) and RLIMIT_DATA less what is already
mapped, the cgroup's `memory.max` (v2) or `memory.limit_in_bytes` (v1) less
what the cgroup already uses, the kernel's `MemAvailable`, and on CUDA the
device's free memory. The estimate is a lower bound (allocator slack, the
framework's own buffers and workspace are not counted), so a refusal is sure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BYTES = 4          # float32
HEADROOM = 0.9     # leave a tenth for what the estimate does not count
GiB = 1 << 30


class TooLarge(Exception):
    """The network will not fit; the message gives both sides of the sum."""


@dataclass(frozen=True)
class Limit:
    """Bytes available under one named limit."""

    bytes: int
    source: str


def needed(*, params: int, activations: int, batch: int, training: bool,
           optimizer_states: int) -> dict[str, int]:
    """Bytes by part: weights, gradients, optimizer state, activations."""
    parts = {"weights": params * BYTES}
    if training:
        parts["gradients"] = params * BYTES
        parts["optimizer state"] = params * BYTES * optimizer_states
    parts["activations"] = activations * batch * BYTES * (2 if training else 1)
    return parts


def check_fits(*, params: int, activations: int, batch: int, training: bool,
               optimizer_states: int, device) -> None:
    """Raise `TooLarge` when the estimate exceeds what `device` can give now.

    >>> check_fits(params=10, activations=100, batch=1, training=True,
    ...            optimizer_states=2, device="cpu")
    """
    parts = needed(params=params, activations=activations, batch=batch, training=training,
                   optimizer_states=optimizer_states)
    total = sum(parts.values())
    limit = available(device)
    if limit is None or total <= HEADROOM * limit.bytes:
        return
    detail = ", ".join(f"{name} {_gib(size)}" for name, size in parts.items() if size)
    what = "training" if training else "the model"
    raise TooLarge(f"{what} needs at least {_gib(total)} ({detail}; {params:,} parameters, "
                   f"batch {batch}), but only {_gib(limit.bytes)} is available ({limit.source})")


def _gib(size: int) -> str:
    return f"{size / GiB:.2f} GiB" if size < 10 * GiB else f"{size / GiB:.1f} GiB"


def available(device) -> Limit | None:
    """The tightest limit for `device` (`cpu`, `cuda:0`, a `torch.device`), or
    None when nothing can be known (MPS)."""
    kind = str(device).split(":")[0]
    if kind == "cuda":
        return _cuda(device)
    if kind != "cpu":
        return None
    limits = [limit for limit in (_rlimit("RLIMIT_AS", "VmSize", "ulimit -v"),
                                  _rlimit("RLIMIT_DATA", "VmData", "ulimit -d"),
                                  _cgroup(), _meminfo())
              if limit is not None]
    return min(limits, key=lambda limit: limit.bytes) if limits else None


def _cuda(device) -> Limit | None:
    import torch

    if not torch.cuda.is_available():
        return None
    free, _ = torch.cuda.mem_get_info(torch.device(device))
    return Limit(free, f"free on {device}")


def _rlimit(which: str, status_key: str, name: str) -> Limit | None:
    """A resource limit less what this process already holds under it (none where
    the system has no such limits: `resource` is Unix only)."""
    try:
        import resource
    except ImportError:
        return None
    soft, _ = resource.getrlimit(getattr(resource, which))
    if soft == resource.RLIM_INFINITY:
        return None
    used = _status_kib(status_key) * 1024
    return Limit(max(soft - used, 0), f"{name} {_gib(soft)}, {_gib(used)} already in use")


def _status_kib(key: str) -> int:
    """A `kB` figure from /proc/self/status (0 where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _cgroup() -> Limit | None:
    """cgroup v2 `memory.max` (or v1 `memory.limit_in_bytes`) less current use."""
    for base, limit_file, usage_file in _cgroup_files():
        limit, used = _read_int(base / limit_file), _read_int(base / usage_file)
        if limit is not None and limit < 1 << 60:
            return Limit(max(limit - (used or 0), 0), f"cgroup {limit_file} {_gib(limit)}")
    return None


def _cgroup_files():
    """(folder, limit file, usage file) for this process's cgroup, v2 then v1."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            yield Path("/sys/fs/cgroup") / parts[2].lstrip("/"), "memory.max", "memory.current"
        elif "memory" in parts[1].split(","):
            base = Path("/sys/fs/cgroup/memory") / parts[2].lstrip("/")
            yield base, "memory.limit_in_bytes", "memory.usage_in_bytes"


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _meminfo() -> Limit | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return Limit(int(line.split()[1]) * 1024, "MemAvailable")
    except (OSError, ValueError, IndexError):
        pass
    return None
