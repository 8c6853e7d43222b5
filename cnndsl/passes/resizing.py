"""Rules for layers that resize or rearrange: adaptive pooling, padding,
upsampling, pixel and channel shuffles, channel reductions, flatten and
unflatten."""

from __future__ import annotations

import math
from fractions import Fraction

from cnndsl.diagnostics.diagnostic import Label, error
from cnndsl.ir import nodes as ir
from cnndsl.ir.arithmetic import upsampled
from cnndsl.ir.shapes import fmt, pad_sides
from cnndsl.passes.bind import show
from cnndsl.passes.flow import Cost, Ctx, State, divide, previous, same, start


def adaptive(c: Ctx, node: ir.AdaptivePool, state: State):
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
        jump = tuple(divide(j * n, o) for j, n, o in zip(state.jump, spatial, size))
    return State((state.channels,) + tuple(size), rf, jump), Cost()


def channel_reduce(c: Ctx, node: ir.ChannelReduce, state: State):
    if not c.need_spatial(node, state):
        return None
    return State((1,) + state.shape[1:], state.rf, state.jump), Cost()


def pad(c: Ctx, node: ir.Pad, state: State):
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
                         secondary=previous(state, f"output is {fmt(state.shape)}"),
                         notes=[f"PyTorch needs `{node.mode}` padding {rule}"],
                         help=f"pad by at most {limit}, or use `replicate`"))
            return None
    sizes = tuple(n + b + a for n, b, a in zip(spatial, before, after))
    return State((state.channels,) + sizes, state.rf, state.jump), Cost()


def upsample(c: Ctx, node: ir.Upsample, state: State):
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
        jump = tuple(divide(j, f) for j, f in zip(state.jump, factors))
    return State((state.channels,) + tuple(sizes), rf, jump), Cost()


def _like_sizes(c: Ctx, node: ir.Upsample, state: State) -> list[int] | None:
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


def _upsample_args_ok(c: Ctx, node: ir.Upsample) -> bool:
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


def _align_ok(c: Ctx, node: ir.Upsample) -> bool:
    if node.align and node.mode == "nearest":
        c.fail(error("E0323", "`align` needs an interpolating mode", node.span_of("align"),
                     "with `nearest`", notes=["`align_corners` only changes `linear` and "
                                              "`cubic` interpolation"],
                     help="add `linear`, or remove `align`"))
        return False
    return True


def pixel_shuffle(c: Ctx, node: ir.PixelShuffle, state: State):
    if not c.need_spatial(node, state, ranks=(2,)):
        return None
    r = node.factor
    ch, h, w = state.shape
    if node.op == "pixelshuffle":
        if ch % (r * r):
            c.fail(error("E0317", f"`pixelshuffle {r}` needs channels divisible by {r * r}",
                         node.span, f"{ch} channels: {ch} % {r * r} = {ch % (r * r)}",
                         secondary=previous(state, f"output is {fmt(state.shape)}"),
                         notes=[f"(C·{r}², H, W) becomes (C, H·{r}, W·{r})"],
                         help=f"give the layer before it a multiple of {r * r} channels"))
            return None
        shape = (ch // (r * r), h * r, w * r)
        rf, jump = state.rf, tuple(divide(j, r) for j in state.jump)
    else:
        if h % r or w % r:
            c.fail(error("E0317", f"`pixelunshuffle {r}` needs sizes divisible by {r}",
                         node.span, f"the input is {h}x{w}",
                         secondary=previous(state, f"output is {fmt(state.shape)}"),
                         notes=[f"(C, H·{r}, W·{r}) becomes (C·{r}², H, W)"]))
            return None
        shape = (ch * r * r, h // r, w // r)
        rf = tuple(x + (r - 1) * j for x, j in zip(state.rf, state.jump))
        jump = tuple(j * r for j in state.jump)
    return State(shape, rf, jump), Cost()


def channel_shuffle(c: Ctx, node: ir.ChannelShuffle, state: State):
    if not c.need_spatial(node, state):
        return None
    if state.channels % node.groups:
        c.fail(error("E0320", f"{node.groups} groups do not divide the {state.channels} "
                     "channels", node.span, f"{state.channels} % {node.groups} = "
                     f"{state.channels % node.groups}",
                     secondary=previous(state, f"output is {fmt(state.shape)}")))
        return None
    return same(state), Cost()


def flatten(c: Ctx, node, state: State):
    return State((math.prod(state.shape),), None, None), Cost()


def unflatten(c: Ctx, node: ir.Unflatten, state: State):
    shape = node.shape if isinstance(node.shape, tuple) else (node.shape,)
    if state.rank != 0:
        c.fail(error("E0322", "`unflatten` takes features", node.span,
                     f"its input is {fmt(state.shape)}",
                     secondary=previous(state, f"output is {fmt(state.shape)}"),
                     help="`flatten` first, or leave `unflatten` out"))
        return None
    if math.prod(shape) != state.channels:
        c.fail(error("E0319", "`unflatten` must keep the number of elements", node.span,
                     f"{fmt(shape)} holds {math.prod(shape):,}, the input {state.channels:,}",
                     secondary=previous(state, f"output is {fmt(state.shape)}"),
                     help=f"choose a shape whose product is {state.channels:,}"))
        return None
    return start(tuple(shape), None), Cost()     # a fresh grid: layer() adds trace and span

