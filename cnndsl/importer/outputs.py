"""How `cnndsl import` recognises the files it wrote (and so may replace), without
reading more than their first or last bytes; nothing is unpickled."""

from __future__ import annotations

import io
from pathlib import Path

import torch

#: The first line of every imported spec.
SPEC_MARK = "# imported by `cnndsl import`; edit freely"
#: The zip comment of every weights file written by `cnndsl import`.
WEIGHTS_MARK = b"cnndsl import weights"


def is_imported_spec(path: Path) -> bool:
    from cnndsl.files import read_head

    head = read_head(path)
    return head is not None and head.startswith(SPEC_MARK.encode() + b"\n")


def weights_bytes(state: dict[str, torch.Tensor]) -> bytes:
    """`torch.save` of a plain dict of tensors, its zip archive marked by a comment."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu().contiguous() for k, v in state.items()}, buffer)
    data = buffer.getvalue()
    if data[-22:-18] != b"PK\x05\x06" or data[-2:] != b"\x00\x00":
        return data    # not the layout expected: unmarked, so never replaced without --force
    return data[:-2] + len(WEIGHTS_MARK).to_bytes(2, "little") + WEIGHTS_MARK


def is_imported_weights(path: Path) -> bool:
    from cnndsl.files import read_head

    tail = read_head(path, 64, tail=True)
    return tail is not None and tail.endswith(len(WEIGHTS_MARK).to_bytes(2, "little")
                                              + WEIGHTS_MARK) \
        and b"PK\x05\x06" in tail
