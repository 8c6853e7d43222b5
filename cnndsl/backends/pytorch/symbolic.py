"""Symbolic spatial sizes for the shape comments of generated block classes.

A block class serves every use of the block, so its comments cannot carry the
numbers of one use: they say `(B, c * 4, H, W)` or `(B, c, (H + 1) // 2, ...)`,
in terms of the block input's sizes, as nanoGPT writes `(B, nh, T, hs)`.

Each spatial size is `⌊(f·X + a) / m⌋` of the input's size X (or a constant
after adaptive pooling); a convolution or pooling window maps that form to
another of the same form exactly, since ⌊(⌊y/m⌋ + t)/s⌋ = ⌊(y + t·m)/(m·s)⌋.
Where a layer's geometry depends on a block parameter (`stride=s`), no such
form exists: the size is then an expression tree (`cnndsl.ir.expr`) over the input
size and the parameters, `(H + k // 2 * 2 - k) // s + 1`. Where a size cannot be
written either way (a `ceil` window, upsampling a divided size), `advance`
returns None and the class keeps the numbers of its first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from cnndsl.ir import expr as E
from cnndsl.ir import nodes as ir
from cnndsl.ir import windows
from cnndsl.ir.shapes import pad_sides
from cnndsl.ir.windows import per_axis, same_padding

NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


#: the most nodes a size's tree may have and still be written in a comment
MAX_TREE = 200


@dataclass(frozen=True)
class Dim:
    """`⌊(f·var + a) / m⌋`, the constant `const`, or a `tree` over the input's
    sizes (names `H`, `W`, ...) and block parameters."""

    var: str
    f: int = 1
    a: int = 0
    m: int = 1
    const: int | None = None
    tree: E.Expr | None = None

    def value(self, sizes: dict[str, int], params: dict | None = None) -> int:
        """The size for concrete input sizes (`{"H": 28, "W": 28}`) and parameters."""
        if self.tree is not None:
            return E.evaluate(self.tree, {**(params or {}), **sizes})
        if self.const is not None:
            return self.const
        return (self.f * sizes[self.var] + self.a) // self.m

    def as_tree(self) -> E.Expr:
        if self.tree is not None:
            return self.tree
        if self.const is not None:
            return E.Const(self.const)
        scaled = E.total([E.mul(E.Name(self.var), E.Const(self.f)), E.Const(self.a)])
        return E.floordiv(scaled, E.Const(self.m))

    def render(self) -> str:
        if self.tree is not None:
            return E.python(self.tree)
        if self.const is not None:
            return str(self.const)
        x = self.var if self.f == 1 else f"{self.f}*{self.var}"
        if self.a:
            x = f"{x} {'+' if self.a > 0 else '-'} {abs(self.a)}"
        if self.m == 1:
            return x
        return f"({x}) // {self.m}" if self.a else f"{x} // {self.m}"


Dims = tuple[Dim, ...]

_GEOMETRY = {"kernel", "stride", "padding", "dilation", "output_padding", "scale", "size",
             "factor", "shape", "before", "after"}


def start(rank: int) -> Dims:
    return tuple(Dim(name) for name in NAMES.get(rank, ()))


def render(channels: str, dims: Dims | None) -> str | None:
    if dims is None or any(d.tree is not None and E.size(d.tree, MAX_TREE + 1) > MAX_TREE
                           for d in dims):
        return None
    return "(B, " + ", ".join([channels, *(d.render() for d in dims)]) + ")"


def _window(dim: Dim, k: int, s: int, p0: int, p1: int, d: int, ceil: bool = False) -> Dim:
    t = windows.offset(k, s, p0, p1, d, ceil)     # out = ⌊(n + t) / s⌋
    if dim.const is not None:
        return Dim(dim.var, const=(dim.const + t) // s)
    return _simplify(Dim(dim.var, dim.f, dim.a + t * dim.m, dim.m * s))


def _scale(dim: Dim, g: int, c: int) -> Dim | None:
    """`g·n + c` of a size n: exact only while n is undivided."""
    if dim.const is not None:
        return Dim(dim.var, const=g * dim.const + c)
    if dim.m != 1:
        return None
    return Dim(dim.var, dim.f * g, dim.a * g + c, 1)


def _simplify(dim: Dim) -> Dim:
    if dim.m > 1 and dim.a % dim.m == 0 and dim.f % dim.m == 0:
        return Dim(dim.var, dim.f // dim.m, dim.a // dim.m, 1)
    return dim


def advance(node: ir.Element, dims: Dims | None) -> Dims | None:
    """The symbolic sizes after `node`, or None where they cannot be written."""
    if dims is None or node.info is None:
        return None
    if any(field in _GEOMETRY for field, _ in node.sym) or \
            any(d.tree is not None for d in dims):
        return _trees(node, dims)   # the sizes depend on a block parameter
    out = node.info.output
    if len(out) == 1:
        return ()
    rank = len(out) - 1
    if isinstance(node, (ir.Conv, ir.Pool)):
        return _windows(node, dims, rank)
    if isinstance(node, ir.ConvT):
        return _transposed(node, dims, rank)
    if isinstance(node, (ir.AdaptivePool, ir.Unflatten)) or \
            (isinstance(node, ir.Upsample) and node.size is not None):
        return tuple(Dim(name, const=n) for name, n in zip(NAMES[rank], out[1:]))
    if isinstance(node, ir.Upsample) and node.like is not None:
        return None     # the label's dims: the emitter has them
    if isinstance(node, ir.Upsample):
        factors = per_axis(node.scale, rank)
        if any(Fraction(str(f)).denominator != 1 for f in factors):
            return None
        return _all(_scale(d, int(f), 0) for d, f in zip(dims, factors))
    if isinstance(node, ir.Pad):
        before, after = pad_sides(node, rank)
        return _all(_scale(d, 1, b + a) for d, b, a in zip(dims, before, after))
    if isinstance(node, ir.PixelShuffle):
        r = node.factor
        if node.op == "pixelshuffle":
            return _all(_scale(d, r, 0) for d in dims)
        return tuple(_window(d, r, r, 0, 0, 1) for d in dims)
    return dims if len(dims) == rank else None


def _windows(node, dims: Dims, rank: int) -> Dims | None:
    kernel = per_axis(node.kernel, rank)
    stride = per_axis(node.stride, rank)
    dilation = per_axis(node.dilation, rank)
    ceil = isinstance(node, ir.Pool) and node.ceil
    if ceil and any(windows.can_drop_last(k, s, p, d) for p, s, k, d in
                    zip(per_axis(node.padding, rank), stride, kernel, dilation)):
        return None   # PyTorch may drop a last window that starts in the padding
    if getattr(node, "padding", 0) == "same":
        pads = same_padding(kernel, dilation)
    else:
        pads = [(p, p) for p in per_axis(node.padding, rank)]
    return tuple(_window(dim, k, s, p0, p1, d, ceil)
                 for dim, k, s, (p0, p1), d in zip(dims, kernel, stride, pads, dilation))


def _transposed(node: ir.ConvT, dims: Dims, rank: int) -> Dims | None:
    parts = [per_axis(getattr(node, f), rank)
             for f in ("kernel", "stride", "padding", "dilation", "output_padding")]
    return _all(_scale(dim, s, -s - 2 * p + d * (k - 1) + o + 1)
                for dim, k, s, p, d, o in zip(dims, *parts))


def _all(dims) -> Dims | None:
    dims = tuple(dims)
    return None if any(d is None for d in dims) else dims


# ---- sizes as trees, where the geometry is a block parameter's --------------------------

def tree_dim(var: str, tree: E.Expr) -> Dim:
    if isinstance(tree, E.Const) and isinstance(tree.value, int):
        return Dim(var, const=tree.value)
    return Dim(var, tree=tree)


def _axes(node: ir.Element, field: str, rank: int) -> tuple[E.Expr, ...]:
    """A geometry field per spatial axis, each a tree."""
    symbol = node.symbol(field)
    if symbol is not None:
        return (symbol,) * rank
    return tuple(E.Const(v) for v in per_axis(getattr(node, field), rank))


def _trees(node: ir.Element, dims: Dims) -> Dims | None:
    out = node.info.output
    if len(out) == 1:
        return ()
    rank = len(out) - 1
    if isinstance(node, (ir.AdaptivePool, ir.Unflatten)) or \
            (isinstance(node, ir.Upsample) and node.size is not None):
        return tuple(Dim(name, const=n) for name, n in zip(NAMES[rank], out[1:]))
    if isinstance(node, (ir.Conv, ir.Pool)):
        return _tree_windows(node, dims, rank)
    if isinstance(node, ir.ConvT):
        k, s, p, d, o = (_axes(node, f, rank) for f in
                         ("kernel", "stride", "padding", "dilation", "output_padding"))
        return tuple(tree_dim(dim.var, E.total([
            E.mul(E.sub(dim.as_tree(), E.Const(1)), s_), E.mul(p_, E.Const(-2)),
            E.mul(d_, E.sub(k_, E.Const(1))), o_, E.Const(1)]))
            for dim, k_, s_, p_, d_, o_ in zip(dims, k, s, p, d, o))
    if isinstance(node, ir.PixelShuffle):
        (r,) = _axes(node, "factor", 1)
        grow = node.op == "pixelshuffle"
        return tuple(tree_dim(dim.var, E.mul(dim.as_tree(), r) if grow
                              else E.floordiv(dim.as_tree(), r)) for dim in dims)
    if isinstance(node, ir.Upsample):
        return None
    if isinstance(node, ir.Pad):
        before, after = pad_trees(node, rank)
        return tuple(tree_dim(dim.var, E.total([dim.as_tree(), b, a]))
                     for dim, b, a in zip(dims, before, after))
    return dims if len(dims) == rank else None


def pad_trees(node: ir.Pad, rank: int) -> tuple[tuple[E.Expr, ...], tuple[E.Expr, ...]]:
    """`pad`'s padding before and after each spatial axis, as trees."""
    if node.size is not None:
        both = _axes(node, "size", rank)
        return both, both
    zero = (E.Const(0),) * rank
    return (_axes(node, "before", rank) if node.before is not None else zero,
            _axes(node, "after", rank) if node.after is not None else zero)


def _tree_windows(node, dims: Dims, rank: int) -> Dims | None:
    """`⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1` per axis."""
    if isinstance(node, ir.Pool) and node.ceil:
        return None
    if node.padding == "same":
        return dims   # PyTorch takes `same` at stride 1 only: the size is kept
    k, p, d = (_axes(node, f, rank) for f in ("kernel", "padding", "dilation"))
    stride_is_kernel = isinstance(node, ir.Pool) and node.symbol("stride") is None and \
        node.stride == node.kernel and node.symbol("kernel") is not None
    s = k if stride_is_kernel else _axes(node, "stride", rank)
    return tuple(tree_dim(dim.var, windows.tree(dim.as_tree(), k_, s_, p_, d_))
                 for dim, k_, s_, p_, d_ in zip(dims, k, s, p, d))
