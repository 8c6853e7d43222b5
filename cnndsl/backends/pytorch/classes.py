"""The text of one generated class: its `forward` lines and locals, its `__init__`
statements (the `nn.Sequential`s a dotted name passes through made first), and the
class as text, one line per layer with the shape it produces as a comment."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from cnndsl.backends.pytorch import symbolic
from cnndsl.backends.pytorch.modules import Arg, render
from cnndsl.backends.pytorch.text import INDENT, WIDTH, _comment
from cnndsl.ir import expr as E
from cnndsl.ir import nodes as ir


@dataclass
class _Line:
    code: str
    shape: str = ""            # `(B, 6, 28, 28)`
    symbolic: str | None = ""  # `(B, c, H, W)`; None when it cannot be written
    note: str = ""             # the spec's trailing comment


class _Locals:
    """Local variable names of one `forward`: labels and inputs are the user's;
    temporaries (`branch1`, `identity`) are fresh while they live."""

    def __init__(self, reserved: set[str]) -> None:
        #: the variable the main chain flows through: `x`, unless a label took it
        self.main = next(n for n in ("x", "h", "y", "z", "t") if n not in reserved)
        self.reserved = reserved | {self.main, "self"}
        self.live: set[str] = set()

    def take(self, base: str) -> str:
        name, n = base, 1
        while name in self.reserved or name in self.live:
            n += 1
            name = f"{base}_{n}"
        self.live.add(name)
        return name

    def release(self, *names: str) -> None:
        self.live.difference_update(names)


@dataclass(frozen=True)
class _Flow:
    """The tensor flowing at a point of `forward`: its variable, its channel
    count as a tree, and its symbolic spatial sizes (None if unwritable)."""

    var: str
    ch: E.Expr
    dims: symbolic.Dims | None


@dataclass(frozen=True)
class _Stmt:
    """`target = callee(args)` in `__init__`, its values trees."""

    target: str
    callee: str
    args: tuple[Arg, ...]
    append: bool = False     # `target.append(callee(args))`: the next of an nn.Sequential

    def text(self) -> str:
        if not self.append:
            return _call(self.target, self.callee, [render(a) for a in self.args])
        call = _call("_", self.callee, [render(a) for a in self.args])[len("_ = "):]
        return f"{self.target}.append({call})"

    def names(self) -> set[str]:
        return {n for _, v in self.args if not isinstance(v, str) for n in E.names(v)}


@dataclass
class _Class:
    """The text of one generated class, built line by line."""

    locals: _Locals
    init: list[_Stmt] = field(default_factory=list)
    forward: list[_Line] = field(default_factory=list)
    labels: dict[str, _Flow] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    returns: list[str] = field(default_factory=list)
    containers: dict[str, int] = field(default_factory=dict)   # nn.Sequential -> modules

    def module(self, name: str, callee: str, args: tuple[Arg, ...]) -> str:
        """`self.NAME = callee(args)` in `__init__`, the `nn.Sequential`s a dotted
        name (`layer1.0.conv1`) passes through made first; the module's access."""
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            path = ".".join(parts[:depth])
            if depth > 1 and parts[depth - 1].isdigit():
                # `append` numbers it: the names were made in the order the code runs
                held = self.containers[".".join(parts[:depth - 1])]
                if int(parts[depth - 1]) != held and path not in self.containers:
                    raise AssertionError(f"module {path} made out of order")
            if path in self.containers or depth == len(parts):
                continue
            self.containers[path] = 0
            if depth > 1:
                self.containers[".".join(parts[:depth - 1])] += 1
            self.init.append(_place(parts[:depth], "nn.Sequential", ()))
        if len(parts) > 1:
            self.containers[".".join(parts[:-1])] += 1
        self.init.append(_place(parts, callee, args))
        return _access(parts)

    def line(self, code: str, shape: str = "", sym: str | None = "", note: str = "") -> None:
        self.forward.append(_Line(code, shape, sym, note))

    def structure(self) -> tuple:
        """The code without comments, its values as trees: two uses of a block
        share a class exactly when their structures agree."""
        return (tuple(self.init), tuple(line.code for line in self.forward),
                tuple(self.returns))

    @property
    def symbolic(self) -> bool:
        return all(line.symbolic is not None for line in self.forward)


@dataclass
class _BlockClass:
    name: str
    call: ir.BlockCall       # the first use, for the docstring
    params: tuple[tuple[str, int | float | None], ...]
    body: _Class
    floats: set[str] = field(default_factory=set)   # parameters some use gives a decimal

    def note(self, call: ir.BlockCall) -> None:
        self.floats |= {k for k, v in call.args if isinstance(v, float)}


def _class_text(name: str, doc: str, signature: str, body: _Class, *, symbolic: bool) -> str:
    use_symbolic = symbolic and body.symbolic
    comments = [(line.symbolic if use_symbolic else line.shape) or "" for line in body.forward]
    notes = [_comment(line.note) for line in body.forward]
    width = max((len(line.code) for line, c in zip(body.forward, comments) if c), default=0)
    width = min(width, 56)
    forward = []
    for line, shape, note in zip(body.forward, comments, notes):
        text = "  ".join(t for t in (shape, note) if t)
        forward.extend(_forward_line(line.code, text, width))
    init = [textwrap.indent(stmt.text(), INDENT * 2) for stmt in body.init]
    args = ", ".join(f"{arg}: torch.Tensor" for arg in body.inputs)
    returns = ", ".join(body.returns)
    result = "torch.Tensor" if len(body.returns) == 1 else \
        "tuple[" + ", ".join("torch.Tensor" for _ in body.returns) + "]"
    return "\n".join([
        f"class {name}(nn.Module):",
        doc,
        "",
        *_wrap_def(f"{INDENT}def __init__({signature}) -> None:"),
        f"{INDENT * 2}super().__init__()",
        *init,
        "",
        *_wrap_def(f"{INDENT}def forward(self, {args}) -> {result}:"),
        *forward,
        f"{INDENT * 2}return {returns}",
    ])


def _forward_line(code: str, comment: str, width: int) -> list[str]:
    indent = INDENT * 2
    if not comment:
        return [f"{indent}{code}"]
    line = f"{indent}{code.ljust(width)}  # {comment}"
    if len(line) <= WIDTH:
        return [line]
    line = f"{indent}{code}  # {comment}"
    if len(line) <= WIDTH:
        return [line]
    return [f"{indent}# {comment}", f"{indent}{code}"]


def _wrap_def(line: str) -> list[str]:
    if len(line) <= WIDTH:
        return [line]
    head, _, rest = line.partition("(")
    params, _, tail = rest.rpartition(")")
    return [f"{head}(", *(f"{INDENT * 2}{p.strip()}," for p in params.split(", ")),
            f"{INDENT}){tail}"]


def _call(target: str, callee: str, args: list[str]) -> str:
    """`target = callee(args)`, wrapped onto several lines when long."""
    line = f"{target} = {callee}({', '.join(args)})"
    if len(INDENT * 2 + line) <= WIDTH:
        return line
    body, row = [], ""
    for arg in args:
        piece = f"{arg}, "
        if row and len(INDENT * 3 + row + piece.rstrip()) > WIDTH:
            body.append(row.rstrip())
            row = ""
        row += piece
    body.append(row.rstrip())
    return "\n".join([f"{target} = {callee}(", *(INDENT + b for b in body), ")"])


def _access(parts: list[str]) -> str:
    """`self.layer1[0].conv1`: a module's access from its dotted name."""
    return "self" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts)


def _place(parts: list[str], callee: str, args: tuple[Arg, ...]) -> _Stmt:
    """The statement that makes the module `parts` names: an attribute, or the
    next module of its `nn.Sequential` (numbered as it runs, so `append` numbers it)."""
    if parts[-1].isdigit():
        return _Stmt(_access(parts[:-1]), callee, args, append=True)
    return _Stmt(_access(parts), callee, args)
