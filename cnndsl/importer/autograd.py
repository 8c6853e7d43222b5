"""Hand-written `torch.autograd.Function`s: fx traces through their `forward` and drops
their `backward`, so a spec made from that trace would train with other gradients. While
the importer traces, calling one raises `CustomFunction` instead."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch.autograd import Function

from cnndsl.importer.unsupported import Unsupported, user_frame


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


def refused(exc: CustomFunction, path: str, filename: str | None,
            line: int | None) -> Unsupported:
    """The user's message: the module, the line that applies the function, the rewrite."""
    where = user_frame(exc.__traceback__)
    return Unsupported(f"`{exc}` is a hand-written torch.autograd.Function, whose backward a "
                       "spec cannot keep", module_path=path, filename=where[0] or filename,
                       line=where[1] or line,
                       hint="write its forward with torch operations the language has words "
                            "for, and let autograd derive the backward")
