"""cnndsl: a declarative language and compiler for convolutional networks.

The checker (`check`, `check_file`) needs no PyTorch; `compile` emits Python
source; `build`, `load` and `diagram` import their heavier dependencies lazily.
"""

from cnndsl.api import CheckResult, check, check_file
from cnndsl.version import __version__

__all__ = ["CheckResult", "__version__", "build", "check", "check_file", "compile",
           "diagram", "layer_schema", "load", "render_summary"]


def __getattr__(name: str):
    # Lazy: `import cnndsl` stays fast and torch-free for `cnndsl check`.
    if name in ("compile", "build", "load"):
        from cnndsl.backends.pytorch import build as codegen_api

        return getattr(codegen_api, name)
    if name == "diagram":
        from cnndsl.backends.diagram import diagram

        return diagram
    if name == "layer_schema":
        from cnndsl.ir.layers import schema

        return schema
    if name == "render_summary":
        from cnndsl.backends.table.report import render_summary

        return render_summary
    raise AttributeError(f"module 'cnndsl' has no attribute {name!r}")
