"""cnndsl: a declarative language and compiler for convolutional networks.

The checker (`check`, `check_file`) needs no PyTorch; `compile` emits Python
source; `build`, `load` and `diagram` import their heavier dependencies lazily.
"""

import gc as _gc

# Importing pydantic and Lark creates many objects that live as long as the
# process; the cyclic collector scanning them while they are still being made
# is wasted work in every `cnndsl` start-up. Paused for the imports only.
_collecting = _gc.isenabled()
_gc.disable()
try:
    from cnndsl.api import CheckResult, check, check_file
finally:
    if _collecting:
        _gc.enable()

__version__ = "0.1.0"

__all__ = ["CheckResult", "__version__", "build", "check", "check_file", "compile",
           "diagram", "load"]


def __getattr__(name: str):
    # Lazy: `import cnndsl` stays fast and torch-free for `cnndsl check`.
    if name in ("compile", "build", "load"):
        from cnndsl.codegen import api as codegen_api

        return getattr(codegen_api, name)
    if name == "diagram":
        from cnndsl.draw import diagram

        return diagram
    raise AttributeError(f"module 'cnndsl' has no attribute {name!r}")
