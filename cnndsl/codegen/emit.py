"""The PyTorch emitter: an annotated network -> a readable, self-contained module.

One class per block (per distinct structure), one for the model; submodules
named after their role; a `forward` with one line per layer and the shape it
produces as a comment (symbolic in block classes: `(B, c * 4, H // 2, W // 2)`);
a labelled tensor is a local variable named after its label; merges name their
operands. Deterministic: the same spec gives the same bytes anywhere.

No user text reaches the file except through `_literal` (string literals) or
`_doc`/`_comment` (docstrings and comments, every character a string or a line
could end on escaped); names are identifiers the checker has vetted.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field, replace
from fractions import Fraction

from cnndsl import expr as E
from cnndsl import ir
from cnndsl.codegen import symbolic
from cnndsl.codegen.helpers import HELPERS
from cnndsl.codegen.modules import (
    Arg,
    channel_part,
    channel_sum,
    features,
    module_for,
    out_channels,
    render,
)
from cnndsl.diagnostics import Diagnostic, error
from cnndsl.files import printable
from cnndsl.report import clip, human
from cnndsl.shapes import fmt
from cnndsl.summary import Summary
from cnndsl.version import __version__

HEADER_MARK = "compiled by cnndsl"
INDENT = "    "
WIDTH = 100
#: The most nodes one symbolic value may have in generated code, and the largest
#: file written: past either, `compile` refuses with a located E0417. Trees fold
#: as they are built (`in + in` is `in * 2`), so no real spec comes near.
MAX_EXPR_NODES = 400
MAX_GENERATED = 64 << 20
#: operands of `add` or `mul` summed in one run: more are grouped in parentheses,
#: so a 3,000-operand sum stays a few levels deep for Python's compiler
SUM_RUN = 16


class GeneratedTooLarge(Exception):
    """The generated code would pass a bound; `.diagnostic` says where and why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


# ---- the text of one class ---------------------------------------------------------

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


def _product_channels(chs: list[E.Expr], node: ir.Merge) -> E.Expr:
    """The channels of a `mul`: operands of 1 channel broadcast (`1×H×W` against
    `C×H×W`), so the product has the others' count: the first operand's, unless it is a
    number other than the merge's count here; then the operand written as that count,
    else the first that is not the literal 1."""
    out = node.info.output[0] if node.info.output else None
    if not isinstance(chs[0], E.Const) or chs[0].value == out:
        return chs[0]
    for ch in chs:
        if isinstance(ch, E.Const) and ch.value == out:
            return ch
    return next((ch for ch in chs if ch != E.Const(1)), chs[0])


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


class Emitter:
    """Emits one network; `emit()` returns the module's source text."""

    def __init__(self, network: ir.Network, summary: Summary, source_name: str,
                 spec_text: str) -> None:
        self.network = network
        self.summary = summary
        self.source_name = _basename(source_name)
        self.spec_text = spec_text
        self.blocks: list[_BlockClass] = []
        self.taken = {network.model} | {name for name, _ in network.blocks}
        self.params = dict(network.blocks)
        self.helpers: set[str] = set()

    # -- public
    def emit(self) -> str:
        model = self._model_class()
        parts = [self._header() + "\n\nimport torch\nfrom torch import nn"]
        parts += [HELPERS[name] for name in sorted(self.helpers)]
        parts += [self._block_text(block) for block in self.blocks]
        parts.append(self._model_text(model))
        parts.append(self._spec_constants())
        parts.append(self._main())
        text = "\n\n\n".join(p.rstrip("\n") for p in parts) + "\n"
        if len(text) > MAX_GENERATED:
            raise GeneratedTooLarge(error(
                "E0417", "this network's generated code would be too large",
                self.network.body.span, f"more than {MAX_GENERATED >> 20} MiB of Python",
                help="use blocks for repeated parts: one class serves every use"))
        return text

    # -- walking the network
    def _model_class(self) -> _Class:
        net = self.network
        names = {i.name for i in net.inputs if i.named} | _labels(net.body, *net.outputs)
        cls = _Class(_Locals(names))
        # an unnamed input is the main chain's own variable (`x`, unless a label took it)
        cls.inputs = [i.name if i.named else cls.locals.main for i in net.inputs]
        for net_input, var in zip(net.inputs, cls.inputs):
            cls.labels[net_input.name] = _Flow(var, E.Const(net_input.shape[0]), None)
        end = self._sequence(net.body, cls.labels[net.inputs[0].name], cls, cls.locals.main)
        if not net.outputs:
            cls.returns = [end.var]
        for index, chain in enumerate(net.outputs, start=1):
            target = cls.locals.take(f"out{index}")
            cls.returns.append(self._sequence(chain, end, cls, target).var)
        return cls

    def _sequence(self, seq: ir.Sequence, flow: _Flow, cls: _Class, dst: str) -> _Flow:
        items = seq.items
        for index, node in enumerate(items):
            after = items[index + 1] if index + 1 < len(items) else None
            target = after.label if isinstance(after, ir.Label) else dst
            if isinstance(node, ir.Ref):
                flow = cls.labels[node.label]
            elif isinstance(node, ir.Label):
                if flow.var != node.label:
                    cls.line(f"{node.label} = {flow.var}")
                flow = cls.labels[node.label] = replace(flow, var=node.label)
            elif isinstance(node, ir.BlockCall):
                flow = self._block_call(node, flow, cls, target)
            elif isinstance(node, ir.Merge):
                flow = self._merge(node, flow, cls, target)
            else:
                flow = self._layer(node, flow, cls, target)
        return flow

    def _layer(self, node, flow: _Flow, cls: _Class, target: str) -> _Flow:
        if isinstance(node, ir.Identity):
            return flow   # `identity` needs no module and no line: the tensor itself
        src, ch = flow.var, flow.ch
        if isinstance(node, ir.Linear) and len(node.info.input) > 1:
            ch = _bounded(features(ch, node.info.input), node)
            cls.line(f"{target} = {src}.flatten(1)", _shape((math.prod(node.info.input),)),
                     _symbolic(ch, ()) if flow.dims is not None else None)
            src = target
        callee, args = module_for(node, ch)
        if callee in HELPERS:
            self.helpers.add(callee)
        for _, value in args:
            if not isinstance(value, str):
                _bounded(value, node)
        module = cls.module(node.name, callee, tuple(args))
        out = _bounded(out_channels(node, ch), node)
        dims = symbolic.advance(node, flow.dims)
        call = f"{module}({src})"
        if isinstance(node, ir.Upsample) and node.like is not None:
            like = cls.labels[node.like]
            call = f"{module}({src}, {like.var})"
            dims = like.dims if flow.dims is not None else None
        cls.line(f"{target} = {call}", _shape(node.info.output),
                 _symbolic(out, dims), node.comment)
        return _Flow(target, out, dims)

    def _block_call(self, node: ir.BlockCall, flow: _Flow, cls: _Class,
                    target: str) -> _Flow:
        body = _Class(_Locals(_labels(node.body)))
        main = body.locals.main
        body.inputs = [main]
        rank = len(node.info.input) - 1
        end = self._sequence(node.body, _Flow(main, E.In(), symbolic.start(rank)),
                             body, main)
        body.returns = [end.var]
        name = self._class_for(node, body)
        params = self.params[node.block]
        used = _used_params(params, body)
        defaults = dict(params)
        given = dict(node.sym)
        args: list[Arg] = [(None, flow.ch)]
        passed: dict[str, E.Expr] = {E.IN: flow.ch}
        for key, raw in node.args:
            tree = given.get(key, _number(raw))
            passed[key] = tree
            if key in used and (key in given or raw != defaults.get(key)):
                args.append((key, tree if key in given or not isinstance(raw, float)
                             else repr(raw)))
        module = cls.module(node.name, name, tuple(args))
        out = _bounded(E.substitute(end.ch, passed), node)
        if not E.names(out):
            out = E.Const(node.info.output[0])
        dims = _rebase(end.dims, flow.dims, passed)
        cls.line(f"{target} = {module}({flow.var})", _shape(node.info.output),
                 _symbolic(out, dims), node.comment)
        return _Flow(target, out, dims)

    def _merge(self, node: ir.Merge, flow: _Flow, cls: _Class, target: str) -> _Flow:
        shape = _shape(node.info.output)
        if node.form == "residual":
            skip = flow.var if flow.var != target else cls.locals.take("identity")
            if skip != flow.var:
                cls.line(f"{skip} = {flow.var}")
            out = self._sequence(node.branches[1], flow, cls, target)
            cls.line(f"{target} = {out.var} + {skip}", shape, _symbolic(out.ch, out.dims),
                     node.comment)
            cls.locals.release(skip)
            return replace(out, var=target)
        if node.form == "gate":
            gate = cls.locals.take("gate")
            out = self._sequence(node.branches[1], flow, cls, gate)
            ch = _product_channels([flow.ch, out.ch], node)
            cls.line(f"{target} = {flow.var} * {out.var}", shape,
                     _symbolic(ch, flow.dims), node.comment)
            cls.locals.release(gate)
            return replace(flow, var=target, ch=ch)
        if node.op == "split":
            return self._split(node, flow, cls, target)
        operands, temps = [], []
        for index, branch in enumerate(node.branches, start=1):
            if all(isinstance(n, ir.Identity) for n in branch.items):
                operands.append(flow)   # `identity` needs no module: the input itself
            elif len(branch.items) == 1 and isinstance(branch.items[0], ir.Ref):
                operands.append(cls.labels[branch.items[0].label])
            else:
                temps.append(cls.locals.take(f"branch{index}"))
                operands.append(self._sequence(branch, flow, cls, temps[-1]))
        names = [o.var for o in operands]
        if node.op == "concat":
            code = f"torch.cat([{', '.join(names)}], dim=1)"
            ch = _bounded(channel_sum([o.ch for o in operands]), node)
        else:
            code, ch = _shallow(names, "+" if node.op == "add" else "*"), operands[0].ch
            if node.op == "mul":
                ch = _product_channels([o.ch for o in operands], node)
        dims = _merged_dims(operands)
        cls.line(f"{target} = {code}", shape, _symbolic(ch, dims), node.comment)
        cls.locals.release(*temps)
        return _Flow(target, ch, dims)

    def _split(self, node: ir.Merge, flow: _Flow, cls: _Class, target: str) -> _Flow:
        count = len(node.branches)
        parts = [cls.locals.take(f"branch{i}") for i in range(1, count + 1)]
        part_ch = _bounded(channel_part(flow.ch, count), node)
        cls.line(f"{', '.join(parts)} = torch.chunk({flow.var}, {count}, dim=1)")
        outs = [self._sequence(branch, _Flow(part, part_ch, flow.dims), cls, part)
                if not all(isinstance(n, ir.Identity) for n in branch.items)
                else _Flow(part, part_ch, flow.dims)
                for part, branch in zip(parts, node.branches)]
        if all(o.ch == part_ch for o in outs):
            ch = flow.ch   # the parts put back together (the checker saw them divide evenly)
        else:
            ch = _bounded(channel_sum([o.ch for o in outs]), node)
        dims = _merged_dims(outs)
        cls.line(f"{target} = torch.cat([{', '.join(o.var for o in outs)}], dim=1)",
                 _shape(node.info.output), _symbolic(ch, dims), node.comment)
        cls.locals.release(*parts)
        return _Flow(target, ch, dims)

    def _class_for(self, node: ir.BlockCall, body: _Class) -> str:
        for existing in self.blocks:
            if existing.call.block == node.block and \
                    existing.body.structure() == body.structure():
                existing.note(node)
                return existing.name
        name, n = node.block, 2
        while any(b.name == name for b in self.blocks) or \
                (name != node.block and name in self.taken):
            name = f"{node.block}{n}"
            n += 1
        self.taken.add(name)
        self.blocks.append(_BlockClass(name, node, self.params[node.block], body))
        self.blocks[-1].note(node)
        return name

    # -- text
    def _header(self) -> str:
        s = self.summary
        source = _doc(self.source_name)
        ins = ", ".join(fmt(shape) for _, shape in s.inputs)
        outs = ", ".join(fmt(shape) for shape in s.outputs)
        rule = f"    {'-' * 24} {'-' * 28} {'-' * 16} {'-' * 12}"
        lines = [f'"""{self.network.model}: {HEADER_MARK} {__version__} from {source}.', "",
                 f"Edit the spec, not this file: `cnndsl compile {source}` writes it again.", "",
                 f"Input {ins} -> output {outs}; {s.params:,} parameters; "
                 f"{human(s.macs)} multiply-adds.", "",
                 f"    {'Module':<24} {'Layer':<28} {'Output':<16} {'Params':>12}", rule]
        for row in s.top:
            layer = _doc(clip(row.text if row.kind != "merge" else row.op, 28))
            lines.append(f"    {clip(row.name, 24):<24} {layer:<28} "
                         f"{clip(fmt(row.output), 16):<16} {row.params:>12,}")
        lines += [rule, f"    {'Total':<24} {'':<28} {'':<16} {s.params:>12,}"]
        return "\n".join(lines) + '\n"""'

    def _block_text(self, block: _BlockClass) -> str:
        used = _used_params(block.params, block.body)
        params = []
        for name, default in block.params:
            if name not in used:
                continue
            kind = "float" if isinstance(default, float) or name in block.floats else "int"
            params.append(f"{name}: {kind}" + (f" = {default!r}" if default is not None else ""))
        signature = ", ".join(["self", "in_channels: int"] + params)
        call = block.call
        baked = ", ".join(f"{k}={v!r}" for k, v in call.args if k not in used)
        built = f" Built for {baked} (another value gets another class)." if baked else ""
        rank = len(call.info.input) - 1
        if block.body.symbolic:
            where = ("Shapes in comments are for an input of (B, " +
                     ", ".join(("in_channels",) + symbolic.NAMES.get(rank, ())) + ").")
        else:
            where = (f"Shapes in comments are for `{call.text}` on {fmt(call.info.input)} "
                     "input.")
        doc = _docstring([f"The `{call.block}` block of the spec; its first use, `{call.text}` "
                          f"on {fmt(call.info.input)} input, has {call.info.params:,} "
                          "parameters.", built.strip(), where], INDENT)
        return _class_text(block.name, doc, signature, block.body, symbolic=True)

    def _model_text(self, model: _Class) -> str:
        s = self.summary
        ins = ", ".join(fmt(shape) for _, shape in s.inputs)
        outs = ", ".join(fmt(shape) for shape in s.outputs)
        doc = _docstring([f"{self.network.model}: {ins} -> {outs}, {s.params:,} parameters."],
                         INDENT)
        return _class_text(self.network.model, doc, "self", model, symbolic=False)

    def _spec_constants(self) -> str:
        return ("#: The spec this file was compiled from (`cnndsl train` checks it again).\n"
                f"SPEC_PATH = {_literal(self.source_name)}\n"
                f"SPEC = (\n{_string_lines(self.spec_text, INDENT)}\n)")

    def _main(self) -> str:
        return "\n".join([
            'if __name__ == "__main__":',
            f"{INDENT}# Running this file trains the model with cnndsl's harness, exactly as",
            f"{INDENT}# `cnndsl train SPEC_PATH` does, with the same flags.",
            f"{INDENT}try:",
            f"{INDENT * 2}from cnndsl.train.entry import main",
            f"{INDENT}except ImportError:",
            f'{INDENT * 2}message = "training needs cnndsl: pip install cnndsl (the model '
            'needs only torch)"',
            f"{INDENT * 2}raise SystemExit(message) from None",
            f"{INDENT}raise SystemExit(main({self.network.model}, SPEC_PATH, SPEC))",
        ])


# ---- class text ------------------------------------------------------------------------

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


# ---- symbols and shapes ------------------------------------------------------------

def _used_params(params, body: _Class) -> set[str]:
    """The block parameters the class's code refers to. The others only shaped
    its structure (a repetition count): the class is built for their values and
    does not take them, so no caller can pass another value and be ignored."""
    used = set().union(*(stmt.names() for stmt in body.init))
    return {name for name, _ in params if name in used}


def _number(raw) -> E.Expr:
    """A block argument's value as a tree (a float read back as the decimal it prints as)."""
    if isinstance(raw, float):
        return E.const(Fraction(repr(raw)))
    return E.Const(raw)


def _bounded(tree: E.Expr, node: ir.Element) -> E.Expr:
    """`tree`, if it is small enough to write; else a located refusal."""
    if E.size(tree, MAX_EXPR_NODES + 1) > MAX_EXPR_NODES:
        raise GeneratedTooLarge(error(
            "E0417", "this network's generated code would be too large", node.span,
            f"a value here takes more than {MAX_EXPR_NODES} terms to write",
            notes=["the generated class writes channel counts as formulas of its "
                   "block's parameters"],
            help="split the block into smaller blocks"))
    return tree


def _symbolic(channels: E.Expr, dims: symbolic.Dims | None) -> str | None:
    return symbolic.render(E.python(channels), dims)


def _shallow(names: list[str], op: str) -> str:
    """`a + b + c`; past `SUM_RUN` operands, runs of them in parentheses, so the
    expression is a few levels deep however many operands it has."""
    while len(names) > SUM_RUN:
        names = [f"({f' {op} '.join(names[i:i + SUM_RUN])})"
                 for i in range(0, len(names), SUM_RUN)]
    return f" {op} ".join(names)


def _rebase(inner: symbolic.Dims | None, outer: symbolic.Dims | None,
            passed: dict[str, E.Expr]) -> symbolic.Dims | None:
    """A block's output sizes (in terms of its input and parameters) in the
    caller's terms: exact when the block keeps them, or the caller's are
    undivided; as trees where either side is one."""
    if inner is None or inner == ():
        return inner
    if outer is None or len(inner) != len(outer):
        return None
    if any(d.tree is not None for d in (*inner, *outer)):
        names = {**passed, **{i.var: o.as_tree() for i, o in zip(inner, outer)}}
        return tuple(symbolic.tree_dim(o.var, E.substitute(i.as_tree(), names))
                     for i, o in zip(inner, outer))
    out = []
    for i, o in zip(inner, outer):
        if i.const is not None:
            out.append(i)
        elif (i.f, i.a, i.m) == (1, 0, 1):
            out.append(o)
        elif o.const is not None:
            out.append(symbolic.Dim(o.var, const=(i.f * o.const + i.a) // i.m))
        elif o.m == 1:
            out.append(symbolic.Dim(o.var, i.f * o.f, i.f * o.a + i.a, i.m))
        else:
            return None
    return tuple(out)


def _merged_dims(flows: list[_Flow]) -> symbolic.Dims | None:
    dims = [f.dims for f in flows]
    if any(d is None for d in dims):
        return None
    full = [d for d in dims if not all(x.const == 1 for x in d)]
    return (full or dims)[0]


def _labels(*seqs: ir.Sequence) -> set[str]:
    """Every label defined in these sequences (not inside block calls)."""
    found: set[str] = set()
    stack = list(seqs)
    while stack:
        seq = stack.pop()
        for node in seq.items:
            if isinstance(node, ir.Label):
                found.add(node.label)
            elif isinstance(node, ir.Merge):
                stack.extend(node.branches)
    return found


def _shape(shape: tuple[int, ...]) -> str:
    return "(B, " + ", ".join(str(n) for n in shape) + ")"


# ---- user text, made safe ------------------------------------------------------------

def _basename(name: str) -> str:
    return re.split(r"[\\/]", name)[-1] or name


def _doc(text: str) -> str:
    """User text made safe inside a docstring: control and invisible characters
    escaped (`printable`), then every backslash and quote escaped, so nothing
    can end the string or the line."""
    return printable(text).replace("\\", "\\\\").replace('"', '\\"')


def _comment(text: str) -> str:
    """User text made safe in a `#` comment: one line, nothing invisible."""
    return printable(text)


def _docstring(paragraphs: list[str], indent: str) -> str:
    """A docstring of user-derived text: the first paragraph, then the others
    one per line, each wrapped to the page and made safe with `_doc`."""
    width = WIDTH - len(indent)
    lines = []
    for index, text in enumerate(p for p in paragraphs if p):
        wrapped = textwrap.wrap(_doc(text), width - (6 if index == 0 else 0),
                                break_long_words=False, break_on_hyphens=False)
        lines += wrapped + ([""] if index == 0 else [])
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) == 1 and len(indent) + len(lines[0]) + 6 <= WIDTH:
        return f'{indent}"""{lines[0]}"""'
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines)
    return f'{indent}"""{body.lstrip()}\n{indent}"""'


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    return _ESCAPES.get(char) or printable(char)


def _literal(text: str) -> str:
    """A double-quoted Python string literal of `text`, every special character escaped."""
    return '"' + "".join(_escape(c) for c in text) + '"'


def _string_lines(text: str, indent: str) -> str:
    """`text` as adjacent string literals of at most ~80 characters each, one per
    line, that concatenate to exactly `text` (line ends included)."""
    out = []
    for line in text.splitlines(keepends=True):
        chunk, size = [], 0
        for char in line:
            piece = _escape(char)
            if chunk and size + len(piece) > 78:
                out.append('"' + "".join(chunk) + '"')
                chunk, size = [], 0
            chunk.append(piece)
            size += len(piece)
        if chunk:
            out.append('"' + "".join(chunk) + '"')
    return "\n".join(indent + piece for piece in out) if out else f'{indent}""'


def emit(network: ir.Network, summary: Summary, source_name: str, spec_text: str) -> str:
    """The generated module for a checked network."""
    return Emitter(network, summary, source_name, spec_text).emit()
