"""Infer: output shape, parameters, multiply-adds and receptive field of every
layer, following PyTorch's own rules.

Multiply-adds follow torchvision's published tables: a convolution costs
(weights + bias) x output positions, a fully connected layer weights + bias;
pooling, normalisation and activations count 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property

from cnndsl import ir
from cnndsl.diagnostics import Diagnostic, Label, error, warning
from cnndsl.source import Span

Shape = tuple[int, ...]


@dataclass(frozen=True)
class State:
    """What flows along a chain: the shape (without batch) and the receptive
    field and jump per spatial dim (None once the spatial dims are gone)."""

    shape: Shape
    rf: tuple[int, ...] | None
    jump: tuple[int, ...] | None
    trace: tuple[str, ...] = ()      # `conv 6x24x24` steps, for notes
    last: Span | None = None         # the element that produced this state

    @property
    def rank(self) -> int:
        return len(self.shape) - 1


@dataclass(frozen=True)
class LayerInfo:
    """One row of the summary."""

    index: int
    name: str            # module path: `conv1`, `inception1.branch2_conv1`
    op: str
    text: str
    span: Span
    input: Shape
    output: Shape
    params: int
    trainable: int
    buffers: int
    macs: int
    rf: tuple[int, ...] | None
    jump: tuple[int, ...] | None
    depth: int = 0
    kind: str = "layer"   # "layer" | "block" (a header row) | "merge"
    flatten: bool = False  # an `fc` that flattens its input first

    @property
    def is_layer(self) -> bool:
        return self.kind != "block"


@dataclass(frozen=True)
class Summary:
    model: str
    input: Shape
    output: Shape
    rows: tuple[LayerInfo, ...]

    @cached_property
    def layers(self) -> tuple[LayerInfo, ...]:
        """The layer rows, without block headers and merge rows."""
        return tuple(r for r in self.rows if r.is_layer)

    @property
    def params(self) -> int:
        return sum(r.params for r in self.layers)

    @property
    def trainable(self) -> int:
        return sum(r.trainable for r in self.layers)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.layers)


TRACE = 8  # steps kept for the "how did we get here" note


def _step(trace: tuple[str, ...], step: str) -> tuple[str, ...]:
    """Append a step, keeping the input and the last few: O(1), not O(layers)."""
    trace = trace + (step,)
    return trace if len(trace) <= TRACE else (trace[0], "…") + trace[-(TRACE - 2):]


def fmt(shape: Shape) -> str:
    return "x".join(str(n) for n in shape)


def infer(network: ir.Network) -> tuple[Summary | None, list[Diagnostic]]:
    """Run the network's input through every layer, statically."""
    walker = _Walker()
    rank = len(network.input) - 1
    start = State(network.input, (1,) * rank if rank else None,
                  (1,) * rank if rank else None, (fmt(network.input),), network.input_span)
    final = walker.sequence(network.body, start, prefix="", depth=0)
    if final is None or walker.failed:
        return None, walker.diagnostics
    return Summary(network.model, network.input, final.shape, tuple(walker.rows)), \
        walker.diagnostics


class _Walker:
    def __init__(self) -> None:
        self.rows: list[LayerInfo] = []
        self.diagnostics: list[Diagnostic] = []
        self.failed = False

    def fail(self, diagnostic: Diagnostic | None) -> None:
        self.failed = True
        if diagnostic is not None:
            self.diagnostics.append(diagnostic)

    # -- structure
    def sequence(self, seq: ir.Sequence, state: State, prefix: str, depth: int) -> State | None:
        for item in seq.items:
            state = self.element(item, state, prefix, depth)
            if state is None:
                return None
        return state

    def element(self, node, state: State, prefix: str, depth: int) -> State | None:
        if isinstance(node, ir.Unresolved):   # its errors are reported already
            self.fail(None)                    # no summary, but check on where we can
            if not node.keeps_shape:
                return None
            step = _step(state.trace, f"{node.text.split()[0]} {fmt(state.shape)}")
            return State(state.shape, state.rf, state.jump, step, node.span)
        if isinstance(node, ir.BlockCall):
            return self.block(node, state, prefix, depth)
        if isinstance(node, ir.Branches):
            return self.branches(node, state, prefix, depth)
        return self.layer(node, state, prefix, depth)

    def block(self, node: ir.BlockCall, state: State, prefix: str, depth: int) -> State | None:
        header = len(self.rows)
        out = self.sequence(node.body, state, f"{prefix}{node.name}.", depth + 1)
        if out is None:
            return None
        inner = [r for r in self.rows[header:] if r.is_layer]
        self.rows.insert(header, LayerInfo(
            index=0, name=prefix + node.name, op="block", text=node.text, span=node.span,
            input=state.shape, output=out.shape, params=sum(r.params for r in inner),
            trainable=sum(r.trainable for r in inner), buffers=sum(r.buffers for r in inner),
            macs=sum(r.macs for r in inner), rf=out.rf, jump=out.jump, depth=depth,
            kind="block"))
        return replace(out, last=node.span)

    def branches(self, node: ir.Branches, state: State, prefix: str,
                 depth: int) -> State | None:
        outs: list[State] = []
        for branch in node.branches:
            out = self.sequence(branch, replace(state, trace=()), prefix, depth + 1)
            if out is None:
                return None
            outs.append(out)
        merged = self._merge(node, state, outs)
        if merged is None:
            return None
        self._row(node, prefix, depth, state, merged, 0, 0, 0, kind="merge")
        return merged

    def _merge(self, node: ir.Branches, state: State, outs: list[State]) -> State | None:
        shapes = [o.shape for o in outs]
        if node.op == "concat":
            ranks = {len(s) for s in shapes}
            spatial = {s[1:] for s in shapes}
            if len(ranks) > 1 or len(spatial) > 1:
                self.fail(self._mismatch(node, outs, "spatial sizes of `concat` branches "
                                         "differ", "E0302"))
                return None
            shape = (sum(s[0] for s in shapes),) + shapes[0][1:]
        else:
            if len(set(shapes)) > 1:
                self.fail(self._mismatch(node, outs, "residual body changes the shape" if
                                         node.residual else "shapes of `add` branches differ",
                                         "E0303"))
                return None
            shape = shapes[0]
        rf, jump = None, None
        if all(o.rf for o in outs) and len(shape) > 1:
            rf = tuple(max(vals) for vals in zip(*(o.rf for o in outs)))
            jump = tuple(max(vals) for vals in zip(*(o.jump for o in outs)))
        return State(shape, rf, jump, _step(state.trace, f"{node.op} {fmt(shape)}"), node.span)

    def _mismatch(self, node: ir.Branches, outs: list[State], message: str,
                  code: str) -> Diagnostic:
        labels = []
        for branch, out in zip(node.branches, outs):
            where = out.last if branch.items else branch.span
            what = "the input" if not branch.items else "output"
            labels.append(Label(span=where or branch.span, text=f"{what} is {fmt(out.shape)}"))
        primary = labels[-1]
        notes = [f"branch {i + 1}: {fmt(o.shape)}" for i, o in enumerate(outs)]
        if node.op == "concat":
            fix = ("make every branch keep the same spatial size: pad convolutions "
                   "(`p1` for `k3`) and use the same strides")
        elif node.residual:
            fix = ("match the body's output to its input, or project the skip path: "
                   f"`add(conv {outs[-1].shape[0]} k1 ..., <body>)`")
        else:
            fix = "make every branch produce the same shape"
        return error(code, message, primary.span, primary.text,
                     secondary=labels[:-1], notes=notes, help=fix)

    def _row(self, node, prefix: str, depth: int, before: State, after: State, params: int,
             buffers: int, macs: int, kind: str = "layer", flatten: bool = False) -> None:
        self.rows.append(LayerInfo(
            index=0, name=prefix + node.name, op=node.op, text=node.text, span=node.span,
            input=before.shape, output=after.shape, params=params, trainable=params,
            buffers=buffers, macs=macs, rf=after.rf, jump=after.jump, depth=depth, kind=kind,
            flatten=flatten))

    # -- layers
    def layer(self, node, state: State, prefix: str, depth: int) -> State | None:
        rule = _RULES[type(node)]
        result = rule(self, node, state)
        if result is None:
            return None
        out, params, buffers, macs = result
        flatten = isinstance(node, ir.Linear) and state.rank > 0
        after = State(out.shape, out.rf, out.jump,
                      _step(state.trace, f"{node.text.split()[0]} {fmt(out.shape)}"), node.span)
        self._row(node, prefix, depth, state, after, params, buffers, macs, flatten=flatten)
        return after

    def need_spatial(self, node, state: State) -> bool:
        if state.rank > 0:
            return True
        self.fail(error("E0309", f"`{node.text.split()[0]}` needs spatial input",
                        node.span, f"its input is {fmt(state.shape)} features",
                        secondary=_previous(state, "flattened here"),
                        help="move it before the first `fc` or `flatten`"))
        return False

    def expand(self, node, field: str, value, rank: int) -> tuple[int, ...] | None:
        if isinstance(value, int):
            return (value,) * rank
        if len(value) == rank:
            return tuple(value)
        self.fail(error("E0311", f"a {len(value)}-D {field} on a {rank}-D input",
                        node.span_of(field), f"{field} {fmt(value)}",
                        help=f"give one number, or {rank} joined by `x`"))
        return None


def _previous(state: State, text: str) -> list[Label]:
    return [Label(span=state.last, text=text)] if state.last is not None else []


# ---- windows (conv and pooling) -----------------------------------------------

def _window(w: _Walker, node, state: State, kernel, stride, padding, dilation,
            ceil: bool = False):
    """Output spatial sizes, receptive field and jump of a sliding window.
    Returns None (with a diagnostic) when the window does not fit."""
    if node.op == "avgpool" and len(kernel) == 3 and any(
            n < k for n, k in zip(state.shape[1:], kernel)):
        w.fail(_avgpool3d_too_small(node, state, kernel))
        return None
    sizes = []
    for axis, n in enumerate(state.shape[1:]):
        k, s, p, d = kernel[axis], stride[axis], padding[axis], dilation[axis]
        span = n + 2 * p - d * (k - 1) - 1
        out = (span + (s - 1 if ceil else 0)) // s + 1
        if ceil and out >= 1 and (out - 1) * s >= n + p:
            out -= 1   # PyTorch drops a last window that would start in the padding
        if out < 1:
            w.fail(_does_not_fit(node, state, kernel, padding, dilation, stride, axis))
            return None
        sizes.append(out)
    rf = jump = None
    if state.rf is not None:
        rf = tuple(r + d * (k - 1) * j for r, k, d, j in zip(state.rf, kernel, dilation,
                                                             state.jump))
        jump = tuple(j * s for j, s in zip(state.jump, stride))
    _floor_warning(w, node, state, kernel, stride, padding, dilation, ceil)
    return tuple(sizes), rf, jump


def _arith(n, p, k, d, s) -> str:
    window = f"{k}" if d == 1 else f"{d}·({k}−1)−1+1"
    return f"⌊({n} + 2·{p} − {window}) / {s}⌋ + 1"


def _does_not_fit(node, state: State, kernel, padding, dilation, stride, axis) -> Diagnostic:
    spatial = state.shape[1:]
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = tuple(n + 2 * p for n, p in zip(spatial, padding))
    word = "kernel" if node.op == "conv" else "window"
    n, p, k, d, s = spatial[axis], padding[axis], kernel[axis], dilation[axis], stride[axis]
    result = (n + 2 * p - d * (k - 1) - 1) // s + 1
    notes = [f"{_arith(n, p, k, d, s)} = {result}, below 1"]
    if state.trace:
        notes.append(" -> ".join(state.trace))
    return error("E0301", f"{word} does not fit its input", node.span_of("kernel"),
                 f"a {fmt(eff)} {word} needs at least {fmt(eff)} input, got {fmt(padded)}"
                 + (" with padding" if any(padding) else ""),
                 secondary=_previous(state, f"output is {fmt(state.shape)}"),
                 notes=notes, help=_fit_help(node, spatial, padding, kernel))


def _avgpool3d_too_small(node, state: State, kernel) -> Diagnostic:
    """`nn.AvgPool3d` alone checks the input *before* padding against the window."""
    spatial = state.shape[1:]
    notes = ["PyTorch's 3-D average pooling needs the input before padding to be at least "
             "the window in every dimension; padding does not count"]
    if state.trace:
        notes.append(" -> ".join(state.trace))
    room = min(spatial)
    return error("E0301", "window does not fit its input", node.span_of("kernel"),
                 f"a {fmt(kernel)} window needs at least {fmt(kernel)} input, got "
                 f"{fmt(spatial)}", secondary=_previous(state, f"output is {fmt(state.shape)}"),
                 notes=notes, help=f"use a window of at most {room}, e.g. `avgpool {room}`, "
                                   "or `maxpool`, which may pad a smaller input")


def _fit_help(node, spatial, padding, kernel) -> str:
    room = min(n + 2 * p for n, p in zip(spatial, padding))
    if node.op == "conv":
        smaller = room if room % 2 else room - 1
        pad = max(math.ceil((k - n) / 2) for n, k in zip(spatial, kernel))
        if smaller >= 1 and smaller < max(kernel):
            return (f"use `k{smaller}`, or add `p{pad}`, to keep the output at least "
                    + "x".join("1" for _ in spatial))
        return f"add `p{pad}` to keep the output at least " + "x".join("1" for _ in spatial)
    return (f"use a window of at most {room}, e.g. `{node.op} {room}`, or remove this "
            "pooling: the input is already small")


def _floor_warning(w: _Walker, node, state: State, kernel, stride, padding, dilation,
                   ceil: bool) -> None:
    """Warn when flooring silently drops real input rows or columns."""
    if ceil:
        return
    for axis, n in enumerate(state.shape[1:]):
        k, s, p, d = kernel[axis], stride[axis], padding[axis], dilation[axis]
        eff = d * (k - 1) + 1
        dropped = (n + 2 * p - eff) % s - p
        if s > 1 and eff >= s and dropped > 0:
            axes = {1: ("values",), 2: ("rows", "columns"),
                    3: ("slices", "rows", "columns")}[state.rank]
            what = axes[axis]
            w.diagnostics.append(warning(
                "W0101", f"the last {dropped} input {what} are never read",
                node.span_of("stride") if node.op == "conv" else node.span,
                f"stride {s} over {n} {what} leaves {dropped} out",
                notes=[f"{_arith(n, p, k, d, s)} = {(n + 2 * p - eff) // s + 1}: "
                       f"({n} + 2·{p} − {eff}) is not divisible by {s}"],
                help="add `ceil` to keep them" if node.op != "conv" else
                f"pad with `p{p + s - dropped if p else 1}` or change the input size"))
            return


# ---- rules ---------------------------------------------------------------------

def _conv(w: _Walker, node: ir.Conv, state: State):
    if not w.need_spatial(node, state):
        return None
    rank, c = state.rank, state.shape[0]
    kernel = w.expand(node, "kernel", node.kernel, rank)
    stride = w.expand(node, "stride", node.stride, rank)
    dilation = w.expand(node, "dilation", node.dilation, rank)
    if kernel is None or stride is None or dilation is None:
        return None
    if node.padding == "same":
        padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    else:
        padding = w.expand(node, "padding", node.padding, rank)
        if padding is None:
            return None
    if not _groups_ok(w, node, c) or not _padding_mode_ok(w, node, state, padding):
        return None
    if node.padding == "same":
        sizes, rf, jump = state.shape[1:], state.rf, state.jump
        rf = tuple(r + d * (k - 1) * j for r, k, d, j in zip(rf, kernel, dilation, jump))
    else:
        fitted = _window(w, node, state, kernel, stride, padding, dilation)
        if fitted is None:
            return None
        sizes, rf, jump = fitted
    weights = node.out * (c // node.groups) * math.prod(kernel)
    params = weights + (node.out if node.bias else 0)
    macs = params * math.prod(sizes)
    return State((node.out,) + tuple(sizes), rf, jump), params, 0, macs


def _groups_ok(w: _Walker, node: ir.Conv, c: int) -> bool:
    for what, count in (("input", c), ("output", node.out)):
        if count % node.groups:
            fits = [g for g in range(node.groups, 0, -1) if c % g == 0 and node.out % g == 0]
            w.fail(error("E0304", f"{node.groups} groups do not divide the {count} {what} "
                         "channels", node.span_of("groups"), f"{count} % {node.groups} = "
                         f"{count % node.groups}",
                         notes=[f"a grouped convolution splits {c} input and {node.out} "
                                "output channels into equal groups"],
                         help=f"use `g{fits[0]}`" + (f", or `conv {c} ... g{c}` for a "
                                                     "depthwise convolution" if what ==
                                                     "output" else "")))
            return False
    return True


def _padding_mode_ok(w: _Walker, node: ir.Conv, state: State, padding) -> bool:
    if node.padding_mode not in ("reflect", "circular"):
        return True
    for p, n in zip(padding, state.shape[1:]):
        too_big = p >= n if node.padding_mode == "reflect" else p > n
        if too_big:
            limit = "smaller than" if node.padding_mode == "reflect" else "at most"
            w.fail(error("E0307", f"{node.padding_mode} padding must be {limit} the input "
                         "size", node.span_of("padding"), f"padding {p} on an input of {n}",
                         secondary=_previous(state, f"output is {fmt(state.shape)}"),
                         help="use `pad=zeros` or `pad=replicate`, or pad less"))
            return False
    return True


def _pool(w: _Walker, node: ir.Pool, state: State):
    if not w.need_spatial(node, state):
        return None
    rank = state.rank
    kernel = w.expand(node, "kernel", node.kernel, rank)
    stride = w.expand(node, "stride", node.stride, rank)
    padding = w.expand(node, "padding", node.padding, rank)
    dilation = w.expand(node, "dilation", node.dilation, rank)
    if None in (kernel, stride, padding, dilation):
        return None
    for k, p in zip(kernel, padding):
        if p > k // 2:
            w.fail(error("E0308", "pooling padding must be at most half the window",
                         node.span_of("padding"), f"padding {p} with a window of {k}",
                         notes=[f"PyTorch requires padding ≤ ⌊{k}/2⌋ = {k // 2}"],
                         help=f"use `p{k // 2}`" if k // 2 else "remove the padding"))
            return None
    fitted = _window(w, node, state, kernel, stride, padding, dilation, node.ceil)
    if fitted is None:
        return None
    sizes, rf, jump = fitted
    return State((state.shape[0],) + sizes, rf, jump), 0, 0, 0


def _adaptive(w: _Walker, node: ir.AdaptivePool, state: State):
    if not w.need_spatial(node, state):
        return None
    size = w.expand(node, "size", node.size, state.rank)
    if size is None:
        return None
    rf = jump = None
    if state.rf is not None:
        spatial = state.shape[1:]
        rf = tuple(r + (math.ceil(n / o) - 1) * j
                   for r, n, o, j in zip(state.rf, spatial, size, state.jump))
        jump = tuple(j * max(1, n // o) for j, n, o in zip(state.jump, spatial, size))
    return State((state.shape[0],) + size, rf, jump), 0, 0, 0


def _flatten(w: _Walker, node, state: State):
    return State((math.prod(state.shape),), None, None), 0, 0, 0


def _linear(w: _Walker, node: ir.Linear, state: State):
    features = math.prod(state.shape)
    params = features * node.out + (node.out if node.bias else 0)
    return State((node.out,), None, None), params, 0, params


def _batchnorm(w: _Walker, node, state: State):
    channels = state.shape[0]
    return state, 2 * channels, 2 * channels + 1, 0


def _same(w: _Walker, node, state: State):
    return state, 0, 0, 0


_RULES = {ir.Conv: _conv, ir.Pool: _pool, ir.AdaptivePool: _adaptive, ir.Flatten: _flatten,
          ir.Linear: _linear, ir.BatchNorm: _batchnorm, ir.Dropout: _same,
          ir.Activation: _same, ir.Softmax: _same, ir.Identity: _same}
