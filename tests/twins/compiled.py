"""The one place these tests touch the compiler: check a draft spec and build its model.
Everything read from a `CheckResult` is read here, so the lead can re-point it after
the compiler's rewrite."""

from __future__ import annotations

from pathlib import Path

from torch import nn

import cnndsl
from cnndsl.backends.pytorch.build import compile_result


class SpecRefused(AssertionError):
    """The compiler refuses the spec: the first error, in one line."""


def first_error(result) -> str:
    """`line N: E0000 message` for the first error of a check result."""
    error = next(d for d in result.diagnostics if d.is_error)
    where = f"line {error.span.line}: " if error.span is not None else ""
    return f"{where}{error.code} {error.message}"


def build(path: Path) -> tuple[nn.Module, int, tuple[int, ...]]:
    """The compiled model of the spec at `path`, with the parameter count and input shape
    `check` inferred; raises SpecRefused when the spec has errors."""
    result = cnndsl.check_file(path)
    if not result.ok:
        raise SpecRefused(first_error(result))
    namespace: dict = {"__name__": f"cnndsl_twin_{path.stem}"}
    code = compile_result(result)
    exec(compile(code, f"<cnndsl:{path.name}>", "exec"), namespace)  # our own spec's code
    model = namespace[result.network.model]()
    return model, result.summary.params, tuple(result.network.input)
