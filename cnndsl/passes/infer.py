"""Infer: the output shape, parameters, buffers, multiply-adds, receptive field
and jump of every layer and merge, by PyTorch's own rules.

Pure functions of a node and the `State` flowing into it; the resolve pass
calls them as it walks the network and writes the results onto the nodes
(`ir.Info`). A rule that finds the layer cannot run appends a located
diagnostic and returns None.

Multiply-adds: a convolution or `fc` counts its weights, plus its bias, times
the positions it is applied at (a transposed convolution applies its weights
at every input position, its bias at every output position); pooling, norms,
activations, merges and reshapes count 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

from cnndsl import ir
from cnndsl import windows
from cnndsl.arithmetic import upsampled
from cnndsl.diagnostics import Diagnostic, Fix, Label, error, warning
from cnndsl.passes.bind import show
from cnndsl.shapes import fmt, pad_sides
from cnndsl.source import Span

Shape = tuple[int, ...]
TRACE = 8  # steps kept for the "how did we get here" note
MAX_ELEMENTS = 2**63 - 1   # PyTorch counts a tensor's values in 64 bits


@dataclass(frozen=True)
class State:
    """What flows along a chain: the shape (without batch), the receptive field
    and jump per spatial dim (None once the spatial dims are gone), the last few
    steps that made it, and the element that produced it."""

    shape: Shape
    rf: tuple[int | Fraction, ...] | None     # ints until a layer divides the jump
    jump: tuple[int | Fraction, ...] | None
    trace: tuple[str, ...] = ()
    last: Span | None = None

    @property
    def rank(self) -> int:
        return len(self.shape) - 1

    @property
    def channels(self) -> int:
        return self.shape[0]


@dataclass(frozen=True)
class Cost:
    params: int = 0
    buffers: int = 0
    macs: int = 0


def start(shape: Shape, span: Span | None) -> State:
    rank = len(shape) - 1
    ones = (1,) * rank if rank else None
    return State(shape, ones, ones, (fmt(shape),), span)


def exact(values: tuple[int | Fraction, ...] | None, *, ceil: bool = False):
    """Receptive field or jump for `ir.Info`: ints where whole."""
    if values is None or all(type(v) is int for v in values):
        return values
    out = []
    for v in values:
        if v.denominator == 1:
            out.append(int(v))
        else:
            out.append(math.ceil(v) if ceil else round(float(v), 4))
    return tuple(out)


def _divide(j: int | Fraction, by) -> int | Fraction:
    """A jump divided exactly: an int while it stays whole."""
    value = Fraction(j) / Fraction(by)
    return int(value) if value.denominator == 1 else value


def step(state: State, word: str, shape: Shape) -> tuple[str, ...]:
    """The trace with one more step, keeping the input and the last few: O(1)."""
    trace = state.trace + (f"{word} {fmt(shape)}",)
    return trace if len(trace) <= TRACE else (trace[0], "…") + trace[-(TRACE - 2):]


def info(before: State, after: State, cost: Cost) -> ir.Info:
    return ir.Info(input=before.shape, output=after.shape, params=cost.params,
                   buffers=cost.buffers, macs=cost.macs, rf=exact(after.rf, ceil=True),
                   jump=exact(after.jump))


def layer(node, state: State, diagnostics: list[Diagnostic],
          like: State | None = None) -> tuple[State, Cost] | None:
    """The state after `node` and what it costs, or None (with a diagnostic).
    `like`: the state of the label an `upsample like=@NAME` follows."""
    result = _RULES[type(node)](_Ctx(diagnostics, like), node, state)
    if result is None:
        return None
    out, cost = result
    if _too_large(node, out.shape, state, diagnostics):
        return None
    return State(out.shape, out.rf, out.jump, step(state, _word(node), out.shape), node.span), cost


def _too_large(node, shape: Shape, state: State, diagnostics: list[Diagnostic]) -> bool:
    """True (with E0325) when `shape` holds more values than a PyTorch tensor can count."""
    if math.prod(shape) <= MAX_ELEMENTS:
        return False
    shown = fmt(shape) if len(fmt(shape)) <= 40 else "the output"
    diagnostics.append(error(
        "E0325", "this layer's output is too large for PyTorch", node.span,
        f"{shown} holds about 10^{len(str(math.prod(shape))) - 1} values",
        secondary=_previous(state, f"output is {fmt(state.shape)}"),
        notes=["a tensor holds at most 2^63 − 1 values"], help="upsample or stride less"))
    return True


def _word(node) -> str:
    """The layer's word as written (`conv`, `maxpool`)."""
    return node.text.split()[0] if node.text else node.op


class _Ctx:
    def __init__(self, diagnostics: list[Diagnostic], like: State | None = None) -> None:
        self.diagnostics = diagnostics
        self.like = like

    def fail(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def need_spatial(self, node, state: State, ranks=(1, 2, 3)) -> bool:
        if state.rank in ranks:
            return True
        word = _word(node)
        if state.rank == 0:
            self.fail(error("E0309", f"`{word}` needs spatial input", node.span,
                            f"its input is {fmt(state.shape)} features",
                            secondary=_previous(state, "flattened here"),
                            help="move it before the first `fc` or `flatten`"))
        else:
            dims = " or ".join(f"{r}-D" for r in ranks)
            self.fail(error("E0321", f"`{word}` works on {dims} input", node.span,
                            f"its input is {state.rank}-D: {fmt(state.shape)}",
                            secondary=_previous(state, f"output is {fmt(state.shape)}")))
        return False

    def expand(self, node, field: str, value, rank: int) -> tuple | None:
        if not isinstance(value, tuple):
            return (value,) * rank
        if len(value) == rank:
            return tuple(value)
        self.fail(error("E0311", f"a {len(value)}-D {field} on a {rank}-D input",
                        node.span_of(field), f"{field} {fmt(value)}",
                        help=f"give one number, or {rank} joined by `x`"))
        return None


def _previous(state: State, text: str) -> list[Label]:
    return [Label(span=state.last, text=text)] if state.last is not None else []


def _same(state: State) -> State:
    return State(state.shape, state.rf, state.jump)


# ---- windows (conv and pooling) -----------------------------------------------

def _window(c: _Ctx, node, state: State, kernel, stride, padding, dilation, ceil=False):
    """Output spatial sizes, receptive field and jump of a sliding window.
    `padding` is a (before, after) pair per dim. None (with a diagnostic) when
    the window does not fit."""
    sizes = []
    for axis, n in enumerate(state.shape[1:]):
        k, s, (p0, p1), d = kernel[axis], stride[axis], padding[axis], dilation[axis]
        out = windows.size(n, k, s, p0, p1, d, ceil)
        if out < 1:
            c.fail(_does_not_fit(node, state, kernel, padding, dilation, stride, axis))
            return None
        sizes.append(out)
    rf = jump = None
    if state.rf is not None:
        rf = tuple(r + d * (k - 1) * j for r, k, d, j in zip(state.rf, kernel, dilation,
                                                             state.jump))
        jump = tuple(j * s for j, s in zip(state.jump, stride))
    _floor_warning(c, node, state, kernel, stride, padding, dilation, ceil)
    return tuple(sizes), rf, jump


def _does_not_fit(node, state: State, kernel, padding, dilation, stride, axis) -> Diagnostic:
    spatial = state.shape[1:]
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = tuple(n + p0 + p1 for n, (p0, p1) in zip(spatial, padding))
    word = "kernel" if node.op == "conv" else "window"
    n, (p, _), k, d, s = spatial[axis], padding[axis], kernel[axis], dilation[axis], stride[axis]
    text, result = windows.formula(n, k, s, p, d, spaced=True)
    notes = [f"{text} = {result}, below 1"]
    if state.trace:
        notes.append(" -> ".join(state.trace))
    return error("E0301", f"{word} does not fit its input", node.span_of("kernel"),
                 f"a {fmt(eff)} {word} needs at least {fmt(eff)} input, got {fmt(padded)}"
                 + (" with padding" if any(p0 or p1 for p0, p1 in padding) else ""),
                 secondary=_previous(state, f"output is {fmt(state.shape)}"),
                 notes=notes, help=_fit_help(node, spatial, padding, kernel, eff))


def _fit_help(node, spatial, padding, kernel, eff) -> str:
    """Two ways out for a conv (a smaller kernel, or padding), so no fix to apply."""
    room = min(n + p0 + p1 for n, (p0, p1) in zip(spatial, padding))
    ones = "x".join("1" for _ in spatial)
    if node.op == "conv":
        smaller = room if room % 2 else room - 1
        pad = max(math.ceil((e - n) / 2) for n, e in zip(spatial, eff))
        if 1 <= smaller < max(kernel):
            return f"use `k{smaller}`, or add `p{pad}`, to keep the output at least {ones}"
        return f"add `p{pad}` to keep the output at least {ones}"
    return (f"use a window of at most {room}, e.g. `{node.op} {room}`, or remove this "
            "pooling: the input is already small")


def _floor_warning(c: _Ctx, node, state: State, kernel, stride, padding, dilation,
                   ceil: bool) -> None:
    """Warn when flooring silently drops real input rows or columns."""
    if ceil:
        return
    for axis, n in enumerate(state.shape[1:]):
        k, s, (p, p1), d = kernel[axis], stride[axis], padding[axis], dilation[axis]
        eff = d * (k - 1) + 1
        dropped = (n + p + p1 - eff) % s - p1
        if s > 1 and eff >= s and dropped > 0:
            axes = {1: ("values",), 2: ("rows", "columns"),
                    3: ("slices", "rows", "columns")}[state.rank]
            what = axes[axis]
            last = f"the last {dropped} input {what} are" if dropped > 1 else \
                f"the last input {what[:-1]} is"
            text, value = windows.formula(n, k, s, p, d, spaced=True)
            c.diagnostics.append(warning(
                "W0101", f"{last} never read",
                node.span_of("stride") if node.op == "conv" else node.span,
                f"stride {s} over {n} {what} leaves {dropped} out",
                notes=[f"{text} = {value}: ({n} + 2·{p} − {eff}) is not divisible by {s}"],
                help="add `ceil` to keep them" if node.op != "conv" else
                f"pad with `p{p + s - dropped if p else 1}` or change the input size"))
            return


# ---- convolutions -----------------------------------------------------------------

def _geometry(c: _Ctx, node, state: State, names=("kernel", "stride", "dilation")):
    values = [c.expand(node, n, getattr(node, n), state.rank) for n in names]
    return None if any(v is None for v in values) else values


def _conv(c: _Ctx, node: ir.Conv, state: State):
    if not c.need_spatial(node, state):
        return None
    geometry = _geometry(c, node, state)
    if geometry is None:
        return None
    kernel, stride, dilation = geometry
    if node.padding == "same":
        if any(s > 1 for s in stride):
            c.fail(_same_with_stride(node, kernel, stride, dilation))
            return None
        padding = windows.same_padding(kernel, dilation)
    else:
        padding = c.expand(node, "padding", node.padding, state.rank)
        if padding is None:
            return None
        padding = tuple((p, p) for p in padding)
    if not _groups_ok(c, node, state.channels) or not _padding_mode_ok(c, node, state, padding):
        return None
    fitted = _window(c, node, state, kernel, stride, padding, dilation)
    if fitted is None:
        return None
    sizes, rf, jump = fitted
    weights = node.out * (state.channels // node.groups) * math.prod(kernel)
    params = weights + (node.out if node.bias else 0)
    return State((node.out,) + sizes, rf, jump), Cost(params, 0, params * math.prod(sizes))


def _same_with_stride(node: ir.Conv, kernel, stride, dilation) -> Diagnostic:
    """`same` with a stride: the fix pads half the dilated kernel's extent, `d·(k−1)/2`,
    which gives ⌈n/s⌉ (`k3 d2` spans 5 pixels: `p2`, not `p1`)."""
    fixes, fix = [], ""
    extents = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if all(e % 2 for e in extents):
        fix = "p" + "x".join(str((e - 1) // 2) for e in extents[:1 if len(set(extents)) == 1
                                                                  else None])
        fixes = [Fix(span=node.span_of("padding"), replacement=fix)]
    if set(stride) == {2}:
        effect = "halves the size with this stride"
    elif len(set(stride)) == 1:
        effect = f"divides the size by {stride[0]}, rounding up"
    else:
        effect = "divides each size by its stride, rounding up"
    return error("E0305", "`same` padding needs stride 1", node.span_of("padding"),
                 f"stride is {show(node.stride)}",
                 help=(f"replace `same` with `{fix}`, which {effect}"
                       if fix else "drop `same` and give the padding with `p`"), fixes=fixes)


def _groups_ok(c: _Ctx, node, channels: int) -> bool:
    for what, count in (("input", channels), ("output", node.out)):
        if count % node.groups:
            best = _largest_common_divisor(channels, node.out, node.groups)
            c.fail(error(
                "E0304", f"{node.groups} groups do not divide the {count} {what} channels",
                node.span_of("groups"), f"{count} % {node.groups} = {count % node.groups}",
                notes=[f"a grouped convolution splits {channels} input and {node.out} output "
                       "channels into equal groups"],
                help=f"use `g{best}`" + (f", or `conv {channels} ... g{channels}` for a "
                                         "depthwise convolution" if what == "output" else ""),
                fixes=[Fix(span=node.span_of("groups"), replacement=f"g{best}")]
                if dict(node.spans).get("groups") and node.symbol("groups") is None else []))
            return False
    return True


def _largest_common_divisor(a: int, b: int, at_most: int) -> int:
    """The largest number <= at_most dividing both a and b (O(sqrt(gcd)))."""
    g = math.gcd(a, b)
    best = 1
    for i in range(1, math.isqrt(g) + 1):
        if g % i == 0:
            for candidate in (i, g // i):
                if candidate <= at_most:
                    best = max(best, candidate)
    return best


def _padding_mode_ok(c: _Ctx, node: ir.Conv, state: State, padding) -> bool:
    if node.padding_mode not in ("reflect", "circular"):
        return True
    for (p0, p1), n in zip(padding, state.shape[1:]):
        p = max(p0, p1)
        too_big = p >= n if node.padding_mode == "reflect" else p > n
        if too_big:
            limit = "smaller than" if node.padding_mode == "reflect" else "at most"
            side = " (`same` with an even kernel pads one side more)" if p0 != p1 else ""
            c.fail(error("E0307", f"{node.padding_mode} padding must be {limit} the input "
                         "size", node.span_of("padding"), f"padding {p} on an input of {n}"
                         + side, secondary=_previous(state, f"output is {fmt(state.shape)}"),
                         help="use `pad=zeros` or `pad=replicate`, or pad less"))
            return False
    return True


def _convt(c: _Ctx, node: ir.ConvT, state: State):
    if not c.need_spatial(node, state):
        return None
    geometry = _geometry(c, node, state, ("kernel", "stride", "dilation", "padding",
                                          "output_padding"))
    if geometry is None or not _groups_ok(c, node, state.channels):
        return None
    kernel, stride, dilation, padding, extra = geometry
    sizes = []
    for axis, n in enumerate(state.shape[1:]):
        k, s, d, p, o = kernel[axis], stride[axis], dilation[axis], padding[axis], extra[axis]
        if o >= max(s, d):
            c.fail(error("E0315", "`output_padding` must be below the stride or the dilation",
                         node.span_of("output_padding"),
                         f"output_padding {o} with stride {s} and dilation {d}",
                         notes=[f"PyTorch requires output_padding < max(stride, dilation) = "
                                f"{max(s, d)}"],
                         help=f"use `output_padding={max(s, d) - 1}` or less"))
            return None
        out = (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        if out < 1:
            c.fail(error("E0306", "the transposed convolution's output is empty",
                         node.span_of("padding"), f"({n}−1)·{s} − 2·{p} + {d}·({k}−1) + {o} "
                         f"+ 1 = {out}", secondary=_previous(state, f"output is "
                                                             f"{fmt(state.shape)}"),
                         help="pad less"))
            return None
        sizes.append(out)
    rf = jump = None
    if state.rf is not None:
        rf = tuple(r + (math.ceil((d * (k - 1) + 1) / s) - 1) * j
                   for r, k, d, s, j in zip(state.rf, kernel, dilation, stride, state.jump))
        jump = tuple(_divide(j, s) for j, s in zip(state.jump, stride))
    weights = state.channels * (node.out // node.groups) * math.prod(kernel)
    bias = node.out if node.bias else 0
    macs = weights * math.prod(state.shape[1:]) + bias * math.prod(sizes)
    return State((node.out,) + tuple(sizes), rf, jump), Cost(weights + bias, 0, macs)


# ---- pooling and resizing -----------------------------------------------------------

def _pool(c: _Ctx, node: ir.Pool, state: State):
    if not c.need_spatial(node, state):
        return None
    geometry = _geometry(c, node, state, ("kernel", "stride", "padding", "dilation"))
    if geometry is None:
        return None
    kernel, stride, padding, dilation = geometry
    for k, p in zip(kernel, padding):
        if p > k // 2:
            c.fail(error("E0308", "pooling padding must be at most half the window",
                         node.span_of("padding"), f"padding {p} with a window of {k}",
                         notes=[f"PyTorch requires padding ≤ ⌊{k}/2⌋ = {k // 2}"],
                         help=f"use `p{k // 2}`" if k // 2 else "remove the padding",
                         fixes=_pool_padding_fix(node, kernel)))
            return None
    if node.op == "avgpool" and state.rank == 3 and any(
            n < k for n, k in zip(state.shape[1:], kernel)):
        c.fail(_avgpool3d_too_small(node, state, kernel))
        return None
    fitted = _window(c, node, state, kernel, stride, tuple((p, p) for p in padding), dilation,
                     node.ceil)
    if fitted is None:
        return None
    sizes, rf, jump = fitted
    return State((state.channels,) + sizes, rf, jump), Cost()


def _pool_padding_fix(node: ir.Pool, kernel) -> list[Fix]:
    """`p{k//2}` in place of the padding, when that is one exact edit."""
    half = kernel[0] // 2
    if not half or len(set(kernel)) > 1 or node.symbol("padding") is not None:
        return []
    if "padding" not in dict(node.spans):
        return []
    return [Fix(span=node.span_of("padding"), replacement=f"p{half}")]


def _avgpool3d_too_small(node, state: State, kernel) -> Diagnostic:
    """`nn.AvgPool3d` alone checks the input *before* padding against the window."""
    spatial = state.shape[1:]
    notes = ["PyTorch's 3-D average pooling needs the input before padding to be at least "
             "the window in every dimension; padding does not count"]
    if state.trace:
        notes.append(" -> ".join(state.trace))
    room = min(spatial)
    return error("E0312", "window does not fit its unpadded input", node.span_of("kernel"),
                 f"a {fmt(kernel)} window needs at least {fmt(kernel)} input, got "
                 f"{fmt(spatial)}", secondary=_previous(state, f"output is {fmt(state.shape)}"),
                 notes=notes, help=f"use a window of at most {room}, e.g. `avgpool {room}`, "
                                   "or `maxpool`, which may pad a smaller input")


def _adaptive(c: _Ctx, node: ir.AdaptivePool, state: State):
    if not c.need_spatial(node, state):
        return None
    size = c.expand(node, "size", node.size, state.rank)
    if size is None:
        return None
    rf = jump = None
    if state.rf is not None:
        spatial = state.shape[1:]
        # the largest window PyTorch uses: ceil((i+1)n/o) - floor(in/o) over outputs i
        windows = [max(-(-(i + 1) * n // o) - (i * n) // o for i in range(min(o, 4096)))
                   if o <= 4096 else -(-n // o) + 1 for n, o in zip(spatial, size)]
        rf = tuple(r + (w - 1) * j for r, w, j in zip(state.rf, windows, state.jump))
        jump = tuple(_divide(j * n, o) for j, n, o in zip(state.jump, spatial, size))
    return State((state.channels,) + tuple(size), rf, jump), Cost()


def _channel_reduce(c: _Ctx, node: ir.ChannelReduce, state: State):
    if not c.need_spatial(node, state):
        return None
    return State((1,) + state.shape[1:], state.rf, state.jump), Cost()


def _pad(c: _Ctx, node: ir.Pad, state: State):
    if node.size is None and node.before is None and node.after is None:
        c.fail(error("E0422", "`pad` needs a size", node.span, "no padding given",
                     notes=["usage: `pad P [reflect | replicate | circular] [value=V]`, or "
                            "`pad before=S after=S`"], help="for example `pad 1`"))
        return None
    if node.size is not None and (node.before is not None or node.after is not None):
        side = "before" if node.before is not None else "after"
        c.fail(error("E0422", "`pad` takes a size or `before=`/`after=`, not both",
                     node.span_of(side), f"`{side}=` as well as a size",
                     secondary=[Label(span=node.span_of("size"), text="the size")],
                     help="`pad P` pads both sides; keep one form"))
        return None
    if node.value is not None and node.mode != "zeros":
        c.fail(error("E0422", f"`value=` fills only a constant pad, not `{node.mode}`",
                     node.span_of("value"), f"with `{node.mode}`",
                     help=f"remove `value=`, or `{node.mode}`"))
        return None
    if not c.need_spatial(node, state):
        return None
    for field in ("size", "before", "after"):
        value = getattr(node, field)
        if value is not None and c.expand(node, field, value, state.rank) is None:
            return None
    before, after = pad_sides(node, state.rank)
    spatial = state.shape[1:]
    for n, b, a in zip(spatial, before, after):
        limit = n - 1 if node.mode == "reflect" else n
        if node.mode in ("reflect", "circular") and max(b, a) > limit:
            field = "size" if node.size is not None else ("before" if b > limit else "after")
            rule = ("below the size: a reflection does not repeat the edge"
                    if node.mode == "reflect" else
                    "at most the size: a circular pad wraps around once")
            c.fail(error("E0423", f"`{node.mode}` padding larger than the input",
                         node.span_of(field), f"pads {max(b, a)} on a size of {n}",
                         secondary=_previous(state, f"output is {fmt(state.shape)}"),
                         notes=[f"PyTorch needs `{node.mode}` padding {rule}"],
                         help=f"pad by at most {limit}, or use `replicate`"))
            return None
    sizes = tuple(n + b + a for n, b, a in zip(spatial, before, after))
    return State((state.channels,) + sizes, state.rf, state.jump), Cost()


def _upsample(c: _Ctx, node: ir.Upsample, state: State):
    if not c.need_spatial(node, state) or not _upsample_args_ok(c, node):
        return None
    if node.mode == "cubic" and state.rank != 2:
        c.fail(error("E0318", "`cubic` upsampling is 2-D only", node.span_of("mode"),
                     f"the input is {state.rank}-D: {fmt(state.shape)}",
                     help="use `linear` (trilinear in 3-D, linear in 1-D) or `nearest`"))
        return None
    if node.like is not None:
        sizes = _like_sizes(c, node, state)
        if sizes is None:
            return None
        factors = [Fraction(o, n) for o, n in zip(sizes, state.shape[1:])]
    elif node.size is not None:
        sizes = c.expand(node, "size", node.size, state.rank)
        if sizes is None:
            return None
        factors = [Fraction(o, n) for o, n in zip(sizes, state.shape[1:])]
    else:
        scale = c.expand(node, "scale", node.scale, state.rank)
        if scale is None:
            return None
        sizes = [upsampled(n, f) for n, f in zip(state.shape[1:], scale)]
        factors = [Fraction(str(f)) for f in scale]
        if any(s < 1 for s in sizes):
            c.fail(error("E0306", "upsampling makes the input empty", node.span_of("scale"),
                         f"{fmt(state.shape[1:])} × {show(node.scale)} rounds down to "
                         f"{fmt(tuple(sizes))}", help="use a larger factor"))
            return None
    taps = {"nearest": 1, "linear": 2, "cubic": 4}[node.mode]
    rf = jump = None
    if state.rf is not None:
        rf = tuple(r + (taps - 1) * j for r, j in zip(state.rf, state.jump))
        jump = tuple(_divide(j, f) for j, f in zip(state.jump, factors))
    return State((state.channels,) + tuple(sizes), rf, jump), Cost()


def _like_sizes(c: _Ctx, node: ir.Upsample, state: State) -> list[int] | None:
    """The spatial size of the label `upsample like=@NAME` follows (None: not known,
    or not of the input's rank, with E0427)."""
    like = c.like
    if like is None:
        return None     # the label was unknown or unknowable: said where it is used
    if like.rank != state.rank:
        have = f"{like.rank}-D spatial" if like.rank else "features, not spatial"
        c.fail(error("E0427", f"`upsample like=@{node.like}` needs a tensor of the input's rank",
                     node.span_of("like"),
                     f"`@{node.like}` is {fmt(like.shape)} ({have}); the input is "
                     f"{fmt(state.shape)} ({state.rank}-D)",
                     help="follow a label taken before the first `fc` or `flatten`, "
                          "of the same rank"))
        return None
    return list(like.shape[1:])


def _upsample_args_ok(c: _Ctx, node: ir.Upsample) -> bool:
    if node.like is not None and (node.size is not None or node.scale is not None):
        other = "size" if node.size is not None else "scale"
        c.fail(error("E0405", "`upsample` takes one of a factor, a size or `like=`",
                     node.span_of("like"), f"`like=` as well as a {other}",
                     secondary=[Label(span=node.span_of(other), text=f"the {other}")],
                     help="keep one of them"))
        return False
    if node.like is not None:
        return _align_ok(c, node)
    if node.size is None and node.scale is None:
        c.fail(error("E0401", "`upsample` needs a factor or a size", node.span,
                     "neither given", notes=["usage: `upsample F [nearest | linear | cubic] "
                                             "[align]`, or `upsample size=S`"],
                     help="for example `upsample 2`"))
        return False
    if node.size is not None and node.scale is not None:
        c.fail(error("E0405", "`upsample` takes a factor or a size, not both",
                     node.span_of("size"), "a size as well as a factor",
                     secondary=[Label(span=node.span_of("scale"), text="the factor")],
                     help="keep one of them"))
        return False
    return _align_ok(c, node)


def _align_ok(c: _Ctx, node: ir.Upsample) -> bool:
    if node.align and node.mode == "nearest":
        c.fail(error("E0323", "`align` needs an interpolating mode", node.span_of("align"),
                     "with `nearest`", notes=["`align_corners` only changes `linear` and "
                                              "`cubic` interpolation"],
                     help="add `linear`, or remove `align`"))
        return False
    return True


def _pixel_shuffle(c: _Ctx, node: ir.PixelShuffle, state: State):
    if not c.need_spatial(node, state, ranks=(2,)):
        return None
    r = node.factor
    ch, h, w = state.shape
    if node.op == "pixelshuffle":
        if ch % (r * r):
            c.fail(error("E0317", f"`pixelshuffle {r}` needs channels divisible by {r * r}",
                         node.span, f"{ch} channels: {ch} % {r * r} = {ch % (r * r)}",
                         secondary=_previous(state, f"output is {fmt(state.shape)}"),
                         notes=[f"(C·{r}², H, W) becomes (C, H·{r}, W·{r})"],
                         help=f"give the layer before it a multiple of {r * r} channels"))
            return None
        shape = (ch // (r * r), h * r, w * r)
        rf, jump = state.rf, tuple(_divide(j, r) for j in state.jump)
    else:
        if h % r or w % r:
            c.fail(error("E0317", f"`pixelunshuffle {r}` needs sizes divisible by {r}",
                         node.span, f"the input is {h}x{w}",
                         secondary=_previous(state, f"output is {fmt(state.shape)}"),
                         notes=[f"(C, H·{r}, W·{r}) becomes (C·{r}², H, W)"]))
            return None
        shape = (ch * r * r, h // r, w // r)
        rf = tuple(x + (r - 1) * j for x, j in zip(state.rf, state.jump))
        jump = tuple(j * r for j in state.jump)
    return State(shape, rf, jump), Cost()


def _channel_shuffle(c: _Ctx, node: ir.ChannelShuffle, state: State):
    if not c.need_spatial(node, state):
        return None
    if state.channels % node.groups:
        c.fail(error("E0320", f"{node.groups} groups do not divide the {state.channels} "
                     "channels", node.span, f"{state.channels} % {node.groups} = "
                     f"{state.channels % node.groups}",
                     secondary=_previous(state, f"output is {fmt(state.shape)}")))
        return None
    return _same(state), Cost()


# ---- reshapes ---------------------------------------------------------------------------

def _flatten(c: _Ctx, node, state: State):
    return State((math.prod(state.shape),), None, None), Cost()


def _unflatten(c: _Ctx, node: ir.Unflatten, state: State):
    shape = node.shape if isinstance(node.shape, tuple) else (node.shape,)
    if state.rank != 0:
        c.fail(error("E0322", "`unflatten` takes features", node.span,
                     f"its input is {fmt(state.shape)}",
                     secondary=_previous(state, f"output is {fmt(state.shape)}"),
                     help="`flatten` first, or leave `unflatten` out"))
        return None
    if math.prod(shape) != state.channels:
        c.fail(error("E0319", "`unflatten` must keep the number of elements", node.span,
                     f"{fmt(shape)} holds {math.prod(shape):,}, the input {state.channels:,}",
                     secondary=_previous(state, f"output is {fmt(state.shape)}"),
                     help=f"choose a shape whose product is {state.channels:,}"))
        return None
    return start(tuple(shape), None), Cost()     # a fresh grid: layer() adds trace and span


def _linear(c: _Ctx, node: ir.Linear, state: State):
    features = math.prod(state.shape)
    params = features * node.out + (node.out if node.bias else 0)
    return State((node.out,), None, None), Cost(params, 0, params)


# ---- layers that keep the shape ------------------------------------------------------

def _norm(c: _Ctx, node: ir.Norm, state: State):
    ch = state.channels
    if node.op == "instancenorm" and not c.need_spatial(node, state):
        return None
    if node.op == "instancenorm" and math.prod(state.shape[1:]) == 1:
        c.fail(error("E0324", "instance norm needs more than one position", node.span,
                     f"the input is {fmt(state.shape)}: one value per channel",
                     secondary=_previous(state, f"output is {fmt(state.shape)}"),
                     notes=["it normalises each channel over its positions; over one, "
                            "PyTorch refuses"],
                     help="move it before the pooling that made the input 1x1"))
        return None
    if node.op == "groupnorm" and ch % node.groups:
        fits = _largest_common_divisor(ch, ch, node.groups)
        c.fail(error("E0316", f"{node.groups} groups do not divide the {ch} channels",
                     node.span, f"{ch} % {node.groups} = {ch % node.groups}",
                     secondary=_previous(state, f"output is {fmt(state.shape)}"),
                     help=f"use `groupnorm {fits}`"))
        return None
    if node.op == "batchnorm":
        return _same(state), Cost(2 * ch, 2 * ch + 1)
    if node.op == "instancenorm":
        return _same(state), Cost(2 * ch if node.affine else 0)
    return _same(state), Cost(2 * ch)


def _per_channel(c: _Ctx, node, state: State):
    return _same(state), Cost(state.channels)


def _free(c: _Ctx, node, state: State):
    return _same(state), Cost()


_RULES = {ir.Conv: _conv, ir.ConvT: _convt, ir.Pool: _pool, ir.AdaptivePool: _adaptive,
          ir.ChannelReduce: _channel_reduce, ir.Pad: _pad,
          ir.Upsample: _upsample, ir.PixelShuffle: _pixel_shuffle,
          ir.ChannelShuffle: _channel_shuffle, ir.Flatten: _flatten, ir.Unflatten: _unflatten,
          ir.Linear: _linear, ir.Norm: _norm, ir.Scale: _per_channel, ir.Dropout: _free,
          ir.Softmax: _free, ir.Identity: _free}


def _activation(c: _Ctx, node: ir.Activation, state: State):
    return (_per_channel if node.op == "prelu" else _free)(c, node, state)


_RULES[ir.Activation] = _activation


# ---- merges ---------------------------------------------------------------------------

def split_input(keyword: Span, count: int, state: State,
                diagnostics: list[Diagnostic]) -> State | None:
    """The input of each branch of `split`: an equal share of the channels."""
    if state.channels % count:
        diagnostics.append(error(
            "E0314", f"{count} branches do not split {state.channels} channels equally",
            keyword, f"{state.channels} % {count} = {state.channels % count}",
            secondary=_previous(state, f"output is {fmt(state.shape)}"),
            help=f"use a number of branches that divides {state.channels}"))
        return None
    return State((state.channels // count,) + state.shape[1:], state.rf, state.jump,
                 state.trace, state.last)


@dataclass(frozen=True)
class Branch:
    """One branch's result, for a merge: its state, where it ends, and how to
    name it in a message."""

    state: State
    where: Span
    what: str          # "output", "the input", "@e1"
    trace: tuple[str, ...]


def merge(node: ir.Merge, state: State, branches: list[Branch],
          diagnostics: list[Diagnostic]) -> State | None:
    """The state after a merge of branches, or None (with a diagnostic)."""
    shapes = [b.state.shape for b in branches]
    shape = _merged_shape(node, shapes)
    if shape is None:
        diagnostics.append(_mismatch(node, branches))
        return None
    if _too_large(node, shape, state, diagnostics):
        return None
    states = [b.state for b in branches]
    rf = jump = None
    if len(shape) > 1 and all(s.rf is not None for s in states):
        rf, jump = _merged_grid(shape, states)
    word = node.form or node.op
    return State(shape, rf, jump, step(state, word, shape), node.span)


def _merged_grid(shape: Shape, states: list[State]) -> tuple[tuple, tuple]:
    """Receptive field and jump after a merge, per spatial dim: from the operands
    that have the merge's full size in that dim. An operand broadcast from size 1
    (a global branch) does not move the grid."""
    rf, jump = [], []
    for d, size in enumerate(shape[1:]):
        full = [s for s in states if s.shape[1 + d] == size]
        rf.append(max(s.rf[d] for s in full))
        jump.append(max(s.jump[d] for s in full))
    return tuple(rf), tuple(jump)


def _merged_shape(node: ir.Merge, shapes: list[Shape]) -> Shape | None:
    if len({len(s) for s in shapes}) > 1:
        return None
    if node.op in ("concat", "split"):
        if len({s[1:] for s in shapes}) > 1:
            return None
        return (sum(s[0] for s in shapes),) + shapes[0][1:]
    if node.op == "add":
        return shapes[0] if len(set(shapes)) == 1 else None
    # mul broadcasts in every dimension, channels included: each operand has the
    # result's size or 1 there
    result = tuple(max(sizes) for sizes in zip(*shapes))
    if any(n not in (1, r) for s in shapes for n, r in zip(s, result)):
        return None
    return result


_MISMATCH = {
    "concat": ("E0302", "spatial sizes of `concat` branches differ",
               "make every branch keep the same spatial size: pad convolutions (`p1` for "
               "`k3`) and use the same strides"),
    "split": ("E0302", "spatial sizes of `split` branches differ",
              "make every branch keep the same spatial size"),
    "add": ("E0303", "shapes of `add` branches differ", "make every branch produce the same "
            "shape"),
    "mul": ("E0313", "shapes of `mul` branches do not fit",
            "in every dimension (channels included) give each branch the result's size or 1 "
            "(`gap` makes the spatial size 1, `channelmean` the channels)"),
}


#: what `residual(...)` and `gate(...)` call their two branches, as the user sees them
_FORM_PARTS = {"residual": ("the input (the skip path)", "the body"),
               "gate": ("the input", "the gate")}


def _mismatch(node: ir.Merge, branches: list[Branch]) -> Diagnostic:
    labels = [Label(span=b.where, text=f"{b.what} is {fmt(b.state.shape)}") for b in branches]
    primary = labels[-1]
    notes = [f"branch {i + 1}{' (' + b.what + ')' if b.what.startswith('@') else ''}: "
             f"{fmt(b.state.shape)}" for i, b in enumerate(branches)]
    if node.form in _FORM_PARTS:   # one branch written, the other implied: name them
        notes = [f"{part}: {fmt(b.state.shape)}"
                 for part, b in zip(_FORM_PARTS[node.form], branches)]
    if any(b.what.startswith("@") for b in branches):
        notes += [f"path of branch {i + 1}: " + " -> ".join(b.trace)
                  for i, b in enumerate(branches) if b.trace]
    code, message, fix = _MISMATCH[node.op]
    if node.form == "residual":
        message = "residual body changes the shape"
        fix = ("match the body's output to its input, or project the skip path: "
               f"`add(conv {branches[-1].state.shape[0]} k1 ..., <body>)`")
    elif node.form == "gate":
        message = "the gate's shape does not fit its input"
    return error(code, message, primary.span, primary.text, secondary=labels[:-1],
                 notes=notes, help=fix)


def keep(state: State, word: str, span: Span) -> State:
    """The state past a layer that keeps its input's shape but was written wrongly."""
    return State(state.shape, state.rf, state.jump, step(state, word, state.shape), span)


def with_trace(state: State, trace: tuple[str, ...]) -> State:
    return replace(state, trace=trace)
