"""Checkpoints: tensors and plain data only, written atomically, read safely.

A checkpoint holds the model, optimizer, scaler and EMA states, the RNG states
(numpy's and Python's as plain lists and tensors), the epoch and metrics, and
the spec's hash: everything `torch.load(path)` with `weights_only=True` (the
default of current PyTorch) accepts. It is never loaded any other way, so a
planted file cannot run code. A save goes to `.NAME.*.tmp` beside the target and
is renamed over it, so a crash leaves the old file or the new one.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import random
import warnings
from pathlib import Path

import numpy as np
import torch

from cnndsl.files import FileProblem, open_regular, show_path, write_atomic

#: what every checkpoint holds, and what each entry is
REQUIRED = {"model": dict, "optimizer": dict, "scaler": dict, "rng": dict, "epoch": int,
            "metrics": list, "spec_hash": str, "format": int}
FORMAT = 2
#: a checkpoint is weights: far below this, but a bound on what is read
MAX_BYTES = 64 << 30


class CheckpointError(Exception):
    """An unusable checkpoint, in words (names the file)."""


def spec_hash(text: str) -> str:
    """The spec's identity: its text with line ends normalised (CRLF, CR -> LF)."""
    normal = text.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def rng_state() -> dict:
    """Every global RNG's state, as tensors and plain lists."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = {"torch": torch.get_rng_state(),
             "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "gauss": float(gauss)},
             "python": {"version": version, "state": list(internal), "gauss": gauss_next}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: Path, payload: dict) -> None:
    """Atomically, through `cnndsl.files.write_atomic` (`.NAME.*.tmp`, then rename)."""
    buffer = io.BytesIO()
    torch.save({**payload, "format": FORMAT}, buffer)
    write_atomic(path, buffer.getvalue())


def load(path: Path) -> dict:
    """A checkpoint, loaded with `weights_only=True` and checked to be one of ours."""
    name = show_path(path)
    try:    # a regular file only: torch.load would block forever on a FIFO
        handle = open_regular(path, what="checkpoint")
    except FileProblem as exc:
        raise CheckpointError(str(exc)) from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_BYTES:
            raise CheckpointError(f"`{name}` is {size:,} bytes: not a cnndsl checkpoint")
        _stored_only(handle, name)
        state = _unpickled(handle, name)
    _validate(state, name)
    return state


def _stored_only(handle, name: str) -> None:
    """torch.save writes its archive uncompressed; torch.load would inflate a compressed
    entry to whatever size the archive claims (a few kilobytes to gigabytes)."""
    import zipfile

    try:
        with zipfile.ZipFile(handle) as archive:
            packed = [i.filename for i in archive.infolist()
                      if i.compress_type != zipfile.ZIP_STORED]
    except zipfile.BadZipFile:
        packed = []     # not an archive: torch.load says what it is
    except Exception as exc:   # an archive zipfile cannot read through: damaged
        raise CheckpointError(f"`{name}` is damaged: its archive cannot be read "
                              f"({type(exc).__name__})") from None
    finally:
        handle.seek(0)
    if packed:
        raise CheckpointError(f"`{name}` holds compressed entries ({packed[0][:60]}), which "
                              "torch.save never writes; refusing to inflate it")


def _unpickled(handle, name: str):
    try:
        with warnings.catch_warnings():     # torch's notes on old pickle protocols
            warnings.simplefilter("ignore")
            return torch.load(handle, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():   # it names code: refused by weights_only
            raise CheckpointError(f"`{name}` holds more than tensors and plain data (it may "
                                  "have been planted); refusing to load it") from None
        raise CheckpointError(f"`{name}` is not a readable checkpoint: it is damaged, or holds "
                              "more than tensors and plain data; refusing to load it") from None
    except Exception as exc:   # damaged bytes stop the unpickler anywhere: IndexError, KeyError,
        # struct.error, UnicodeDecodeError, EOFError, zipfile.BadZipFile, torch's RuntimeError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"`{name}` is not a readable checkpoint ({reason[:120]})") \
            from None


def _validate(state, name: str) -> None:
    from cnndsl.train.runfolder import checkpoint_problem

    if not isinstance(state, dict):
        raise CheckpointError(f"`{name}` is not a cnndsl checkpoint")
    for key, kind in REQUIRED.items():
        if not isinstance(state.get(key), kind):
            raise CheckpointError(f"`{name}` is not a cnndsl checkpoint (no `{key}`)")
    if state["format"] != FORMAT:
        raise CheckpointError(f"`{name}` was written by another version of cnndsl "
                              f"(format {state['format']}, this one reads {FORMAT})")
    problem = checkpoint_problem(state)
    if problem:
        raise CheckpointError(f"`{name}`: {problem}; the run folder is damaged")


def clean_temporaries(folder: Path) -> list[str]:
    """Remove `.NAME.*.tmp` files a killed save left behind; returns their names.
    Only called with the run folder's lock held, so no save of ours is under way."""
    removed = []
    for tmp in folder.glob(".*.tmp"):
        try:
            tmp.unlink()
            removed.append(tmp.name)
        except OSError as exc:
            raise FileProblem(f"cannot remove the stale `{show_path(tmp)}`: {exc.strerror}") \
                from None
    return sorted(removed)
