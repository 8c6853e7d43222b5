"""The fallback where `torch.fx` cannot trace a forward (Python branches on sizes,
`len(x)`): `torch.export` runs it, and its graph of ATen calls is rewritten as the
graph the fx tracer would have given. Calls are grouped by the submodule they ran
in (`nn_module_stack`): each built-in or user-defined submodule becomes one
`call_module`, the rest become the torch functions `trace` already reads."""

from __future__ import annotations

import operator

import torch
from torch import fx, nn
from torch.nn import functional as F

from cnndsl.importer.unsupported import Unsupported

_aten = torch.ops.aten

#: ATen overloads -> (fx op, target) as the fx tracer records the torch-level call.
_FUNCTIONS = {
    _aten.relu.default: torch.relu, _aten.relu_.default: torch.relu,
    _aten.sigmoid.default: torch.sigmoid, _aten.tanh.default: torch.tanh,
    _aten.silu.default: F.silu, _aten.silu_.default: F.silu,
    _aten.hardswish.default: F.hardswish, _aten.hardsigmoid.default: F.hardsigmoid,
    _aten.hardtanh.default: F.hardtanh, _aten.hardtanh_.default: F.hardtanh,
    _aten.gelu.default: F.gelu, _aten.add.Tensor: operator.add, _aten.add_.Tensor: operator.add,
    _aten.mul.Tensor: operator.mul, _aten.mul_.Tensor: operator.mul, _aten.cat.default: torch.cat,
    _aten.flatten.using_ints: torch.flatten, _aten.adaptive_avg_pool2d.default:
    F.adaptive_avg_pool2d, _aten.max_pool2d.default: F.max_pool2d,
    _aten.avg_pool2d.default: F.avg_pool2d, _aten.softmax.int: F.softmax,
    _aten.log_softmax.int: F.log_softmax, _aten.constant_pad_nd.default: F.pad,
}
_METHODS = {_aten.view.default: "view", _aten.reshape.default: "reshape",
            _aten.mean.dim: "mean", _aten.transpose.int: "transpose",
            _aten.chunk.default: "chunk", _aten.split.Tensor: "split",
            _aten.contiguous.default: "contiguous", _aten.clone.default: "clone"}
_DROPPED = {_aten.dropout.default, _aten.alias.default, _aten.detach.default}


def exported_graph(module: nn.Module, shapes: list[tuple[int, ...]], is_leaf) -> fx.Graph:
    """`module`'s forward as an fx graph of leaf `call_module`s and torch functions."""
    args = tuple(torch.randn(s) for s in shapes)
    program = torch.export.export(module, args, strict=False)
    user_inputs = set(program.graph_signature.user_inputs)
    graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    units: dict[fx.Node, str] = {}
    nodes = list(program.graph.nodes)
    for node in nodes:
        units[node] = _unit(module, node, is_leaf)
    for i, node in enumerate(nodes):
        if node.op == "placeholder":
            if node.name in user_inputs:
                env[node] = _shaped(graph.placeholder(node.name), node)
            continue
        if node.op == "output":
            graph.output(fx.node.map_arg(node.args[0], lambda n: env[n]))
            continue
        unit = units[node]
        if unit:
            if i + 1 < len(nodes) and units[nodes[i + 1]] == unit and \
                    all(u in _run(nodes, i, unit, units) for u in node.users):
                continue   # inside the unit's run: its last node stands for it
            start = _first(nodes, i, unit, units)
            source = next(a for a in start.args if isinstance(a, fx.Node) and a in env)
            env[node] = _shaped(graph.call_module(unit, (env[source],)), node)
            continue
        env[node] = _shaped(_function(graph, node, env), node)
    return graph


def _run(nodes, i, unit, units) -> set:
    j = i
    while j + 1 < len(nodes) and units[nodes[j + 1]] == unit:
        j += 1
    k = i
    while k > 0 and units[nodes[k - 1]] == unit:
        k -= 1
    return set(nodes[k:j + 1])


def _first(nodes, i, unit, units):
    k = i
    while k > 0 and units[nodes[k - 1]] == unit:
        k -= 1
    return nodes[k]


def _unit(module: nn.Module, node: fx.Node, is_leaf) -> str:
    """The outermost leaf submodule a call ran in ('' for the module's own code)."""
    stack = node.meta.get("nn_module_stack") or {}
    for path, _cls in stack.values():
        if not path:
            continue
        try:
            sub = module.get_submodule(path)
        except AttributeError:
            continue
        if is_leaf(sub):
            return path
    return ""


def _function(graph: fx.Graph, node: fx.Node, env) -> fx.Node:
    args = fx.node.map_arg(node.args, lambda n: env[n])
    kwargs = fx.node.map_arg(node.kwargs, lambda n: env[n])
    target = node.target
    if target is operator.getitem or target in _DROPPED:
        if target in _DROPPED:
            return args[0]
        return graph.call_function(operator.getitem, args)
    if target in _FUNCTIONS:
        if target in (_aten.softmax.int, _aten.log_softmax.int):
            args = args[:2]
        return graph.call_function(_FUNCTIONS[target], tuple(args), dict(kwargs))
    if target in _METHODS:
        return graph.call_method(_METHODS[target], tuple(args), dict(kwargs))
    if target is _aten.sym_size.int:
        return graph.call_method("size", tuple(args))
    raise Unsupported(f"`{getattr(target, '__name__', target)}` has no layer word",
                      hint="use a layer the language has (see `cnndsl schema`)")


def _shaped(new, node: fx.Node):
    value = node.meta.get("val")
    if isinstance(new, fx.Node) and isinstance(value, torch.Tensor):
        new.meta["shape"] = tuple(int(v) for v in value.shape)
    return new
