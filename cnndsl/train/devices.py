"""Devices, mixed precision and torch's distributed runtime."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


class DeviceError(Exception):
    """A device that cannot be used here, in words."""


@dataclass(frozen=True)
class Placement:
    device: torch.device
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def pick_device(choice: str) -> torch.device:
    """`auto` prefers CUDA, then Apple's MPS, then the CPU."""
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(choice)
    except RuntimeError:
        raise DeviceError(f"unknown device `{choice}` (auto | cpu | cuda | cuda:N | mps)") \
            from None
    if device.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"cnndsl does not train on `{choice}` (auto | cpu | cuda | cuda:N | "
                          "mps)")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError("`--device cuda` but no CUDA device is available; "
                         "use `--device cpu` or `auto`")
    if device.type == "cuda" and device.index is not None and \
            device.index >= torch.cuda.device_count():
        raise DeviceError(f"`{choice}` does not exist: {torch.cuda.device_count()} "
                         "CUDA device(s) here")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None)
                                     and torch.backends.mps.is_available()):
        raise DeviceError("`--device mps` but Apple's MPS is not available here")
    return device


def setup(choice: str) -> Placement:
    """Join torchrun's process group when launched by it (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Placement(pick_device(choice))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if choice in ("auto", "cuda") and torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device = pick_device("cpu" if choice == "auto" else choice)
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return Placement(device, rank, world, local_rank)


def teardown(placement: Placement) -> None:
    if placement.distributed and dist.is_initialized():
        dist.destroy_process_group()


def amp_dtype(device: torch.device, wanted: bool | None) -> torch.dtype | None:
    """bf16 where supported, else fp16, on CUDA by default; off on the CPU unless asked."""
    enabled = device.type == "cuda" if wanted is None else wanted
    if not enabled:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu":
        return torch.bfloat16
    return torch.float16
