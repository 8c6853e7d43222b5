"""Channels-last stretches and weights a module holds itself, as ConvNeXt writes them.

A permute to channels-last (`x.permute(0, 2, 3, 1)`, torchvision's `Permute`) and back
encloses layers that act on the channels: there a layer norm over the last dimension is
the language's `layernorm`, a linear layer is a 1x1 `conv`, element-wise layers are
themselves. A parameter of the module read in its forward is a layer of the language
where it is one: `x * self.gamma` with a (C, 1, 1) gamma is `scale`, `F.layer_norm` with
the module's own weight and bias (between permutes) is `layernorm`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import fx, nn

from cnndsl.importer import mapping
from cnndsl.importer.leaves import is_builtin
from cnndsl.importer.mapping import Layer
from cnndsl.importer.steps import Node, _shape
from cnndsl.importer.unsupported import Unsupported

#: words that act on each value alone: the same on channels-last as on channels-first
ELEMENTWISE = {"relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "hardswish", "hardsigmoid",
               "mish", "selu", "elu", "leakyrelu", "softplus", "dropout", "identity"}

#: the reader's handlers of such functions (`F.gelu`, `F.dropout`)
ELEMENTWISE_HANDLERS = {"gelu", "leaky_relu", "elu", "hardtanh", "dropout"}


@dataclass(frozen=True)
class Last:
    """A tensor of the network (node `source`, channels-first) seen channels-last."""

    source: int


def to_last(rank: int) -> tuple[int, ...]:
    return (0, *range(2, rank), 1)


def to_first(rank: int) -> tuple[int, ...]:
    return (0, rank - 1, *range(1, rank - 1))


def permutes_only(m: nn.Module) -> bool:
    """Whether `m` holds nothing and its forward is one permute (torchvision's `Permute`):
    then it is read as part of its caller, where the permute back is seen too."""
    if any(True for _ in m.parameters()) or any(True for _ in m.buffers()):
        return False
    try:
        graph = fx.Tracer().trace(m)
    except Exception:
        return False
    calls = [n for n in graph.nodes if n.op not in ("placeholder", "output", "get_attr")]
    return len(calls) == 1 and (calls[0].target is torch.permute or calls[0].target == "permute")


def on_last_dimension(m: nn.Module, target: str) -> Unsupported:
    """A layer norm or linear layer on a channels-first tensor of rank 3 or more: it acts
    on the last dimension (a width), which no word of the language does."""
    what = "normalises" if isinstance(m, nn.LayerNorm) else "maps"
    word = "`layernorm`" if isinstance(m, nn.LayerNorm) else "a 1x1 `conv`"
    return Unsupported(f"`{target}` {what} the last dimension of a channels-first tensor",
                       module_path=target,
                       hint=f"flatten first, or permute to channels-last (`x.permute(0, 2, 3, "
                            f"1)`) and back: over the channels it is {word}")


def _dims(dims, kwargs) -> tuple[int, ...]:
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    return tuple(int(d) for d in (dims or kwargs.get("dims", ())))


class ChannelsLast:
    """Handlers mixed into the reader (beside `Functions`): permutes, the layers between
    them, and the module's own parameters as `scale` or `layernorm` weights."""

    def _do_permute(self, fx_node, x, *dims, **kwargs):
        value, dims = self.env.get(x), _dims(dims, kwargs)
        source = value.source if isinstance(value, Last) else value
        rank = len(self.nodes[source].shape) if isinstance(source, int) else 0
        wanted = to_first(rank) if isinstance(value, Last) else to_last(rank)
        if rank >= 3 and tuple(d % rank for d in dims) == wanted:
            return source if isinstance(value, Last) else Last(source)
        raise Unsupported(f"a permute to dimensions {dims}",
                          hint="only channels-last and back ((0, 2, 3, 1), then (0, 3, 1, 2)) "
                               "has a reading: the layers between act on the channels")

    def _last_layer(self, fx_node: fx.Node, last: Last, layer: Layer, **extra) -> Last:
        """A layer node on a channels-last tensor, its shape noted channels-first."""
        return self._as_last(self._add(Node(0, "layer", (last.source,), layer, **extra),
                                       fx_node), fx_node)

    def _as_last(self, made: int, fx_node: fx.Node) -> Last:
        shape = _shape(fx_node)
        self.nodes[made].shape = (shape[0], shape[-1], *shape[1:-1])
        return Last(made)

    def _on_last(self, fx_node: fx.Node, last: Last):
        """A module or function applied to a channels-last tensor: one acting on channels."""
        if fx_node.op == "call_module":
            target = str(fx_node.target)
            m = self.module.get_submodule(target)
            if not is_builtin(m):
                return None   # the caller reads it inline, its permute back included
            if isinstance(m, nn.Linear):
                layer = mapping._layer("conv", out=m.out_features, kernel=1,
                                       bias=None if m.bias is not None else False)
            else:
                layer = mapping.module_layer(m)
                if layer.word not in ELEMENTWISE and type(m) is not nn.LayerNorm:
                    raise Unsupported(f"`{target}` on a channels-last tensor", module_path=target,
                                      hint="only layer norms, linear layers and element-wise "
                                           "layers have a reading between permutes")
            return self._last_layer(fx_node, last, layer, path=target, module=m)
        word = mapping.activation_word(fx_node.target, fx_node.op == "call_method")
        if word == "pass":
            return last
        if word in ELEMENTWISE:
            return self._last_layer(fx_node, last, Layer(word))
        name = getattr(fx_node.target, "__name__", fx_node.target)
        if name in ELEMENTWISE_HANDLERS:   # read as on channels-first, then seen as before
            handler = getattr(self, f"_do_{name}")
            made = handler(fx_node, last.source, *fx_node.args[1:], **fx_node.kwargs)
            return self._as_last(made, fx_node)
        return None

    def _param(self, value) -> torch.Tensor | None:
        name = self.params.get(value) if isinstance(value, fx.Node) else None
        return None if name is None else self.module.get_parameter(name)

    def _do_layer_norm(self, fx_node, x, normalized_shape, weight=None, bias=None, eps=1e-5,
                       **_):
        last = self.env.get(x)
        channels = self.nodes[last.source].shape[1] if isinstance(last, Last) else None
        w, b = self._param(weight), self._param(bias)
        if channels is None or tuple(normalized_shape) != (channels,) or w is None or \
                b is None or tuple(w.shape) != (channels,) or tuple(b.shape) != (channels,):
            raise Unsupported("a layer norm other than over the channels with weights of "
                              "the module's own",
                              hint="permute to channels-last, normalise the last dimension "
                                   "with `F.layer_norm(x, (c,), self.weight, self.bias)`")
        self.used |= {self.params[weight], self.params[bias]}
        self.param_layers += 1
        return self._last_layer(fx_node, last, mapping._layer(
            "layernorm", eps=mapping._unless(float(eps), 1e-5)))

    def _param_scale(self, fx_node: fx.Node, args) -> int | None:
        """`x * self.gamma` (either order) with one factor per channel: a `scale`."""
        if len(args) != 2 or fx_node.kwargs:
            return None
        params = [self._param(a) for a in args]
        tensors = [self.env.get(a) if isinstance(a, fx.Node) else None for a in args]
        for p, t, arg in ((params[0], tensors[1], args[0]), (params[1], tensors[0], args[1])):
            if p is None or not isinstance(t, int):
                continue
            shape = self.nodes[t].shape
            ones = (1,) * (len(shape) - 2)
            if tuple(p.shape) in ((shape[1], *ones), (1, shape[1], *ones)):
                self.used.add(self.params[arg])
                self.param_layers += 1
                return self._add(Node(0, "layer", (t,), Layer("scale")), fx_node)
        return None


__all__ = ["ELEMENTWISE", "ChannelsLast", "Last", "on_last_dimension", "permutes_only",
           "to_first", "to_last"]
