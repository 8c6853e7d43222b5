"""The PyTorch emitter: a resolved network -> a readable, self-contained module.

One class per block (per distinct structure), one for the model; submodules
named after their role; a `forward` with one line per layer and the shape it
produces as a comment. Deterministic: the same spec gives the same bytes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from cnndsl import __version__, ir
from cnndsl.codegen.modules import module_for, out_channels
from cnndsl.passes.infer import LayerInfo, Summary, fmt
from cnndsl.report import human

HEADER_MARK = "compiled by cnndsl"
INDENT = "    "


@dataclass
class _Class:
    """The text of one generated class, built line by line."""

    init: list[str] = field(default_factory=list)
    forward: list[tuple[str, str]] = field(default_factory=list)  # (code, shape comment)

    def structure(self) -> str:
        """The code without comments: two uses of a block share a class exactly
        when their structures agree."""
        return "\n".join(self.init + [code for code, _ in self.forward])


@dataclass
class _BlockClass:
    name: str
    block: str
    params: tuple[tuple[str, int | float | None], ...]
    body: _Class
    example: str   # the use whose shapes the comments show
    input: tuple[int, ...]
    args: tuple[tuple[str, int | float], ...]   # that use's arguments


class Emitter:
    """Emits one network; `emit()` returns the module's source text."""

    def __init__(self, network: ir.Network, summary: Summary, source_name: str,
                 spec_text: str) -> None:
        self.network = network
        self.summary = summary
        self.source_name = source_name
        self.spec_text = spec_text
        self.rows: dict[str, LayerInfo] = {r.name: r for r in summary.rows}
        self.blocks: list[_BlockClass] = []
        self.taken = {network.model} | {name for name, _ in network.blocks}
        self.params = dict(network.blocks)

    # -- public
    def emit(self) -> str:
        model = _Class()
        self._sequence(self.network.body, "x", "x", str(self.network.input[0]), "", model)
        parts = [self._header() + "\n\nimport torch\nfrom torch import nn"]
        for block in self.blocks:
            parts.append(self._block_text(block))
        parts.append(self._model_text(model))
        parts.append(self._main())
        return "\n\n\n".join(p.rstrip("\n") for p in parts) + "\n"

    # -- walking the network
    def _sequence(self, seq: ir.Sequence, src: str, dst: str, ch: str, path: str,
                  cls: _Class) -> str:
        if not seq.items and src != dst:
            cls.forward.append((f"{dst} = {src}", ""))
        for item in seq.items:
            ch = self._element(item, src, dst, ch, path, cls)
            src = dst
        return ch

    def _element(self, node, src: str, dst: str, ch: str, path: str, cls: _Class) -> str:
        if isinstance(node, ir.BlockCall):
            return self._block_call(node, src, dst, ch, path, cls)
        if isinstance(node, ir.Branches):
            return self._branches(node, src, dst, ch, path, cls)
        return self._layer(node, src, dst, ch, path, cls)

    def _layer(self, node, src: str, dst: str, ch: str, path: str, cls: _Class) -> str:
        row = self.rows[path + node.name]
        shape = row.input
        if isinstance(node, ir.Linear) and len(shape) > 1:
            features = _features(ch, shape)
            cls.forward.append((f"{dst} = {src}.flatten(1)", _shape((math.prod(shape),))))
            src = dst
            ch = features
        elif isinstance(node, ir.Linear):
            features = ch
        in_shape = (shape[0],) if isinstance(node, ir.Linear) else shape
        cls.init.append(f"self.{node.name} = {module_for(node, ch, in_shape)}")
        cls.forward.append((f"{dst} = self.{node.name}({src})", _shape(row.output)))
        if isinstance(node, ir.Flatten):
            return _features(ch, shape)
        return out_channels(node, ch)

    def _branches(self, node: ir.Branches, src: str, dst: str, ch: str, path: str,
                  cls: _Class) -> str:
        row = self.rows[path + node.name]
        if node.residual:
            skip = node.name.replace("residual", "identity")
            skip = skip[:-1] if skip.endswith("identity1") else skip
            cls.forward.append((f"{skip} = {src}", ""))
            self._sequence(node.branches[1], src, dst, ch, path, cls)
            cls.forward.append((f"{dst} = {dst} + {skip}", _shape(row.output)))
            return ch
        names, channels = [], []
        for branch in node.branches:
            names.append(branch.name)
            channels.append(self._sequence(branch, src, branch.name, ch, path, cls))
        if node.op == "concat":
            merged = f"torch.cat([{', '.join(names)}], dim=1)"
            cls.forward.append((f"{dst} = {merged}", _shape(row.output)))
            return _sum(channels)
        cls.forward.append((f"{dst} = {' + '.join(names)}", _shape(row.output)))
        return channels[0]

    def _block_call(self, node: ir.BlockCall, src: str, dst: str, ch: str, path: str,
                    cls: _Class) -> str:
        row = self.rows[path + node.name]
        body = _Class()
        inner = f"{path}{node.name}."
        self._sequence(node.body, "x", "x", "in_channels", inner, body)
        name = self._class_for(node, body, row.input)
        sym = dict(node.sym)
        used = _used_params(self.params[node.block], body)
        args = [ch] + [f"{k}={sym.get(k, _literal(v))}" for k, v in node.args if k in used]
        cls.init.append(f"self.{node.name} = {name}({', '.join(args)})")
        cls.forward.append((f"{dst} = self.{node.name}({src})", _shape(row.output)))
        return str(row.output[0])

    def _class_for(self, node: ir.BlockCall, body: _Class, shape) -> str:
        for existing in self.blocks:
            if existing.block == node.block and existing.body.structure() == body.structure():
                return existing.name
        name = node.block
        n = 2
        while name in self.taken and any(b.name == name for b in self.blocks) or \
                (name != node.block and name in self.taken):
            name = f"{node.block}{n}"
            n += 1
        self.taken.add(name)
        self.blocks.append(_BlockClass(name, node.block, self.params[node.block], body,
                                       node.text, shape, node.args))
        return name

    # -- text
    def _header(self) -> str:
        s = self.summary
        lines = [f'"""{self.network.model}: {HEADER_MARK} {__version__} from '
                 f"{self.source_name}.", "",
                 f"Edit the spec, not this file: `cnndsl compile {self.source_name}` "
                 "writes it again.", "",
                 f"Input {fmt(s.input)} -> output {fmt(s.output)}; {s.params:,} parameters; "
                 f"{human(s.macs)} multiply-adds.", "",
                 f"    {'Layer':<40} {'Output':<16} {'Params':>12}",
                 f"    {'-' * 40} {'-' * 16} {'-' * 12}"]
        for row in s.rows:
            name = "  " * row.depth + (row.name.rsplit(".", 1)[-1])
            label = f"{name} ({row.text})" if row.kind == "block" else name
            if len(label) > 40:
                label = label[:39] + "…"
            lines.append(f"    {label:<40} {fmt(row.output):<16} {row.params:>12,}")
        lines.append(f"    {'-' * 40} {'-' * 16} {'-' * 12}")
        lines.append(f"    {'Total':<40} {'':<16} {s.params:>12,}")
        return "\n".join(lines) + '\n"""'

    def _block_text(self, block: _BlockClass) -> str:
        used = _used_params(block.params, block.body)
        params = []
        for name, default in block.params:
            if name not in used:
                continue
            kind = "float" if isinstance(default, float) else "int"
            params.append(f"{name}: {kind}" + (f" = {_literal(default)}"
                                                if default is not None else ""))
        signature = ", ".join(["self", "in_channels: int"] + params)
        baked = ", ".join(f"{k}={_literal(v)}" for k, v in block.args if k not in used)
        built = f", built for {baked} (another value gets another class)" if baked else ""
        doc = (f'"""The `{block.block}` block of the spec{built}; shapes in comments are '
               f"for `{block.example}` on {fmt(block.input)} input.\"\"\"")
        return _class_text(block.name, doc, signature, block.body)

    def _model_text(self, model: _Class) -> str:
        s = self.summary
        doc = (f'"""{self.network.model}: {fmt(s.input)} -> {fmt(s.output)}, '
               f'{s.params:,} parameters."""')
        return _class_text(self.network.model, doc, "self", model)

    def _main(self) -> str:
        spec = "\n".join(f"{INDENT * 4}{line!r}" for line in
                         (line + "\n" for line in self.spec_text.splitlines()))
        return (f'if __name__ == "__main__":\n'
                f"{INDENT}# Running this file trains the model with cnndsl's harness, "
                f"exactly as\n{INDENT}# `cnndsl train {self.source_name}` does, with the "
                "same flags.\n"
                f"{INDENT}try:\n"
                f"{INDENT * 2}from cnndsl.train.entry import main\n"
                f"{INDENT}except ImportError:\n"
                f"{INDENT * 2}raise SystemExit(\"training needs cnndsl: pip install cnndsl \"\n"
                f"{INDENT * 2}                 \"(the model itself needs only torch)\") "
                f"from None\n"
                f"{INDENT}raise SystemExit(\n"
                f"{INDENT * 2}main(\n"
                f"{INDENT * 3}{self.network.model},\n"
                f"{INDENT * 3}{self.source_name!r},\n"
                f"{INDENT * 3}(\n{spec}\n{INDENT * 3}),\n"
                f"{INDENT * 2})\n"
                f"{INDENT})")


def _class_text(name: str, doc: str, signature: str, body: _Class) -> str:
    width = max((len(code) for code, comment in body.forward if comment), default=0)
    width = min(width, 60)
    forward = []
    for code, comment in body.forward:
        forward.append(f"{INDENT * 2}{code.ljust(width)}  # {comment}" if comment
                       else f"{INDENT * 2}{code}")
    init = [f"{INDENT * 2}{line}" for line in body.init]
    return "\n".join([
        f"class {name}(nn.Module):",
        f"{INDENT}{doc}",
        "",
        f"{INDENT}def __init__({signature}) -> None:",
        f"{INDENT * 2}super().__init__()",
        *init,
        "",
        f"{INDENT}def forward(self, x: torch.Tensor) -> torch.Tensor:",
        *forward,
        f"{INDENT * 2}return x",
    ])


def _used_params(params, body: _Class) -> set[str]:
    """The block parameters the class's code refers to. The others only shaped
    its structure (a repetition count): the class is built for their values and
    does not take them, so no caller can pass another value and be ignored."""
    code = body.structure()
    # a value, not an attribute (`.c`) nor a keyword (`stride=`)
    return {name for name, _ in params
            if re.search(rf"(?<![\w.]){re.escape(name)}\b(?!=)", code)}


def _shape(shape: tuple[int, ...]) -> str:
    return "(B, " + ", ".join(str(n) for n in shape) + ")"


def _literal(value) -> str:
    return repr(value)


def _features(ch: str, shape) -> str:
    """`C*H*W` as Python text, with C possibly an expression."""
    spatial = math.prod(shape[1:])
    if ch.isdigit():
        return str(int(ch) * spatial)
    return ch if spatial == 1 else f"({ch}) * {spatial}" if " " in ch else f"{ch} * {spatial}"


def _sum(channels: list[str]) -> str:
    total = sum(int(c) for c in channels if c.isdigit())
    terms = [c for c in channels if not c.isdigit()]
    if total or not terms:
        terms.append(str(total))
    return " + ".join(terms)


def emit(network: ir.Network, summary: Summary, source_name: str, spec_text: str) -> str:
    """The generated module for a checked network."""
    return Emitter(network, summary, source_name, spec_text).emit()
