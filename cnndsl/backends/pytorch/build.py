"""`compile`, `build` and `load`: from a spec to Python source, a module, a class."""

from __future__ import annotations

import hashlib
import linecache
import re
import sys
import types
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from cnndsl.api import CheckResult, SpecError, check, check_spec
from cnndsl.backends.pytorch.annotate import GeneratedTooLarge
from cnndsl.backends.pytorch.emit import emit
from cnndsl.backends.pytorch.header import HEADER_MARK

if TYPE_CHECKING:
    import torch


#: The first line of every generated file, and nothing else, marks it as ours.
_FIRST_LINE = re.compile(rb'"""[A-Za-z][A-Za-z0-9_]*: ' + re.escape(HEADER_MARK.encode())
                         + rb' [0-9][0-9A-Za-z.+-]* from [^\r\n]*\.(\r?\n|$)')


def is_generated(path: Path) -> bool:
    """True when the file at `path` starts with the first line cnndsl writes."""
    from cnndsl.files import read_head

    head = read_head(path)
    return head is not None and _FIRST_LINE.match(head) is not None


def compile_result(result: CheckResult) -> str:
    """Python source for a checked spec; raises SpecError when it has errors."""
    if not result.ok or result.summary is None:
        raise SpecError(result)
    try:
        code = emit(result.network, result.summary, result.source.name, result.source.text)
    except GeneratedTooLarge as exc:   # a bound on the output: located, like any error
        raise SpecError(replace(result, diagnostics=(*result.diagnostics, exc.diagnostic))) \
            from None
    if result.overrides:
        code = _with_flags(code, result.overrides)
    builtins_compile(code, result.source.name + ".py", "exec")  # fail here, not at import
    return code


def _with_flags(code: str, overrides) -> str:
    """The header's command to write the file again names the overrides it was compiled
    with (`cnndsl compile net.cnn --set w=0.5`), and running the file trains the model
    checked with them. They are names and numbers the override parser accepted, nothing
    a docstring could misread; the table for `main` is `repr()`'d."""
    lines = code.split("\n", 3)
    end = "` writes it again."
    if len(lines) == 4 and lines[2].endswith(end):
        lines[2] = lines[2][:-len(end)] + f" {overrides.command()}{end}"
    code = "\n".join(lines)
    call = ", SPEC_PATH, SPEC))\n"
    if code.endswith(call):
        code = code[:-len(call)] + f", SPEC_PATH, SPEC, overrides={overrides.to_json()!r}))\n"
    return code


builtins_compile = compile


def compile(source: str, filename: str = "<string>") -> str:  # shadows on purpose: the API's name
    """Compile spec text to the source of a self-contained PyTorch module.

    >>> code = compile("model Tiny\\ninput 1x8x8\\nconv 4 k3 -> relu -> fc 2")
    >>> "class Tiny(nn.Module):" in code
    True
    """
    return compile_result(check(source, filename))


def load_module(path_or_source: str | Path,
                module_name: str | None = None) -> types.ModuleType:
    """Compile a spec and execute the code in a fresh module (no file written).

    The module is registered under a name derived from its code, and its source
    with `linecache`, so its classes pickle (`torch.save(model)`) and script
    (`torch.jit.script(model)`) in this process as a compiled file's would.
    """
    return compiled_module(check_spec(path_or_source), module_name)


def compiled_module(result: CheckResult, module_name: str | None = None) -> types.ModuleType:
    """The checked spec's generated code run in a module of its own, registered in
    `sys.modules` (so its classes pickle) with its source in `linecache` (so a
    traceback shows the line); the same code is compiled once per process."""
    code = compile_result(result)
    digest = hashlib.sha256(code.encode("utf-8")).hexdigest()[:12]
    name = module_name or f"cnndsl_generated_{result.network.model}_{digest}"
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__cnndsl_code__", None) == code:
        return existing
    filename = f"<cnndsl:{name}>"
    module = types.ModuleType(name)
    module.__file__ = filename
    module.__cnndsl_code__ = code
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    sys.modules[name] = module
    exec(builtins_compile(code, filename, "exec"), module.__dict__)
    return module


def load(path_or_source: str | Path) -> type[torch.nn.Module]:
    """The model class of a spec: `LeNet = cnndsl.load("lenet.cnn"); model = LeNet()`."""
    result = check_spec(path_or_source)
    return getattr(compiled_module(result), result.network.model)


def build(path_or_source: str | Path, input=None,
          **constants: float | Fraction) -> torch.nn.Module:
    """Compile a spec and return an instance of its model (`torch.nn.Module`).

    Keyword arguments override the spec's `let` constants, and `input` its input's
    size, as `--set` and `--input` do: `cnndsl.build("lenet.cnn", classes=100,
    input=(1, 64, 64))`; with several inputs, `input={"image": (3, 64, 64)}`.
    """
    from cnndsl.ir.overrides import from_python

    overrides = from_python(input, constants)
    # checked once: memory, module and count read it
    result = check_spec(path_or_source, overrides=overrides or None)
    if overrides:
        _refuse_unknown(result)
        if not result.ok:
            raise SpecError(result, f" (with {_given(overrides)})")
    if result.ok:
        _check_memory(result)
    model = getattr(compiled_module(result), result.network.model)()
    params = sum(p.numel() for p in model.parameters())
    if result.summary is not None and params != result.summary.params:
        raise AssertionError(f"cnndsl bug: {result.network.model} has {params:,} parameters, "
                             f"`check` counted {result.summary.params:,}")
    return model


def _given(overrides) -> str:
    return ", ".join(overrides.shown.values())


def _refuse_unknown(result: CheckResult) -> None:
    """A keyword naming no constant (or input) of the spec is a `TypeError`, as an
    unknown keyword argument is in Python."""
    unknown = [d for d in result.errors if d.code in ("E0230", "E0231")]
    if unknown:
        raise TypeError("; ".join(f"{result.source.name}: {d.message}"
                                  + (f" ({d.help})" if d.help else "")
                                  + "".join(f"; {n}" for n in d.notes[:1])
                                  for d in unknown))


def _check_memory(result: CheckResult) -> None:
    """Refuse, before allocating anything, a model whose weights and one sample's
    activations would not fit (`cnndsl.memory.TooLarge`)."""
    from cnndsl import memory

    summary = result.summary
    memory.check_fits(params=int(summary.params), activations=summary.activations, batch=1,
                      training=False, optimizer_states=0, device="cpu")


__all__ = ["SpecError", "build", "compile", "load", "load_module"]

