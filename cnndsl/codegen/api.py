"""`compile`, `build` and `load`: from a spec to Python source, a module, a class."""

from __future__ import annotations

import hashlib
import linecache
import math
import re
import sys
import types
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from cnndsl.api import CheckResult, SpecError, check, check_spec
from cnndsl.codegen.emit import HEADER_MARK, GeneratedTooLarge, emit

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
    builtins_compile(code, result.source.name + ".py", "exec")  # fail here, not at import
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


def build(path_or_source: str | Path, **constants: float | Fraction) -> torch.nn.Module:
    """Compile a spec and return an instance of its model (`torch.nn.Module`).

    Keyword arguments override the spec's `let` constants:
    `cnndsl.build("lenet.cnn", classes=100)`.
    """
    # checked once: memory, module and count read it
    result = _overridden(path_or_source, constants) if constants else check_spec(path_or_source)
    if result.ok:
        _check_memory(result)
    model = getattr(compiled_module(result), result.network.model)()
    params = sum(p.numel() for p in model.parameters())
    if result.summary is not None and params != result.summary.params:
        raise AssertionError(f"cnndsl bug: {result.network.model} has {params:,} parameters, "
                             f"`check` counted {result.summary.params:,}")
    return model


def _check_memory(result: CheckResult) -> None:
    """Refuse, before allocating anything, a model whose weights and one sample's
    activations would not fit (`cnndsl.memory.TooLarge`)."""
    from cnndsl import memory

    summary = result.summary
    memory.check_fits(params=int(summary.params), activations=summary.activations, batch=1,
                      training=False, optimizer_states=0, device="cpu")


def _overridden(path_or_source: str | Path, constants: dict[str, float | Fraction]) -> CheckResult:
    """The spec checked with `constants` written over its `let` values, under its
    own file name; errors say which values were given (`(with classes=-3)`)."""
    text, name = _override(path_or_source, constants)
    result = check(text, name)
    if not result.ok:
        given = ", ".join(f"{k}={v}" for k, v in constants.items())
        raise SpecError(result, f" (with {given})")
    return result


def _override(path_or_source: str | Path,
              constants: dict[str, float | Fraction]) -> tuple[str, str]:
    result = check_spec(path_or_source)
    program = result.program
    if program is None:
        raise SpecError(result)
    names = {let.name: let for let in program.lets}
    unknown = sorted(set(constants) - set(names))
    if unknown:
        known = ", ".join(sorted(names)) or "none"
        raise TypeError(f"{result.source.name} has no constant {', '.join(unknown)} "
                        f"(its `let` constants: {known})")
    text = result.source.text
    for let in sorted((names[n] for n in constants), key=lambda d: -d.value.span.start):
        shown = _literal(let.name, constants[let.name])
        text = text[:let.value.span.start] + shown + text[let.value.span.end:]
    return (text if "\n" in text else text + "\n"), result.source.name


def _literal(name: str, value: object) -> str:
    """An override as the language writes it: an int as itself, a float as the decimal
    Python shows (`1.3`, read exactly as 13/10), a Fraction as a quotient; a negative one
    as `(0 - v)` (no unary minus in a `let`)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction):
        raise TypeError(f"constant `{name}` must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise TypeError(f"constant `{name}` must be a number, got {value!r}")
    if isinstance(value, Fraction) and value.denominator == 1:
        value = value.numerator
    magnitude = abs(value)
    if isinstance(magnitude, Fraction):
        shown = f"({magnitude.numerator} / {magnitude.denominator})"
    else:
        shown = repr(magnitude)
    return shown if value >= 0 else f"(0 - {shown})"


__all__ = ["SpecError", "build", "compile", "load", "load_module"]

