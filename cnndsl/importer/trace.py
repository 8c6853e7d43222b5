"""One module level -> a graph of layer nodes.

Each module instance is traced on its own with `torch.fx`: built-in modules
and user-defined submodules are leaves (a user-defined submodule becomes a
`use` node, traced in its turn), `nn.Sequential`/`nn.ModuleList` are looked
through so their members appear by dotted path (`layer1.0`). Every fx node is
mapped to a layer word, a merge, or a value that only feeds sizes (`x.shape`).
"""

from __future__ import annotations

import inspect

import torch
from torch import fx, nn
from torch.nn import functional as F

from cnndsl.importer import mapping
from cnndsl.importer.autograd import CustomFunction, custom_functions_refused, refused
from cnndsl.importer.functions import Functions
from cnndsl.importer.layout import ChannelsLast, Last, on_last_dimension, permutes_only
from cnndsl.importer.leaves import Inline, _helper, _Tracer, holds_state, is_builtin
from cnndsl.importer.lists import concatenates_first
from cnndsl.importer.mapping import Layer
from cnndsl.importer.sizes import _Failed, _Shapes, fake_mode
from cnndsl.importer.steps import (
    Level,
    Node,
    _describe,
    _first_line,
    _Meta,
    _shape,
    _submodule,
)
from cnndsl.importer.unsupported import Unsupported, user_frame

BATCH = 2   # traced with two samples, so the batch dimension never looks like a size of 1


def source_of(module: nn.Module) -> tuple[str | None, int | None]:
    """The file and line of a module's forward, when Python knows them."""
    try:
        forward = type(module).forward
        return inspect.getsourcefile(forward), inspect.getsourcelines(forward)[1]
    except (OSError, TypeError):
        return None, None


def trace(module: nn.Module, shapes: list[tuple[int, ...]], names: tuple[str, ...],
          path: str, inline: frozenset[str] = frozenset()) -> Level:
    """Trace one level of `module`, on inputs of these shapes (batch included)."""
    filename, line = source_of(module)
    try:
        graph = _Tracer(module, inline).trace(module)
        with fake_mode():
            _Shapes(module, graph).run(*[torch.empty(s) for s in shapes])
    except (Unsupported, Inline):
        raise
    except CustomFunction as exc:
        raise refused(exc, path, filename, line) from None
    except _Failed as failed:
        inner = failed.exc
        where = user_frame(inner.__traceback__)
        raise Unsupported(f"the forward cannot be traced ({type(inner).__name__}: "
                          f"{_first_line(inner)})",
                          module_path=f"{path}.{failed.target}" if path else failed.target,
                          filename=where[0], line=where[1], hint=_trace_hint(inner)) from None
    except Exception as exc:   # fx's TraceError, a failing forward: the user's code
        where = user_frame(exc.__traceback__)
        problem = Unsupported(f"the forward cannot be traced ({type(exc).__name__}: "
                              f"{_first_line(exc)})", module_path=path,
                              filename=where[0] or filename, line=where[1] or line,
                              hint=_trace_hint(exc))
        try:
            graph = _exported(module, shapes, inline)
        except CustomFunction as custom:
            raise refused(custom, path, filename, line) from None
        if graph is None:
            raise problem from None
    try:
        return _Reader(module, graph, names, filename, line).read()
    except Unsupported as exc:
        raise exc.at(path, filename, line) from None
    except Inline as inner:
        inner.owner = module
        raise


def _exported(module: nn.Module, shapes, inline) -> fx.Graph | None:
    """The `torch.export` fallback's graph, or None where export fails too."""
    from cnndsl.importer.exported import exported_graph

    tracer = _Tracer(module, inline)
    try:
        with torch.no_grad(), custom_functions_refused():
            return exported_graph(module, shapes, lambda m: tracer.is_leaf_module(m, ""))
    except CustomFunction:
        raise
    except Unsupported:
        return None
    except Exception:   # export cannot run it either: fx's message is the one to show
        return None



def _trace_hint(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, RuntimeError) and ("must have" in text or "size" in text
                                          or "shape" in text):
        return "check the input size given with `--input`: the module fails on it"
    if "control flow" in text or "iterate" in text:
        return ("a branch on a tensor's values cannot be a spec; choose the branch when "
                "the module is built, or write it as an `if` on block parameters")
    return "write the forward with torch operations the language has words for"


class _Reader(Functions, ChannelsLast):
    """Walks one traced graph, mapping each fx node to a `Node` or a size value."""

    def __init__(self, module: nn.Module, graph: fx.Graph, names: tuple[str, ...],
                 filename: str | None, line: int | None) -> None:
        self.module, self.graph, self.names = module, graph, names
        self.filename, self.line = filename, line
        self.nodes: list[Node] = []
        self.env: dict[fx.Node, object] = {}
        self.cats: dict[tuple[int, ...], int] = {}
        self.params: dict[fx.Node, str] = {}    # get_attr nodes reading a parameter
        self.used: set[str] = set()              # ... read as a layer's weights
        self.param_layers = 0                    # layers made of them

    def read(self) -> Level:
        outputs: tuple[int, ...] = ()
        placeholders = 0
        for fx_node in self.graph.nodes:
            if fx_node.op == "placeholder":
                name = self.names[placeholders] if placeholders < len(self.names) else ""
                placeholders += 1
                self.env[fx_node] = self._add(Node(0, "input", name=name), fx_node)
            elif fx_node.op == "output":
                outputs = self._outputs(fx_node.args[0])
            elif fx_node.op == "get_attr":
                self._attribute(fx_node)
            else:
                self.env[fx_node] = self._step(fx_node)
        users: dict[int, list[int]] = {n.id: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs + ((n.like,) if n.like is not None else ()):
                users[i].append(n.id)
        return Level(self.module, self.nodes, outputs, self.names, self.filename, self.line, users,
                     frozenset(self.used), self.param_layers)

    def _attribute(self, fx_node: fx.Node) -> None:
        self.env[fx_node] = _Meta(-1, "attribute")
        target = str(fx_node.target)
        try:
            self.module.get_parameter(target)
        except AttributeError:
            return
        self.params[fx_node] = target

    def _outputs(self, value) -> tuple[int, ...]:
        values = value if isinstance(value, (tuple, list)) else (value,)
        got = tuple(self.env.get(v) if isinstance(v, fx.Node) else None for v in values)
        if any(isinstance(v, Last) for v in got):
            raise Unsupported("the forward returns a channels-last tensor",
                              hint="permute it back to channels-first, (0, 3, 1, 2)")
        if not got or not all(isinstance(v, int) for v in got):
            raise Unsupported("the forward returns something other than tensors (a dict, "
                              "a number)", hint="return a tensor or a tuple of tensors")
        return got  # type: ignore[return-value]

    def _add(self, node: Node, fx_node: fx.Node) -> int:
        node.id = len(self.nodes)
        node.shape = _shape(fx_node)
        if node.inputs:
            node.in_shape = self.nodes[node.inputs[0]].shape
        self.nodes.append(node)
        return node.id

    def _tensor(self, value, what: str = "this operation") -> int:
        if isinstance(value, fx.Node):
            value = self.env.get(value)
        if isinstance(value, Last):
            raise Unsupported(f"{what} is applied to a channels-last tensor",
                              hint="permute back to channels-first, (0, 3, 1, 2), before it")
        if not isinstance(value, int):
            raise Unsupported(f"{what} is applied to something that is not a tensor of the "
                              "network (a parameter, a constant or a size)",
                              hint="compute it with a layer module")
        return value

    def _step(self, fx_node: fx.Node):
        try:
            first = self.env.get(fx_node.args[0]) if fx_node.args and \
                isinstance(fx_node.args[0], fx.Node) else None
            done = self._on_last(fx_node, first) if isinstance(first, Last) else None
            if done is not None:
                return done
            if fx_node.op == "call_module":
                return self._call_module(fx_node)
            return self._call(fx_node)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
            # arguments in a form no handler reads (a None size, an unexpected keyword)
            raise Unsupported(f"`{_describe(fx_node)}` is called with arguments the importer "
                              f"cannot read ({type(exc).__name__}: {_first_line(exc)})",
                              hint="write the call with plain numbers, as the layer takes "
                                   "them") from None

    # -- modules ------------------------------------------------------------------------

    def _call_module(self, fx_node: fx.Node):
        target = str(fx_node.target)
        m = _submodule(self.module, target)
        args = [a for a in fx_node.args]
        if fx_node.kwargs:
            raise Unsupported(f"`{target}` is called with keyword arguments",
                              hint="pass tensors by position")
        if _helper(m) == "UpsampleLike":
            x, like = self._tensor(args[0]), self._tensor(args[1])
            mode = {"nearest": None}.get(m.mode, mapping._MODES.get(m.mode))
            layer = mapping._layer("upsample", mode=mode, align=True if m.align_corners else None)
            return self._add(Node(0, "layer", (x,), layer, path=target, module=m, like=like),
                             fx_node)
        if not is_builtin(m) and len(args) == 1 and isinstance(args[0], (list, tuple)) and \
                len(args[0]) >= 1 and all(isinstance(self.env.get(a), int) for a in args[0]) \
                and not fx_node.kwargs and concatenates_first(m, len(args[0])):
            # a list of tensors the module concatenates first (torchvision's DenseNet)
            joined = self._do_cat(fx_node, list(args[0]), 1)
            return self._add(Node(0, "use", (joined,), path=target, module=m, listed=True),
                             fx_node)
        if not is_builtin(m) and (len(args) != 1 or not isinstance(args[0], fx.Node)
                                  or not isinstance(self.env.get(args[0]), int)):
            raise Inline(self.module, target)
        if len(args) != 1:
            raise Unsupported(f"`{target}` takes {len(args)} inputs; a layer or block takes one",
                              module_path=target, hint="merge the inputs first (torch.cat, +)")
        x = self._tensor(args[0], f"`{target}`")
        if not is_builtin(m):
            return self._user_module(fx_node, m, x, target)
        if isinstance(m, (nn.LayerNorm, nn.Linear)) and len(self.nodes[x].shape) > 2:
            raise on_last_dimension(m, target)
        channels = _shape(fx_node.args[0])[1:2]
        try:
            layer = self._helper_layer(m) or mapping.module_layer(
                m, channels[0] if channels else None)
        except Unsupported as exc:
            raise exc.at(target) from None
        return self._add(Node(0, "layer", (x,), layer, path=target, module=m), fx_node)

    def _user_module(self, fx_node: fx.Node, m: nn.Module, x: int, target: str) -> int:
        """A module of the user's own: a block (`use`), or one layer where it holds its
        weights itself and its forward is that layer (ConvNeXt's `LayerNorm2d`)."""
        if permutes_only(m):
            raise Inline(self.module, target)
        if holds_state(m):
            layer = _own_layer(m, self.nodes[x].shape)
            if layer is not None:
                return self._add(Node(0, "layer", (x,), layer, path=target, module=m), fx_node)
        return self._add(Node(0, "use", (x,), path=target, module=m), fx_node)

    @staticmethod
    def _helper_layer(m: nn.Module) -> Layer | None:
        name = _helper(m)
        if name is None:
            return None
        if name == "ChannelShuffle":
            return Layer("shuffle", (("groups", int(m.groups)),))
        if name == "ChannelLayerNorm":
            return mapping._layer("layernorm", eps=mapping._unless(m.eps, 1e-5))
        if name == "Scale":
            return Layer("scale")
        if name in ("DropPath", "StochasticDepth"):
            return Layer("droppath", (("p", float(m.p)),))
        return Layer("channelmean" if name == "ChannelMean" else "channelmax")

    # -- functions and methods -------------------------------------------------------------

    def _call(self, fx_node: fx.Node):
        target, method = fx_node.target, fx_node.op == "call_method"
        args, kwargs = fx_node.args, fx_node.kwargs
        meta = self._meta(fx_node, target, method, args)
        if meta is not None:
            return meta
        word = mapping.activation_word(target, method)
        if word is not None:
            x = self._tensor(args[0])
            if word == "pass":
                return x
            if word == "dropout-eval":
                p = kwargs.get("p", args[1] if len(args) > 1 else 0.5)
                return self._layer(fx_node, x, mapping._layer("dropout",
                                                              p=mapping._unless(float(p), 0.5)))
            return self._layer(fx_node, x, Layer(word))
        merge = self._merge_kind(target, method)
        scaled = self._param_scale(fx_node, args) if merge == "mul" else None
        if scaled is not None:
            return scaled
        if merge is not None:
            return self._merge(fx_node, merge, args)
        name = target if method else getattr(target, "__name__", str(target))
        handler = getattr(self, f"_do_{name}", None)
        if handler is None:
            raise Unsupported(f"`{_describe(fx_node)}` has no layer word",
                              hint="use a layer the language has (see `cnndsl schema`)")
        return handler(fx_node, *args, **kwargs)

    def _layer(self, fx_node: fx.Node, x: int, layer: Layer, **extra) -> int:
        return self._add(Node(0, "layer", (x,), layer, **extra), fx_node)


def _own_layer(m: nn.Module, shape: tuple[int, ...]) -> Layer | None:
    """The layer a module of the user's own is, where it holds nothing but its own
    parameters and its forward is that one layer reading all of them, else None."""
    if any(True for _ in m.children()) or any(True for _ in m.buffers()):
        return None
    try:
        level = trace(m, [shape], ("x",), "")
    except (Unsupported, Inline):
        return None
    *_, last = level.nodes
    names = {name for name, _ in m.named_parameters()}
    if len(level.nodes) != 2 or last.kind != "layer" or last.inputs != (0,) or \
            level.outputs != (last.id,) or level.params != names:
        return None
    return last.layer


__all__ = ["BATCH", "F", "trace"]
