"""The call_function/call_method handlers of a level's reader: each torch function
or tensor method the language has a word for (`torch.cat`, `F.interpolate`, `x.mean`,
a channel shuffle's view-transpose-view) becomes a layer node, a merge, or a size."""

from __future__ import annotations

import math
import operator

from torch import fx, nn

from cnndsl.importer import mapping
from cnndsl.importer.mapping import Layer
from cnndsl.importer.steps import (
    Node,
    _describe,
    _dims,
    _Grouped,
    _Meta,
    _Parts,
    _returns_tensor,
    _shape,
    _submodule,
)
from cnndsl.importer.unsupported import Unsupported


class Functions:
    """The `_do_<name>` handlers, mixed into the reader: they use its `nodes`, `env`,
    `cats`, `module`, `_add`, `_tensor` and `_layer`."""

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


def _wrap_shuffle(method):
    def handler(self, fx_node, x, *args, **kwargs):
        done = self._finish_shuffle(fx_node, x)
        if done is not None:
            return done
        return method(self, fx_node, x, *args, **kwargs)
    return handler


Functions._do_view = _wrap_shuffle(Functions._do_view)
Functions._do_reshape = _wrap_shuffle(Functions._do_reshape)
Functions._do_flatten = _wrap_shuffle(Functions._do_flatten)
