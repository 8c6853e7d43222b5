"""Weights from a file: a plain state_dict, a run's checkpoint, or a common wrapper.

Used by `cnndsl train --init` and `cnndsl export --weights`. A file is read with
`torch.load(weights_only=True)` only (tensors and plain data: a planted file
cannot run code), after checking that it is a regular file of bounded size. What
it holds is matched against the network's own state_dict: strictly (every key,
every shape) or, for fine-tuning, partially (what matches; the rest is listed).
"""

from __future__ import annotations

import os
import pickle
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cnndsl.files import show_path
from cnndsl.train.checkpoint import MAX_BYTES, REQUIRED

#: the wrappers other tools save a state_dict in, looked into in this order
WRAPPERS = ("state_dict", "model_state_dict", "model", "net", "module")
#: prefixes DistributedDataParallel (`module.`) and torch.compile (`_orig_mod.`) add
PREFIXES = ("module.", "_orig_mod.")
#: how many differences a refusal names
SHOWN = 4


class WeightsError(Exception):
    """Weights that cannot be used, in one line (names the file)."""


@dataclass
class Matched:
    """What a weights file gives a network: the tensors to load and what was left out."""

    state: dict[str, torch.Tensor]
    missing: list[str] = field(default_factory=list)      # the network's, not in the file
    unexpected: list[str] = field(default_factory=list)   # the file's, not in the network
    # in both, of other shapes: (key, the file's shape, the network's)
    reshaped: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def skipped(self) -> list[str]:
        """One phrase per difference, for the user."""
        return ([f"{_key(k)} (not in the file)" for k in self.missing]
                + [f"{_key(k)} (not in the network)" for k in self.unexpected]
                + [f"{_key(k)} ({a} in the file, {b} in the network)"
                   for k, a, b in self.reshaped])


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The state_dict a weights file holds: itself, a cnndsl checkpoint's `model`,
    or the dict under `state_dict`/`model`/...; DDP's `module.` prefix is dropped."""
    path = Path(path)
    data = _load(path)
    state = _unwrap(data)
    if state is None:
        raise WeightsError(f"`{show_path(path)}` holds no state_dict (a dict of tensors by "
                           "parameter name, bare or under `state_dict` or `model`)")
    return _unprefixed(state)


def _load(path: Path):
    name = show_path(path)
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or "it cannot be opened"
        raise WeightsError(f"cannot read `{name}`: {reason.lower()}") from None
    if not stat.S_ISREG(info.st_mode):
        raise WeightsError(f"`{name}` is not a regular file; weights are read from a file")
    if info.st_size > MAX_BYTES:
        raise WeightsError(f"`{name}` is {info.st_size:,} bytes; a weights file may be at "
                           f"most {MAX_BYTES:,}")
    try:
        with warnings.catch_warnings():     # torch's notes on old pickle protocols
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" not in str(exc).lower():    # damaged, rather than naming code
            raise WeightsError(f"`{name}` is not a readable PyTorch file (damaged, or not "
                               "one)") from None
        raise WeightsError(f"`{name}` holds more than tensors and plain data (a whole pickled "
                           "model, or code); refusing to load it: save `model.state_dict()` "
                           "instead") from None
    except Exception as exc:   # damaged bytes stop the unpickler anywhere (see checkpoint.load)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WeightsError(f"`{name}` is not a readable PyTorch file ({reason[:120]})") \
            from None


def _is_state(value) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())


def _unwrap(data) -> dict | None:
    if _is_state(data):
        return data
    if not isinstance(data, dict):
        return None
    if all(isinstance(data.get(k), kind) for k, kind in REQUIRED.items()):   # a cnndsl run's
        return data["model"] if _is_state(data["model"]) else None
    for key in WRAPPERS:
        if _is_state(data.get(key)):
            return data[key]
    return None


def _unprefixed(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    for prefix in PREFIXES:
        if all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
    return state


def match(state: dict[str, torch.Tensor], model: torch.nn.Module) -> Matched:
    """The file's tensors that the network takes (same name, same shape), and the rest."""
    own = model.state_dict()
    found = Matched({})
    for key, tensor in state.items():
        if key not in own:
            found.unexpected.append(key)
        elif tuple(tensor.shape) != tuple(own[key].shape):
            found.reshaped.append((key, _shape(tensor), _shape(own[key])))
        else:
            found.state[key] = tensor
    found.missing = [key for key in own if key not in state]
    return found


def _key(key: str) -> str:
    """A key as a message shows it: quoted, and cut short (a file's keys are anyone's text)."""
    return f"`{key[:80]}`" + ("..." if len(key) > 80 else "")


def _shape(tensor: torch.Tensor) -> str:
    return "x".join(map(str, tensor.shape)) or "scalar"


def refusal(path: str | os.PathLike, found: Matched, hint: str) -> str:
    """One line: the file does not fit the network, its first few differences, a way out."""
    parts = [f"`{show_path(path)}` does not fit the network"]
    for what, keys in (("missing", found.missing), ("unexpected", found.unexpected)):
        if keys:
            parts.append(f"{what} {_few(keys)}")
    if found.reshaped:
        shown = ", ".join(f"{_key(k)} {a} in the file, {b} in the network"
                          for k, a, b in found.reshaped[:SHOWN])
        more = f" (and {len(found.reshaped) - SHOWN} more)" if len(found.reshaped) > SHOWN \
            else ""
        parts.append(f"shape {shown}{more}")
    return "; ".join(parts) + (f"; {hint}" if hint else "")


def _few(keys: list[str]) -> str:
    shown = ", ".join(_key(k) for k in keys[:SHOWN])
    return shown + (f" (and {len(keys) - SHOWN} more)" if len(keys) > SHOWN else "")


def digest(path: str | os.PathLike) -> str:
    """The file's SHA-256, read in blocks (it has been size-checked by `read_state_dict`)."""
    import hashlib

    sha = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
    except OSError as exc:
        raise WeightsError(f"cannot read `{show_path(path)}`: {exc.strerror}") from None
    return sha.hexdigest()


def load_into(model: torch.nn.Module, path: str | os.PathLike, *, partial: bool = False,
              hint: str = "") -> Matched:
    """Load the weights at `path` into `model`: every key and shape must match, unless
    `partial` (then what matches is loaded, and at least one tensor must)."""
    found = match(read_state_dict(path), model)
    if not partial and (found.missing or found.unexpected or found.reshaped):
        raise WeightsError(refusal(path, found, hint))
    if not found.state:
        raise WeightsError(f"`{show_path(path)}` has no tensor of the network's names and "
                           f"shapes; nothing to load ({refusal(path, found, '')})")
    model.load_state_dict(found.state, strict=False)
    return found
