"""The one place the security tests read a `CheckResult`'s internals.

The compiler core is being rewritten (rows gain `.node`, the annotated IR): when
its shape changes, only this module needs re-pointing. Everything here is read-only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One diagnostic as the tests need it: severity, code, and where (or None)."""

    is_error: bool
    code: str
    line: int | None
    column: int | None

    @property
    def located(self) -> bool:
        return self.line is not None and self.line >= 1 and (self.column or 0) >= 1


def findings(result) -> list[Finding]:
    """Every diagnostic of a check result, reduced to what the tests assert on."""
    out = []
    for d in result.diagnostics:
        span = d.span
        out.append(Finding(d.is_error, d.code, span.line if span else None,
                           span.column if span else None))
    return out


def model_name(result) -> str:
    """The generated model class's name (the `model` line, or one from the file name)."""
    return result.network.model


def input_shape(result) -> tuple[int, ...]:
    """One sample's shape, without the batch dimension."""
    return tuple(result.network.input)


def param_count(result) -> int:
    """The parameters `check` reports for the whole network."""
    return result.summary.params


def compiled_source(result) -> str:
    """The generated Python module for a checked spec (raises `SpecError` on errors)."""
    from cnndsl.backends.pytorch.build import compile_result

    return compile_result(result)
