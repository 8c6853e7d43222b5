"""Hand-written `torch.autograd.Function`s: fx traces through their `forward` and drops
their `backward`, so a spec made from that trace would train with other gradients. While
the importer traces, calling one raises `CustomFunction` instead."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch.autograd import Function


class CustomFunction(Exception):
    """A `torch.autograd.Function` subclass was applied in a traced forward."""

    def __init__(self, cls: type) -> None:
        super().__init__(f"{cls.__name__}.apply")


def _refuse(cls, *args, **kwargs):
    raise CustomFunction(cls)


@contextmanager
def custom_functions_refused() -> Iterator[None]:
    """`Function.apply` raises `CustomFunction` inside the block (every subclass inherits it;
    one that overrides `apply` itself is left as it is)."""
    original = vars(Function)["apply"]
    Function.apply = classmethod(_refuse)
    try:
        yield
    finally:
        Function.apply = original
