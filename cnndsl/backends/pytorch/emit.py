"""The PyTorch emitter: an annotated network -> a readable, self-contained module.

One class per block (per distinct structure), one for the model; submodules
named after their role; a `forward` with one line per layer and the shape it
produces as a comment (symbolic in block classes: `(B, c * 4, H // 2, W // 2)`);
a labelled tensor is a local variable named after its label; merges name their
operands. Deterministic: the same spec gives the same bytes anywhere.

No user text reaches the file except through `_literal` (string literals) or
`_doc`/`_comment` (docstrings and comments, every character a string or a line
could end on escaped); names are identifiers the checker has vetted.

One module per part: `emit` walks the network; `classes` holds the text of one
class; `shapes` its symbols and shapes; `header` the file around the classes
(header, parameter table, the spec, `__main__`); `text` makes user text safe.
"""

from __future__ import annotations

import math
from dataclasses import replace

from cnndsl.backends.pytorch import symbolic
from cnndsl.backends.pytorch.annotate import (
    GeneratedTooLarge,
    _bounded,
    _labels,
    _merged_dims,
    _number,
    _product_channels,
    _rebase,
    _shallow,
    _shape,
    _symbolic,
    _used_params,
)
from cnndsl.backends.pytorch.classes import _BlockClass, _Class, _Flow, _Locals
from cnndsl.backends.pytorch.header import FileText
from cnndsl.backends.pytorch.helpers import HELPERS
from cnndsl.backends.pytorch.modules import (
    Arg,
    channel_part,
    channel_sum,
    features,
    module_for,
    out_channels,
)
from cnndsl.backends.pytorch.text import _basename
from cnndsl.diagnostics.diagnostic import error
from cnndsl.ir import expr as E
from cnndsl.ir import nodes as ir
from cnndsl.passes.summary import Summary

__all__ = ["MAX_GENERATED", "Emitter", "GeneratedTooLarge", "emit"]

#: the largest file written: past it, `compile` refuses with a located E0417
MAX_GENERATED = 64 << 20


class Emitter(FileText):
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


def emit(network: ir.Network, summary: Summary, source_name: str, spec_text: str) -> str:
    """The generated module for a checked network."""
    return Emitter(network, summary, source_name, spec_text).emit()
