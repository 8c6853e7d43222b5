"""One module level -> a graph of layer nodes.

Each module instance is traced on its own with `torch.fx`: built-in modules
and user-defined submodules are leaves (a user-defined submodule becomes a
`use` node, traced in its turn), `nn.Sequential`/`nn.ModuleList` are looked
through so their members appear by dotted path (`layer1.0`). Every fx node is
mapped to a layer word, a merge, or a value that only feeds sizes (`x.shape`).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import operator
from dataclasses import dataclass, field

import torch
from torch import fx, nn
from torch.nn import functional as F

from cnndsl.importer import mapping
from cnndsl.importer.errors import Unsupported, user_frame
from cnndsl.importer.functions import CustomFunction, custom_functions_refused, refused
from cnndsl.importer.mapping import Layer

BATCH = 2   # traced with two samples, so the batch dimension never looks like a size of 1


@dataclass
class Node:
    """A tensor-producing step of one level: `input`, `layer`, `use` (a user-defined
    submodule), `merge` (concat/add/mul), `part` (one of `of` equal channel parts)."""

    id: int
    kind: str
    inputs: tuple[int, ...] = ()
    layer: Layer | None = None
    merge: str = ""
    path: str = ""                    # the module's attribute path at this level
    module: nn.Module | None = None
    like: int | None = None           # the node whose spatial size an upsample follows
    name: str = ""                    # an input's name
    index: int = 0                    # a part's index
    of: int = 0                       # ... among this many
    shape: tuple[int, ...] = ()       # output shape, batch included
    in_shape: tuple[int, ...] = ()    # first input's shape
    listed: bool = False              # a use called with a list it concatenates first


@dataclass
class Level:
    """A traced module: its nodes in execution order and its output node ids."""

    module: nn.Module
    nodes: list[Node]
    outputs: tuple[int, ...]
    input_names: tuple[str, ...]
    filename: str | None = None
    line: int | None = None
    users: dict[int, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Meta:
    """A non-tensor value derived from a tensor (its shape, a slice of it)."""

    source: int
    what: str   # shape | spatial | dim | other


@dataclass(frozen=True)
class _Parts:
    source: int
    count: int


def is_container(m: nn.Module) -> bool:
    """Modules looked through: plain sequences and lists, whose members are called in turn."""
    if isinstance(m, (nn.ModuleList, nn.ModuleDict)):
        return True
    return type(m) is nn.Sequential   # a subclass is a class of one's own: a block


HELPERS = ("ChannelShuffle", "ChannelLayerNorm", "Scale", "UpsampleLike", "ChannelMean",
           "ChannelMax", "DropPath")


def is_builtin(m: nn.Module) -> bool:
    """A module from `torch.nn` itself, or a helper class a compiled spec defines."""
    module_name = type(m).__module__ or ""
    return module_name.startswith("torch.nn.") or _helper(m) is not None


def _helper(m: nn.Module) -> str | None:
    name = type(m).__name__
    if name not in HELPERS or not hasattr(type(m), "forward"):
        return None
    needs = {"ChannelShuffle": "groups", "Scale": "weight", "DropPath": "p",
             "ChannelLayerNorm": "eps", "UpsampleLike": "mode"}.get(name)
    return name if needs is None or hasattr(m, needs) else None


class Inline(Exception):
    """A user-defined submodule that is no block (several inputs or outputs): its
    forward is traced as part of its caller's instead."""

    def __init__(self, owner: nn.Module, path: str) -> None:
        super().__init__(path)
        self.owner, self.path = owner, path


class _Tracer(fx.Tracer):
    def __init__(self, root: nn.Module, inline: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.root_module = root
        self.inline = inline

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return m is not self.root_module and not is_container(m) and qualname not in self.inline

    def trace(self, root, concrete_args=None):
        with custom_functions_refused():
            return super().trace(root, concrete_args)


class _Failed(Exception):
    def __init__(self, target: str, exc: Exception) -> None:
        super().__init__(target)
        self.target, self.exc = target, exc


class _Shapes(fx.Interpreter):
    """Runs a traced graph on the module itself (whatever its attribute names), noting
    each tensor's shape on its node."""

    def __init__(self, module: nn.Module, graph: fx.Graph) -> None:
        super().__init__(module, garbage_collect_values=True, graph=graph)

    def call_module(self, target, args, kwargs):
        try:
            return super().call_module(target, args, kwargs)
        except _Failed:
            raise
        except Exception as exc:   # the submodule's own forward failed: say which
            raise _Failed(str(target), exc) from exc

    def run_node(self, n: fx.Node):
        result = super().run_node(n)
        if isinstance(result, torch.Tensor):
            n.meta["tensor_meta"] = _Meta(-1, "shape")
            n.meta["shape"] = tuple(int(v) for v in result.shape)
        elif isinstance(result, (tuple, list)):
            n.meta["shapes"] = [tuple(int(v) for v in r.shape) if isinstance(r, torch.Tensor)
                                else None for r in result]
        return result


@contextlib.contextmanager
def fake_mode():
    """Shapes without arithmetic: every tensor is a fake one (sizes only). Torch's own
    log of a failing operation is held back: the failure reaches the user as one line."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    logger = logging.getLogger("torch._subclasses.fake_tensor")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with FakeTensorMode(allow_non_fake_inputs=True) as mode:
            yield mode
    finally:
        logger.setLevel(level)


class ListCall(nn.Module):
    """Calls `inner` with its input as a list of one: how a list-taking module is traced."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner([x])


class _ListOfTwo(ListCall):
    def forward(self, x, y):
        return self.inner([x, y])


def concatenates_first(m: nn.Module, count: int) -> bool:
    """Whether `m(list)` starts by concatenating the whole list on channels, in order,
    and reads the list no other way (tried with lists of one and of two tensors): then
    `m` is a block on that concatenation."""
    return all(_cat_of_inputs(wrapper) for wrapper in (ListCall(m), _ListOfTwo(m)))


def _cat_of_inputs(wrapper: nn.Module) -> bool:
    try:
        graph = _Tracer(wrapper, frozenset({"inner"})).trace(wrapper)
    except Exception:
        return False
    holders = [n for n in graph.nodes if n.op == "placeholder"]
    users = {u for p in holders for u in p.users}
    if len(users) != 1:
        return False
    (cat,) = users
    dim = cat.kwargs.get("dim", cat.args[1] if len(cat.args) > 1 else 0)
    return cat.target is torch.cat and list(cat.args[0]) == holders and dim == 1


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


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "no message"


def _trace_hint(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, RuntimeError) and ("must have" in text or "size" in text
                                          or "shape" in text):
        return "check the input size given with `--input`: the module fails on it"
    if "control flow" in text or "iterate" in text:
        return ("a branch on a tensor's values cannot be a spec; choose the branch when "
                "the module is built, or write it as an `if` on block parameters")
    return "write the forward with torch operations the language has words for"


class _Reader:
    """Walks one traced graph, mapping each fx node to a `Node` or a size value."""

    def __init__(self, module: nn.Module, graph: fx.Graph, names: tuple[str, ...],
                 filename: str | None, line: int | None) -> None:
        self.module, self.graph, self.names = module, graph, names
        self.filename, self.line = filename, line
        self.nodes: list[Node] = []
        self.env: dict[fx.Node, object] = {}
        self.cats: dict[tuple[int, ...], int] = {}

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
                self.env[fx_node] = _Meta(-1, "attribute")
            else:
                self.env[fx_node] = self._step(fx_node)
        users: dict[int, list[int]] = {n.id: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs + ((n.like,) if n.like is not None else ()):
                users[i].append(n.id)
        return Level(self.module, self.nodes, outputs, self.names, self.filename, self.line, users)

    def _outputs(self, value) -> tuple[int, ...]:
        values = value if isinstance(value, (tuple, list)) else (value,)
        got = tuple(self.env.get(v) if isinstance(v, fx.Node) else None for v in values)
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
        if not isinstance(value, int):
            raise Unsupported(f"{what} is applied to something that is not a tensor of the "
                              "network (a parameter, a constant or a size)",
                              hint="compute it with a layer module")
        return value

    def _step(self, fx_node: fx.Node):
        try:
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
            return self._add(Node(0, "use", (x,), path=target, module=m), fx_node)
        channels = _shape(fx_node.args[0])[1:2]
        try:
            layer = self._helper_layer(m) or mapping.module_layer(
                m, channels[0] if channels else None)
        except Unsupported as exc:
            raise exc.at(target) from None
        return self._add(Node(0, "layer", (x,), layer, path=target, module=m), fx_node)

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
        if name == "DropPath":
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

    def _meta(self, fx_node, target, method, args):
        """Sizes read off tensors (`x.shape`, `x.size(0)`) and what is computed from them."""
        if target is getattr and args[1] in ("shape",):
            return _Meta(self._tensor(args[0]), "shape")
        if method and target == "size" and isinstance(self.env.get(args[0]), int):
            return _Meta(self.env[args[0]], "shape" if len(args) == 1 else "dim")
        if target is operator.getitem:
            base = self.env.get(args[0])
            if isinstance(base, _Meta):
                spatial = isinstance(args[1], slice) and args[1].start in (2, -2, -1)
                return _Meta(base.source, "spatial" if base.what == "shape" and spatial
                             else "dim")
            if isinstance(base, _Parts):
                return self._add(Node(0, "part", (base.source,), index=int(args[1]),
                                      of=base.count), fx_node)
        if any(isinstance(self.env.get(a), _Meta) for a in args if isinstance(a, fx.Node)) and \
                not _returns_tensor(fx_node):
            return _Meta(-1, "other")
        return None

    @staticmethod
    def _merge_kind(target, method) -> str | None:
        if method:
            return mapping.MERGE_METHODS.get(target)
        try:
            return mapping.MERGES.get(target)
        except TypeError:
            return None

    def _merge(self, fx_node: fx.Node, kind: str, args) -> int:
        if len(args) != 2 or not all(isinstance(self.env.get(a), int) for a in args
                                     if isinstance(a, fx.Node)) or \
                not all(isinstance(a, fx.Node) for a in args):
            raise Unsupported(f"`{_describe(fx_node)}` combines a tensor with a constant or a "
                              "parameter", hint=f"{kind} two tensors of the network, or use a "
                              "layer (`scale`, a norm) for learnt factors")
        ins = tuple(self._tensor(a) for a in args)
        return self._add(Node(0, "merge", ins, merge=kind), fx_node)

    def _do_cat(self, fx_node, tensors, dim=0, **_):
        ins = tuple(self._tensor(t) for t in tensors)
        rank = len(self.nodes[ins[0]].shape)
        if dim not in (1, 1 - rank):
            raise Unsupported(f"a concatenation along dimension {dim}",
                              hint="concatenate on channels (dim=1)")
        if len(ins) == 1:
            return ins[0]
        if ins in self.cats:
            return self.cats[ins]
        # cat(a, b, c) after cat(a, b) is cat(cat(a, b), c): a growing list, one merge each
        for cut in range(len(ins) - 1, 1, -1):
            if ins[:cut] in self.cats:
                ins = (self.cats[ins[:cut]],) + ins[cut:]
                break
        made = self._add(Node(0, "merge", ins, merge="concat"), fx_node)
        first = self.nodes[ins[0]].shape
        self.nodes[made].shape = (first[0], sum(self.nodes[i].shape[1] for i in ins)) + first[2:]
        self.cats[tuple(self._tensor(t) for t in tensors)] = made
        return made

    _do_concat = _do_cat

    def _do_flatten(self, fx_node, x, start_dim=0, end_dim=-1, **_):
        x = self._tensor(x)
        if start_dim != 1 or end_dim != -1:
            raise Unsupported("a flatten of other dimensions than all but the batch",
                              hint="flatten from dim 1: `torch.flatten(x, 1)`")
        return self._flat(fx_node, x)

    def _flat(self, fx_node, x: int) -> int:
        if len(self.nodes[x].shape) == 2:
            return x
        return self._layer(fx_node, x, Layer("flatten"), path="")

    def _do_view(self, fx_node, x, *sizes, **_):
        x = self._tensor(x)
        before, after = self.nodes[x].shape, _shape(fx_node)
        if after == before:
            return x
        if len(after) == 2 and after[0] == before[0]:
            return self._flat(fx_node, x)
        if len(before) == 2 and len(after) > 2 and after[0] == before[0]:
            return self._layer(fx_node, x, Layer("unflatten", (("shape", tuple(after[1:])),)))
        if len(after) == len(before) + 1 and after[1] * after[2] == before[1] \
                and after[3:] == before[2:]:
            return _Grouped(x, after[1], self.nodes[x].shape)
        raise Unsupported(f"a reshape from {_dims(before)} to {_dims(after)}",
                          hint="only flattening, unflattening and channel shuffles have words")

    _do_reshape = _do_view

    def _do_transpose(self, fx_node, x, a, b, **_):
        grouped = self.env.get(x)
        if isinstance(grouped, _Grouped) and {a, b} == {1, 2}:
            return _Grouped(grouped.source, grouped.groups, grouped.shape, transposed=True)
        raise Unsupported("a transpose", hint="only a channel shuffle's transpose has a word")

    def _do_mean(self, fx_node, x, dim=None, keepdim=False, **_):
        x = self._tensor(x)
        rank = len(self.nodes[x].shape)
        dims = sorted(d % rank for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
        if dims == list(range(2, rank)):
            pooled = self._layer(fx_node, x, Layer("gap"))
            return pooled if keepdim else self._flat(fx_node, pooled)
        if dims == [1] and keepdim:
            return self._layer(fx_node, x, Layer("channelmean"))
        raise Unsupported(f"a mean over dimensions {dims}",
                          hint="use `gap` (all spatial dims) or `channelmean` (channels)")

    def _do_amax(self, fx_node, x, dim=None, keepdim=False, **_):
        x = self._tensor(x)
        if dim in (1, (1,), [1]) and keepdim:
            return self._layer(fx_node, x, Layer("channelmax"))
        raise Unsupported("a maximum over other dimensions than the channels",
                          hint="use `gmp` or `channelmax`")

    def _do_chunk(self, fx_node, x, chunks, dim=0, **_):
        x = self._tensor(x)
        if dim != 1:
            raise Unsupported("a chunk along another dimension than the channels",
                              hint="split the channels (dim=1)")
        return _Parts(x, int(chunks))

    def _do_split(self, fx_node, x, size, dim=0, **_):
        x = self._tensor(x)
        channels = self.nodes[x].shape[1]
        if dim != 1 or not isinstance(size, int) or channels % size:
            raise Unsupported("a split into unequal parts or along another dimension",
                              hint="split the channels into equal parts")
        return _Parts(x, channels // size)

    def _do_adaptive_avg_pool2d(self, fx_node, x, output_size, **_):
        x = self._tensor(x)
        out = mapping.size(output_size)
        layer = Layer("gap") if out == 1 else Layer("adaptiveavgpool", (("size", out),))
        return self._layer(fx_node, x, layer)

    _do_adaptive_avg_pool1d = _do_adaptive_avg_pool3d = _do_adaptive_avg_pool2d

    def _do_adaptive_max_pool2d(self, fx_node, x, output_size, return_indices=False, **_):
        x = self._tensor(x)
        out = mapping.size(output_size)
        layer = Layer("gmp") if out == 1 else Layer("adaptivemaxpool", (("size", out),))
        return self._layer(fx_node, x, layer)

    def _do_max_pool2d(self, fx_node, x, kernel_size, stride=None, padding=0, dilation=1,
                       ceil_mode=False, return_indices=False, **_):
        pool = nn.MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)
        return self._layer(fx_node, self._tensor(x), mapping.module_layer(pool))

    def _do_avg_pool2d(self, fx_node, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                       count_include_pad=True, divisor_override=None, **_):
        pool = nn.AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad,
                            divisor_override)
        return self._layer(fx_node, self._tensor(x), mapping.module_layer(pool))

    def _do_interpolate(self, fx_node, x, size=None, scale_factor=None, mode="nearest",
                        align_corners=None, **_):
        x = self._tensor(x)
        follow = self.env.get(size) if isinstance(size, fx.Node) else None
        if isinstance(follow, _Meta) and follow.what == "spatial" and follow.source >= 0:
            layer = mapping._upsample(None, 1, mode, align_corners)
            layer = Layer("upsample", tuple(a for a in layer.args if a[0] != "size"))
            return self._layer(fx_node, x, layer, like=follow.source)
        if isinstance(size, fx.Node):
            raise Unsupported("an interpolation to a size computed in the forward",
                              hint="give `size=other.shape[-2:]` of a tensor, or a factor")
        return self._layer(fx_node, x, mapping._upsample(scale_factor, size, mode, align_corners))

    _do_upsample = _do_interpolate

    def _do_pad(self, fx_node, x, pad, mode="constant", value=None, **_):
        kind = None if mode == "constant" else mode
        if value is not None and not math.isfinite(value):
            if value < 0 and mode == "constant" and self._feeds_max_pool(fx_node):
                # cells of -inf never win a max; replicated edge cells tie, never win either
                kind, value = "replicate", None
            else:
                raise Unsupported(f"a padding with the value {value}",
                                  hint="pad with a finite value, or replicate before a max pool")
        return self._layer(fx_node, self._tensor(x),
                           mapping.pad_layer(tuple(pad), kind, float(value or 0.0)))

    def _feeds_max_pool(self, fx_node: fx.Node) -> bool:
        users = list(fx_node.users)
        if len(users) != 1:
            return False
        user = users[0]
        if user.op == "call_module":
            return isinstance(_submodule(self.module, str(user.target)),
                              (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d))
        return getattr(user.target, "__name__", "") in ("max_pool1d", "max_pool2d",
                                                        "max_pool3d", "_max_pool2d")

    def _do_softmax(self, fx_node, x, dim=None, **_):
        return self._softmax(fx_node, x, dim, "softmax")

    def _do_log_softmax(self, fx_node, x, dim=None, **_):
        return self._softmax(fx_node, x, dim, "logsoftmax")

    def _softmax(self, fx_node, x, dim, word):
        x = self._tensor(x)
        if dim not in (1, -1 if len(self.nodes[x].shape) == 2 else 1):
            raise Unsupported(f"a {word} over dimension {dim}", hint="take it over dim=1")
        return self._layer(fx_node, x, Layer(word))

    def _do_gelu(self, fx_node, x, approximate="none", **_):
        if approximate != "none":
            raise Unsupported("a GELU with the tanh approximation", hint="use the exact GELU")
        return self._layer(fx_node, self._tensor(x), Layer("gelu"))

    def _do_leaky_relu(self, fx_node, x, negative_slope=0.01, inplace=False, **_):
        return self._layer(fx_node, self._tensor(x), mapping._layer(
            "leakyrelu", param=mapping._unless(float(negative_slope), 0.01)))

    def _do_elu(self, fx_node, x, alpha=1.0, inplace=False, **_):
        return self._layer(fx_node, self._tensor(x), mapping._layer(
            "elu", param=mapping._unless(float(alpha), 1.0)))

    def _do_hardtanh(self, fx_node, x, min_val=-1.0, max_val=1.0, inplace=False, **_):
        if (min_val, max_val) != (0.0, 6.0):
            raise Unsupported("a hardtanh other than relu6", hint="use relu6")
        return self._layer(fx_node, self._tensor(x), Layer("relu6"))

    def _do_dropout(self, fx_node, x, p=0.5, training=True, inplace=False, **_):
        return self._layer(fx_node, self._tensor(x),
                           mapping._layer("dropout", p=mapping._unless(float(p), 0.5)))

    def _finish_shuffle(self, fx_node, x) -> int | None:
        grouped = self.env.get(x) if isinstance(x, fx.Node) else None
        if isinstance(grouped, _Grouped) and grouped.transposed and \
                _shape(fx_node) == grouped.shape:
            return self._layer(fx_node, grouped.source, Layer("shuffle",
                                                              (("groups", grouped.groups),)))
        return None

    def _do_contiguous(self, fx_node, x, **_):
        grouped = self.env.get(x)
        return grouped if isinstance(grouped, _Grouped) else self._tensor(x)


@dataclass(frozen=True)
class _Grouped:
    """A tensor viewed as (B, g, C/g, ...), on the way through a channel shuffle."""

    source: int
    groups: int
    shape: tuple[int, ...]
    transposed: bool = False


def _wrap_shuffle(method):
    def handler(self, fx_node, x, *args, **kwargs):
        done = self._finish_shuffle(fx_node, x)
        if done is not None:
            return done
        return method(self, fx_node, x, *args, **kwargs)
    return handler


_Reader._do_view = _wrap_shuffle(_Reader._do_view)
_Reader._do_reshape = _wrap_shuffle(_Reader._do_reshape)
_Reader._do_flatten = _wrap_shuffle(_Reader._do_flatten)


def _submodule(module: nn.Module, target: str) -> nn.Module:
    for part in target.split("."):
        module = module._modules[part]
    return module


def _returns_tensor(fx_node: fx.Node) -> bool:
    return "shape" in fx_node.meta


def _shape(fx_node) -> tuple[int, ...]:
    return getattr(fx_node, "meta", {}).get("shape", ())


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in shape[1:]) or "a scalar"


def _describe(fx_node: fx.Node) -> str:
    if fx_node.op == "call_module":
        return f"self.{fx_node.target}(...)"
    if fx_node.op == "call_method":
        return f"x.{fx_node.target}(...)"
    target = fx_node.target
    owner = getattr(target, "__module__", "") or ""
    name = getattr(target, "__name__", str(target))
    prefix = {"torch.nn.functional": "F.", "torch": "torch.", "_operator": "operator."}.get(
        owner, "torch." if owner.startswith("torch") else "")
    return f"{prefix}{name}"


__all__ = ["BATCH", "F", "Level", "Node", "is_builtin", "is_container", "trace"]
