"""Overrides: `--set NAME=VALUE` (a `let` constant) and `--input [NAME=]SIZE` (an
input's size), carried into the pipeline as data and applied where `let` and `input`
are declared (`passes.declare.overridden`), so every diagnostic still points at the
user's own text, with a note saying what the override made it.

A value is read with the language's own parser and evaluator (`0.75`, `3/4`, `64`,
`3x64x64`); a value it cannot read is an `OverrideError`, one sentence naming the flag.

>>> o = parse_flags(sets=["w=3/4"], inputs=["3x64x64"])
>>> o.lets["w"], o.inputs[None], o.command()
(Fraction(3, 4), (3, 64, 64), '--set w=3/4 --input 3x64x64')
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

#: A flag's value is a short expression: anything longer is refused before it is read.
MAX_VALUE_CHARS = 200
MAX_OVERRIDES = 100
#: A value from Python has at most this many bits in its numerator and denominator (a
#: flag's 200 characters write no more): past it, it could not even be shown.
MAX_VALUE_BITS = 640

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PLAIN = re.compile(r"[ -~]*\Z")   # printable ASCII, no newline, no control character

Value = int | Fraction | bool | tuple[int, ...]


class OverrideError(ValueError):
    """A `--set`/`--input` value that cannot be read; the message names the flag."""


@dataclass(frozen=True)
class Overrides:
    """Values that replace a spec's own: `lets` by constant name, `inputs` by input
    name (None: the only input). `shown` is how each was given, by key (`w`,
    `input` or `input image`), for notes (`--set w=0.5`, or `w=0.5` from Python)."""

    lets: Mapping[str, Value] = field(default_factory=dict)
    inputs: Mapping[str | None, tuple[int, ...]] = field(default_factory=dict)
    shown: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.lets or self.inputs)

    def how(self, key: str) -> str:
        """How the override under `key` was given, in backticks."""
        return f"`{self.shown.get(key, key)}`"

    def command(self) -> str:
        """The flags that give these overrides again (`--set w=3/4 --input 3x64x64`)."""
        flags = [f"--set {name}={show(value)}" for name, value in self.lets.items()]
        flags += [f"--input {'' if name is None else name + '='}{show(size)}"
                  for name, size in self.inputs.items()]
        return " ".join(flags)

    def to_json(self) -> dict:
        """For a run's `config.json`: values as the language writes them."""
        return {"set": {k: show(v) for k, v in self.lets.items()},
                "input": {("" if k is None else k): show(v) for k, v in self.inputs.items()}}

    @classmethod
    def from_json(cls, data) -> Overrides:
        """What `to_json` wrote (a run folder's record); `OverrideError` if it is not."""
        if data is None:
            return cls()
        if not isinstance(data, dict) or set(data) - {"set", "input"} or \
                not all(isinstance(data.get(k, {}), dict) for k in ("set", "input")):
            raise OverrideError("`overrides` must hold `set` and `input` tables")
        pairs = [*data.get("set", {}).items(), *data.get("input", {}).items()]
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
            raise OverrideError("`overrides` must map names to values written as text")
        return parse_flags(sets=[f"{k}={v}" for k, v in data.get("set", {}).items()],
                           inputs=[f"{k}={v}" if k else v
                                   for k, v in data.get("input", {}).items()])


def show(value: Value) -> str:
    """A value as the language writes it: `64`, `0.75`, `1/3`, `3x64x64`."""
    if isinstance(value, bool):
        return "1==1" if value else "1==0"
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    if isinstance(value, int):
        return str(value)
    den = value.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den == 1 and value.denominator <= 10**12:   # a finite decimal: as written
        places = next(p for p in range(1, 60) if (value * 10**p).denominator == 1)
        digits = str(abs(value * 10**places).numerator).rjust(places + 1, "0")
        return ("-" if value < 0 else "") + digits[:-places] + "." + digits[-places:]
    return f"{value.numerator}/{value.denominator}"


# ---- the command line --------------------------------------------------------------------

def parse_flags(sets=(), inputs=()) -> Overrides:
    """The overrides of repeated `--set NAME=VALUE` and `--input [NAME=]SIZE` flags."""
    if len(sets) + len(inputs) > MAX_OVERRIDES:
        raise OverrideError(f"at most {MAX_OVERRIDES} `--set` and `--input` flags")
    lets: dict[str, Value] = {}
    sizes: dict[str | None, tuple[int, ...]] = {}
    shown: dict[str, str] = {}
    for text in sets:
        flag = f"--set {text}"
        name, value = _split(text, flag, needs_name=True)
        if name in lets:
            raise OverrideError(f"`{_safe(flag)}`: `{name}` is set twice")
        lets[name] = read_value(value, flag)
        shown[name] = flag
    for text in inputs:
        flag = f"--input {text}"
        name, value = _split(text, flag, needs_name=False)
        if name in sizes:
            raise OverrideError(f"`{_safe(flag)}`: the input "
                                f"{'`' + name + '` ' if name else ''}is given twice")
        sizes[name] = read_size(value, flag)
        shown["input" if name is None else f"input {name}"] = flag
    return Overrides(lets, sizes, shown)


def _split(text: str, flag: str, *, needs_name: bool) -> tuple[str | None, str]:
    if len(text) > MAX_VALUE_CHARS or not _PLAIN.match(text):
        raise OverrideError(f"`{_safe(flag)}`: write a short value in plain characters")
    if "=" not in text:
        if needs_name:
            raise OverrideError(f"`{_safe(flag)}`: write NAME=VALUE, e.g. `--set w=0.5`")
        return None, text.strip()
    name, value = (part.strip() for part in text.split("=", 1))
    if not _NAME.match(name):
        raise OverrideError(f"`{_safe(flag)}`: `{_safe(name)}` is not a name")
    return name, value


def _safe(text: str) -> str:
    from cnndsl.files import printable

    return printable(text[:MAX_VALUE_CHARS + 20])


def read_value(text: str, flag: str) -> Value:
    """A constant's value, read and evaluated as the language reads a `let`'s (numbers
    and arithmetic only: a flag cannot name the spec's constants)."""
    from cnndsl.front import syntax as ast
    from cnndsl.passes.constants import evaluate

    program = _parse(f"let v = {text}\n", flag)
    if program is None or len(program.lets) != 1 or _others(program, "lets"):
        raise OverrideError(f"`{_safe(flag)}`: `{_safe(text)}` is not a number or an "
                            "expression of numbers (e.g. `0.75`, `3/4`, `64`)")
    expr = program.lets[0].value
    if any(isinstance(e, (ast.Name, ast.Flag, ast.InChannels)) for e in _walk(expr)):
        raise OverrideError(f"`{_safe(flag)}`: a value is numbers only; it cannot read "
                            "a constant or `in`")
    found = evaluate(expr, {}, problems := [], truth=None)
    if found is None or not found.known:
        why = problems[0].message if problems else "it has no value"
        raise OverrideError(f"`{_safe(flag)}`: {why}")
    return found.value


def read_size(text: str, flag: str) -> tuple[int, ...]:
    """An input's size as `input` writes it (`3x64x64`, `1x16000`)."""
    program = _parse(f"input {text}\n", flag)
    if program is None or len(program.inputs) != 1 or program.inputs[0].name is not None \
            or _others(program, "inputs"):
        raise OverrideError(f"`{_safe(flag)}`: `{_safe(text)}` is not a size "
                            "(one sample's shape, channels first, e.g. `3x64x64`)")
    return tuple(program.inputs[0].shape)


def _parse(text: str, flag: str):
    from cnndsl.front.parser import parse
    from cnndsl.front.source import Source

    program, _ = parse(Source(text, flag))
    return program


def _others(program, kept: str) -> bool:
    """Whether the parsed flag text declares anything but the one `kept` statement."""
    return any(getattr(program, name) for name in
               ("models", "inputs", "outputs", "lets", "blocks", "bodies", "asserts", "trains")
               if name != kept)


def _walk(expr):
    from cnndsl.passes.constants import parts

    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(parts(node))


# ---- Python ---------------------------------------------------------------------------

def from_python(input=None, constants: Mapping[str, object] | None = None) -> Overrides:
    """`cnndsl.build(spec, input=(3, 64, 64), w=0.75)`'s overrides. A float is read as
    the decimal Python shows (`1.3` is 13/10); a value of the wrong type is a
    `TypeError`, one too large to write (`10**5000`) a `ValueError`."""
    lets: dict[str, Value] = {}
    shown: dict[str, str] = {}
    for name, value in (constants or {}).items():
        lets[name] = _number(name, value)
        shown[name] = f"{name}={show(lets[name])}"
    sizes: dict[str | None, tuple[int, ...]] = {}
    if input is not None:
        given = input if isinstance(input, Mapping) else {None: input}
        for name, size in given.items():
            if name is not None and not isinstance(name, str):
                raise TypeError(f"an input's name must be a string, got {name!r}")
            sizes[name] = _size(name, size)
            shown["input" if name is None else f"input {name}"] = \
                f"input={show(sizes[name])}" if name is None \
                else f"input={{{name!r}: {show(sizes[name])}}}"
    return Overrides(lets, sizes, shown)


def _number(name: str, value: object) -> int | Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction) or \
            (isinstance(value, float) and not math.isfinite(value)):
        raise TypeError(f"constant `{name}` must be a number, got {_brief(value)}")
    if isinstance(value, float):
        value = Fraction(repr(value)) if "e" not in repr(value) else Fraction(value)
    if max(Fraction(value).numerator.bit_length(),
           Fraction(value).denominator.bit_length()) > MAX_VALUE_BITS:
        raise ValueError(f"constant `{name}` is out of range: a value has at most "
                         f"{MAX_VALUE_BITS} bits (about {MAX_VALUE_BITS * 3 // 10} digits)")
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def _size(name: str | None, size: object) -> tuple[int, ...]:
    import itertools

    what = "the input" if name is None else f"the input `{name}`"
    if isinstance(size, str) or not hasattr(size, "__iter__"):
        raise TypeError(f"{what} must be a tuple of ints, e.g. (3, 64, 64); "
                        f"got {_brief(size)}")
    values = tuple(itertools.islice(size, 5))    # `range(10**9)` is not materialised
    if not values or len(values) > 4 or \
            not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{what} must be a tuple of 1 to 4 ints, e.g. (3, 64, 64); "
                        f"got {_brief(size)}")
    if any(v.bit_length() > 63 for v in values):
        raise ValueError(f"{what}'s size is out of range: a dimension has over 63 bits "
                         "(the checker holds each to 2,147,483,647)")
    return values


def _brief(value: object) -> str:
    """`repr(value)`, cut short; an int too long to write is named by its type."""
    try:
        text = repr(value)
    except ValueError:      # Python's limit on converting a long int to text
        text = f"a {type(value).__name__} too large to show"
    return text if len(text) <= 80 else text[:77] + "..."
