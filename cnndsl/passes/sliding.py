"""Rules for sliding windows: convolutions (plain and transposed) and pooling.
The sizes come from `cnndsl.ir.windows`; here are the checks PyTorch makes and the
messages that explain them."""

from __future__ import annotations

import math

from cnndsl.diagnostics.diagnostic import Diagnostic, Fix, error, warning
from cnndsl.ir import nodes as ir
from cnndsl.ir import windows
from cnndsl.ir.shapes import fmt
from cnndsl.passes.bind import show
from cnndsl.passes.flow import Cost, Ctx, State, divide, largest_common_divisor, previous


def _window(c: Ctx, node, state: State, kernel, stride, padding, dilation, ceil=False):
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
                 secondary=previous(state, f"output is {fmt(state.shape)}"),
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


def _floor_warning(c: Ctx, node, state: State, kernel, stride, padding, dilation,
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


def _geometry(c: Ctx, node, state: State, names=("kernel", "stride", "dilation")):
    values = [c.expand(node, n, getattr(node, n), state.rank) for n in names]
    return None if any(v is None for v in values) else values


def conv(c: Ctx, node: ir.Conv, state: State):
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


def _groups_ok(c: Ctx, node, channels: int) -> bool:
    for what, count in (("input", channels), ("output", node.out)):
        if count % node.groups:
            best = largest_common_divisor(channels, node.out, node.groups)
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


def _padding_mode_ok(c: Ctx, node: ir.Conv, state: State, padding) -> bool:
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
                         + side, secondary=previous(state, f"output is {fmt(state.shape)}"),
                         help="use `pad=zeros` or `pad=replicate`, or pad less"))
            return False
    return True


def convt(c: Ctx, node: ir.ConvT, state: State):
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
                         f"+ 1 = {out}", secondary=previous(state, f"output is "
                                                             f"{fmt(state.shape)}"),
                         help="pad less"))
            return None
        sizes.append(out)
    rf = jump = None
    if state.rf is not None:
        rf = tuple(r + (math.ceil((d * (k - 1) + 1) / s) - 1) * j
                   for r, k, d, s, j in zip(state.rf, kernel, dilation, stride, state.jump))
        jump = tuple(divide(j, s) for j, s in zip(state.jump, stride))
    weights = state.channels * (node.out // node.groups) * math.prod(kernel)
    bias = node.out if node.bias else 0
    macs = weights * math.prod(state.shape[1:]) + bias * math.prod(sizes)
    return State((node.out,) + tuple(sizes), rf, jump), Cost(weights + bias, 0, macs)


def pool(c: Ctx, node: ir.Pool, state: State):
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
                 f"{fmt(spatial)}", secondary=previous(state, f"output is {fmt(state.shape)}"),
                 notes=notes, help=f"use a window of at most {room}, e.g. `avgpool {room}`, "
                                   "or `maxpool`, which may pad a smaller input")

