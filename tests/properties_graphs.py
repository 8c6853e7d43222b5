"""Hypothesis strategies for graphs: merges, blocks with parameters and defaults, keyword
arguments and repetition (issue 10); labels and references, `mul`, `gate`, `split`, `in`,
named inputs and `output` (issue 12); and the label misuses LANGUAGE.md makes errors.

The drawing follows the channels symbolically (as expressions of a block's parameters and
`in`) and the resolution as a count of halvings, so that most graphs fit together; now and
then it lets one not fit (a branch left unprojected, a skip from another resolution), and
PyTorch, not this module, decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from hypothesis import strategies as st
from properties_ast import (
    At,
    Block,
    Chain,
    Cmp,
    Expr,
    Group,
    If,
    In,
    Input,
    Label,
    Layer,
    Merge,
    Name,
    Op,
    Repeat,
    Spec,
    Use,
    fold,
)
from properties_chains import pick


@dataclass(frozen=True)
class Features:
    """Which constructs a drawing may use."""

    labels: bool = False      # `as NAME`, `@NAME`
    gates: bool = False       # `mul`, `gate`, `split`
    in_expr: bool = False     # `in`
    resize: bool = False      # `upsample`, `convt`: U-Net's way back up
    v3: bool = False          # broadcasting `mul` (C×1×1, 1×H×W), `if` in block bodies


ISSUE10 = Features()
ISSUE12 = Features(labels=True, gates=True, in_expr=True, resize=True)
ISSUE20 = replace(ISSUE12, v3=True)

LABELS = ["e1", "e2", "skip", "low", "high", "feat", "stem", "x", "a", "b", "out1", "c1",
          "r3", "k3", "s2", "p1", "d2", "x_1", "Mid", "lateral"]
BLOCKS = ["Unit", "Res", "Stage2", "Conv1", "Relu6", "Mix", "Down", "Branchy"]
PARAMS = {"c": "width", "w": "width", "mid": "width", "width": "width", "k": "kernel",
          "n": "times"}
ACTIVATIONS = ["relu", "relu", "relu6", "gelu", "silu", "sigmoid", "tanh"]
MAX_DEPTH = 2


@dataclass(frozen=True)
class Cur:
    """Where a chain stands: channels (an expression; None when unknown) and halvings."""

    ch: Expr | None
    level: int = 0


@dataclass(frozen=True)
class BlockInfo:
    block: Block
    roles: tuple          # one per parameter: "width" | "kernel" | "times"
    out: Cur              # channels in terms of the parameters and `in`; levels added


@dataclass
class Ctx:
    """What the drawing may refer to at a point of the spec."""

    features: Features
    names: set                         # every identifier taken in the spec
    labels: dict = field(default_factory=dict)     # visible label -> Cur
    params: dict = field(default_factory=dict)     # block parameter -> role
    consts: dict = field(default_factory=dict)     # constant -> (role, value)
    blocks: list = field(default_factory=list)     # BlockInfo usable here
    in_value: int | None = None        # at the top level, what `in` is
    in_ok: bool = True                 # `in` may be written here
    top: bool = True
    depth: int = 0
    #: inside a repeated item: a label there would name one module per copy (E0425)
    repeated: bool = False

    def branch(self) -> Ctx:
        """A branch's or a repetition's view: the labels made there stay there."""
        return replace(self, labels=dict(self.labels), depth=self.depth + 1)


# ---- channels as expressions ---------------------------------------------------------------


def subst(e: Expr | None, names: dict, in_expr: Expr | None) -> Expr | None:
    """`e` with names replaced (parameters by arguments, constants by values) and `in`."""
    if isinstance(e, Name):
        return names.get(e.name, e)
    if isinstance(e, In):
        return in_expr
    if isinstance(e, Op):
        left, right = subst(e.left, names, in_expr), subst(e.right, names, in_expr)
        return None if left is None or right is None else fold(e.op, left, right)
    return e


def track(e: Expr, ctx: Ctx) -> Expr | None:
    """The channels `e` stands for where it is written, as far as the drawing knows."""
    known = {name: v for name, (_, v) in ctx.consts.items()}
    return subst(e, known, ctx.in_value if ctx.top else In())


def width(draw, ctx: Ctx) -> Expr:
    """A channel count as a spec writes it: a number, a constant, a parameter, `in`."""
    options: list = [draw(st.integers(1, 8))] * 3
    options += [Name(n) for n, (role, _) in ctx.consts.items() if role == "width"]
    options += [Name(n) for n, role in ctx.params.items() if role == "width"] * 2
    if ctx.features.in_expr and ctx.in_ok:
        options += [In(), Op("*", In(), 2), Op("//", In(), 2)]
        options += [Op("+", In(), Name(n)) for n, r in ctx.params.items() if r == "width"]
    return pick(draw, options)


def keep_width(cur: Cur, ctx: Ctx) -> Expr | None:
    """How to write `cur`'s channel count here, if the drawing knows it."""
    if cur.ch is None or (isinstance(cur.ch, In) and not ctx.features.in_expr):
        return None
    if not ctx.top or isinstance(cur.ch, int):
        return cur.ch
    return None


def times(draw, ctx: Ctx) -> Expr:
    options: list = [2, 2, 3, 1]
    options += [Name(n) for n, (role, _) in ctx.consts.items() if role == "times"]
    options += [Name(n) for n, role in ctx.params.items() if role == "times"]
    choice = pick(draw, options)
    return Op("+", choice, 1) if isinstance(choice, Name) and draw(st.integers(0, 4)) == 0 \
        else choice


# ---- layers ---------------------------------------------------------------------------------


def conv_keeping(draw, ctx: Ctx, out: Expr) -> Layer:
    """A convolution that keeps the spatial size (now and then one that does not)."""
    kernels = [p for p, role in ctx.params.items() if role == "kernel"]
    shape = pick(draw, ["k3", "k3", "k1", "k5", "param", "shrink"])
    if shape == "param" and kernels:
        k = Name(kernels[0])
        return Layer("conv", (out,), (("k", k), ("p", Op("//", k, 2))))
    if shape == "shrink" and draw(st.booleans()):
        return Layer("conv", (out,), (("k", 3),))          # shrinks by 2: may not fit
    k = {"k3": 3, "k1": 1, "k5": 5}.get(shape, 3)
    return Layer("conv", (out,), (("k", k), ("p", k // 2)) if k > 1 else (("k", 1),))


def keep_item(draw, ctx: Ctx, cur: Cur) -> tuple:
    kind = pick(draw, ["conv", "conv", "conv", "bn", "act", "act", "identity"])
    if kind == "conv":
        w = width(draw, ctx)
        return conv_keeping(draw, ctx, w), Cur(track(w, ctx), cur.level)
    if kind == "bn":
        return Layer("batchnorm", spelling="bn"), cur
    if kind == "identity":
        return Layer("identity"), cur
    return Layer(pick(draw, ACTIVATIONS)), cur


def down_item(draw, ctx: Ctx, cur: Cur) -> tuple:
    kind = pick(draw, ["maxpool", "avgpool", "conv"])
    if kind == "conv":
        w = width(draw, ctx)
        layer = Layer("conv", (w,), (("k", 3), ("s", 2), ("p", 1)))
        return layer, Cur(track(w, ctx), cur.level + 1)
    return Layer(kind, (2,)), Cur(cur.ch, cur.level + 1)


def up_item(draw, ctx: Ctx, cur: Cur) -> tuple:
    if draw(st.booleans()):
        mode = pick(draw, [(), ("linear",), ("nearest",), ("linear", "align")])
        return Layer("upsample", (2,), (), mode), Cur(cur.ch, cur.level - 1)
    w = width(draw, ctx)
    return Layer("convt", (w,), (("k", 2), ("s", 2))), Cur(track(w, ctx), cur.level - 1)


def projection(ctx: Ctx, target: Expr) -> Layer:
    return Layer("conv", (target,), (("k", 1),))


# ---- items ------------------------------------------------------------------------------------


def item(draw, ctx: Ctx, cur: Cur, down: bool) -> tuple:
    """One item of a chain and where it leaves the chain."""
    kinds = ["keep"] * 5
    kinds += ["down"] if down else []
    kinds += ["up", "up"] if ctx.features.resize and cur.level > 0 else []
    if ctx.depth < MAX_DEPTH:
        kinds += ["concat", "add", "residual", "repeat", "repeat"]
        kinds += ["mul", "gate", "split"] if ctx.features.gates else []
    kinds += ["use", "use", "use"] if ctx.blocks else []
    if ctx.features.v3 and not ctx.top and ctx.params and ctx.depth < MAX_DEPTH:
        kinds += ["if"] * 6
    kind = pick(draw, kinds)
    return DRAWERS[kind](draw, ctx, cur)


def chain_items(draw, ctx: Ctx, cur: Cur, lo: int, hi: int, down: bool = False) -> tuple:
    """`lo` to `hi` items, some labelled (the labels become visible in `ctx`)."""
    items = []
    for _ in range(draw(st.integers(lo, hi))):
        new, cur = item(draw, ctx, cur, down)
        if ctx.features.labels and not ctx.repeated and draw(st.integers(0, 3)) == 0:
            name = fresh(draw, ctx, LABELS, "t")
            new = Label(new, name)
            ctx.labels[name] = cur
        items.append(new)
    return items, cur


def fresh(draw, ctx: Ctx, pool: list, prefix: str) -> str:
    free = [n for n in pool if n not in ctx.names]
    name = pick(draw, free) if free else f"{prefix}{len(ctx.names)}"
    ctx.names.add(name)
    return name


def branch(draw, ctx: Ctx, cur: Cur, target: Expr | None, refs: bool = True) -> tuple:
    """One branch of a merge, projected to `target` channels (nine times out of ten)."""
    sub = ctx.branch()
    start, head = cur, []
    if refs and ctx.features.labels and ctx.labels and draw(st.integers(0, 2)) == 0:
        same = sorted(n for n, c in ctx.labels.items() if c.level == cur.level)
        pool = same if same and draw(st.integers(0, 9)) else sorted(ctx.labels)
        name = pick(draw, pool)
        head, start = [At(name)], ctx.labels[name]
    items, end = chain_items(draw, sub, start, 0 if head else 1, 2)
    if target is not None and end.ch != target and draw(st.integers(0, 9)):
        items.append(projection(sub, target))
        end = Cur(track(target, sub), end.level)
    return Chain(tuple(head + items)), end


def squeeze(draw, ctx: Ctx, cur: Cur, target: Expr | None) -> Chain:
    """`gap -> conv m k1 -> act -> conv C k1 -> sigmoid`: a C x 1 x 1 gate."""
    middle = width(draw, ctx)
    layers = [Layer("gap"), Layer("conv", (middle,), (("k", 1),)), Layer("relu")]
    layers += [Layer("conv", (target if target is not None else width(draw, ctx),),
                     (("k", 1),)), Layer("sigmoid")]
    if draw(st.integers(0, 9)) == 0:        # 1 x 2: broadcasts in torch, not in the language
        layers[0] = Layer("adaptiveavgpool", ((1, 2),))
    return Chain(tuple(layers))


def broadcast(draw, ctx: Ctx, cur: Cur, target: Expr | None) -> Chain:
    """A branch that `mul` broadcasts against the full tensor: `C×1×1` from `gap`/`gmp`
    (alone, or squeeze-and-excitation), `1×H×W` from `channelmean`/`channelmax` (alone,
    or CBAM's `-> conv 1 k3 p1 -> sigmoid`)."""
    kind = pick(draw, ["pool", "se", "spatial", "spatial"])
    if kind == "se":
        chain = squeeze(draw, ctx, cur, target)
        if draw(st.booleans()):
            chain = Chain((Layer("gmp"),) + chain.items[1:])
        return chain
    if kind == "pool":
        return Chain((Layer(pick(draw, ["gap", "gmp"])),))
    layers = [Layer(pick(draw, ["channelmean", "channelmax"]))]
    if draw(st.booleans()):
        layers.append(Layer("conv", (1,), (("k", 3), ("p", 1))))
    if draw(st.booleans()):
        layers.append(Layer("sigmoid"))
    return Chain(tuple(layers))


def condition(draw, ctx: Ctx) -> Cmp:
    """A truth value on a block parameter (`s > 1`, `c == 4`), now and then on `in`."""
    sides = [Name(n) for n in sorted(ctx.params)] * 3
    sides += [In()] if ctx.features.in_expr and ctx.in_ok else []
    return Cmp(pick(draw, ["==", "!=", "<", "<=", ">", ">="]), pick(draw, sides),
               draw(st.integers(1, 8)))


def if_item(draw, ctx: Ctx, cur: Cur) -> tuple:
    """`if COND { chain } else { chain }` (the `else` left out now and then): the oracle
    runs the chosen chain only; the other need not fit."""
    sub = replace(ctx.branch(), repeated=True)      # no labels inside
    target = keep_width(cur, ctx)
    then, end = branch(draw, sub, cur, target, refs=False)
    other, other_end = None, cur
    if draw(st.integers(0, 3)):
        other, other_end = branch(draw, sub, cur, target, refs=False)
    same = end.ch == other_end.ch and end.ch is not None
    return If(condition(draw, ctx), then, other), Cur(end.ch if same else None, cur.level)


def concat(draw, ctx: Ctx, cur: Cur) -> tuple:
    branches, total = [], 0
    for _ in range(draw(st.integers(2, 3))):
        chain, end = branch(draw, ctx, cur, None)
        branches.append(chain)
        total = None if total is None or end.ch is None else fold("+", total, end.ch)
    return Merge("concat", tuple(branches)), Cur(total, cur.level)


def add(draw, ctx: Ctx, cur: Cur) -> tuple:
    target = keep_width(cur, ctx)
    branches = [branch(draw, ctx, cur, target)[0] for _ in range(draw(st.integers(2, 3)))]
    if draw(st.integers(0, 3)) == 0:
        branches[0] = Chain((Layer("identity"),))
    return Merge("add", tuple(branches)), cur


def residual(draw, ctx: Ctx, cur: Cur) -> tuple:
    chain, _ = branch(draw, ctx, cur, keep_width(cur, ctx), refs=False)
    return Merge("residual", (chain,)), cur


def mul(draw, ctx: Ctx, cur: Cur) -> tuple:
    target = keep_width(cur, ctx)
    branches = []
    for _ in range(draw(st.integers(2, 3))):
        if ctx.features.v3 and draw(st.booleans()):
            branches.append(broadcast(draw, ctx, cur, target))
        elif draw(st.booleans()):
            branches.append(squeeze(draw, ctx, cur, target))
        else:
            branches.append(branch(draw, ctx, cur, target)[0])
    return Merge("mul", tuple(branches)), cur


def gate(draw, ctx: Ctx, cur: Cur) -> tuple:
    target = keep_width(cur, ctx)
    if ctx.features.v3 and draw(st.booleans()):
        return Merge("gate", (broadcast(draw, ctx, cur, target),)), cur
    if draw(st.integers(0, 3)):
        return Merge("gate", (squeeze(draw, ctx, cur, target),)), cur
    return Merge("gate", (branch(draw, ctx, cur, target, refs=False)[0],)), cur


def split(draw, ctx: Ctx, cur: Cur) -> tuple:
    parts = draw(st.integers(2, 3))
    if isinstance(cur.ch, int) and draw(st.integers(0, 9)):
        parts = pick(draw, [n for n in (2, 3, 4) if cur.ch % n == 0] or [2])
    part = Cur(None if cur.ch is None else fold("//", cur.ch, parts), cur.level)
    branches, total = [], 0
    for _ in range(parts):
        chain, end = branch(draw, ctx, part, None, refs=False)
        branches.append(chain)
        total = None if total is None or end.ch is None else fold("+", total, end.ch)
    return Merge("split", tuple(branches)), Cur(total, cur.level)


def repeat(draw, ctx: Ctx, cur: Cur) -> tuple:
    """`relu * 2`, `(chain) * N`, `Block(..) * N`, `residual(..) * N`: kept shapes."""
    kind = pick(draw, ["word", "group", "group", "merge"] +
                                ["use"] * 2 * bool(ctx.blocks))
    count = times(draw, ctx)
    if kind == "word":
        return Repeat(Layer(pick(draw, ACTIVATIONS)), count), cur
    if kind == "use":
        use, _ = use_block(draw, ctx, cur, keep=True)
        return Repeat(use, count), cur
    sub = replace(ctx.branch(), repeated=True)
    if kind == "merge":
        merged, _ = pick(draw, [residual, add, gate] if ctx.features.gates
                                         else [residual, add])(draw, sub, cur)
        return Repeat(merged, count), cur
    chain, _ = branch(draw, sub, cur, keep_width(cur, ctx), refs=False)
    return Repeat(Group(chain), count), cur


def use_block(draw, ctx: Ctx, cur: Cur, keep: bool = False) -> tuple:
    """A use of a block drawn earlier: positional arguments, then keywords, defaults left
    out now and then; with `keep`, its first width argument keeps the channels."""
    info = pick(draw, ctx.blocks)
    if not info.block.params:
        return Use(info.block.name, bare=True), _after(info, {}, ctx, cur)
    values, args, kwargs, keyword = {}, [], [], False
    kept = keep_width(cur, ctx) if keep else None
    for (name, default), role in zip(info.block.params, info.roles):
        arg = _argument(draw, ctx, role)
        if kept is not None and role == "width":
            arg, kept = kept, None
        elif default is not None and draw(st.integers(0, 2)) == 0:
            keyword = True
            continue
        keyword = keyword or draw(st.integers(0, 3)) == 0
        (kwargs.append((name, arg)) if keyword else args.append(arg))
        values[name] = arg
    return Use(info.block.name, tuple(args), tuple(kwargs)), _after(info, values, ctx, cur)


def _argument(draw, ctx: Ctx, role: str) -> Expr:
    if role == "width":
        return width(draw, ctx)
    if role == "kernel":
        return pick(draw, [3, 3, 1, 5, 2])
    return times(draw, ctx)


def _after(info: BlockInfo, values: dict, ctx: Ctx, cur: Cur) -> Cur:
    """Where a block use leaves the chain: its output channels in the caller's terms."""
    names = {name: default for name, default in info.block.params if default is not None}
    names.update({name: track(v, ctx) for name, v in values.items()})
    names.update({name: v for name, (_, v) in ctx.consts.items()})
    return Cur(subst(info.out.ch, names, cur.ch), cur.level + info.out.level)


def block_use(draw, ctx: Ctx, cur: Cur) -> tuple:
    return use_block(draw, ctx, cur, keep=draw(st.booleans()))


DRAWERS = {
    "keep": keep_item, "down": down_item, "up": up_item, "concat": concat, "add": add,
    "residual": residual, "mul": mul, "gate": gate, "split": split, "repeat": repeat,
    "use": block_use, "if": if_item,
}


# ---- blocks and specs ---------------------------------------------------------------------


def block_defs(draw, ctx: Ctx) -> list[BlockInfo]:
    """Zero to two blocks; the second may use the first."""
    infos: list[BlockInfo] = []
    for _ in range(draw(st.integers(0, 2))):
        name = fresh(draw, ctx, BLOCKS, "Block")
        chosen = draw(st.lists(st.sampled_from(sorted(PARAMS)), max_size=3, unique=True))
        chosen = [p for p in chosen if p not in ctx.names]
        ctx.names.update(chosen)
        params, roles = _params(draw, chosen)
        body_ctx = replace(ctx, labels={}, params=dict(zip(chosen, roles)), blocks=list(infos),
                           in_value=None, in_ok=True, top=False, depth=0)
        start = Cur(In() if ctx.features.in_expr else None)
        first: list = []
        if start.ch is None:        # no `in` to project to: a convolution sets the width
            w = width(draw, body_ctx)
            first, start = [conv_keeping(draw, body_ctx, w)], Cur(track(w, body_ctx))
        items, end = chain_items(draw, body_ctx, start, 1, 3, down=True)
        block = Block(name, params, Chain(tuple(first + items)))
        infos.append(BlockInfo(block, roles, end))
    return infos


def _params(draw, chosen: list) -> tuple:
    """Parameters with their roles; defaults only at the end, as in `Name(p, q=16)`."""
    roles = tuple(PARAMS[p] for p in chosen)
    defaults = draw(st.integers(0, len(chosen)))
    params = []
    for i, (p, role) in enumerate(zip(chosen, roles)):
        default = None
        if i >= len(chosen) - defaults:
            default = {"width": draw(st.integers(2, 8)), "kernel": 3, "times": 2}[role]
        params.append((p, default))
    return tuple(params), roles


def constants(draw, ctx: Ctx) -> tuple:
    lets = []
    for name, role in (("w", "width"), ("reps", "times")):
        if draw(st.integers(0, 2)) == 0:
            v = draw(st.integers(2, 8)) if role == "width" else draw(st.integers(1, 3))
            ctx.names.add(name)
            ctx.consts[name] = (role, v)
            lets.append((name, v))
    return tuple(lets)


SIZES = {1: [8, 16, 24, 9], 2: [8, 16, 12, 6, 7], 3: [4, 8, 6]}


@st.composite
def graph_specs(draw, features: Features = ISSUE10):
    """`input`, constants, blocks and one body of merges, repetitions and block uses."""
    rank = pick(draw, [2, 2, 2, 1, 3])
    channels = draw(st.integers(1, 4))
    shape = (channels,) + (pick(draw, SIZES[rank]),) * rank
    ctx = Ctx(features, names=set(), in_value=channels)
    lets = constants(draw, ctx)
    blocks = block_defs(draw, ctx)
    ctx.blocks = blocks
    items, _ = chain_items(draw, ctx, Cur(channels), 1, 5, down=True)
    if draw(st.integers(0, 3)) == 0:
        items.append(Layer("fc", (draw(st.integers(1, 10)),)))
    return Spec((Input(shape),), Chain(tuple(items)), tuple(b.block for b in blocks), lets)


INPUTS = ["image", "depth", "mask", "aux"]


@st.composite
def multi_io_specs(draw):
    """Named inputs (the body starts from the first), skips from the others, and `output`
    with one to three chains, each from a label or an input."""
    size = pick(draw, [8, 16, 12])
    count = draw(st.integers(1, 3))
    names = draw(st.permutations(INPUTS))[:count] if draw(st.integers(0, 4)) else [None]
    ctx = Ctx(ISSUE12, names=set(n for n in names if n), in_ok=False)
    inputs = []
    for i, name in enumerate(names):
        level = 0 if i == 0 or draw(st.integers(0, 3)) else 1
        shape = (draw(st.integers(1, 4)), size >> level, size >> level)
        inputs.append(Input(shape, name))
        if name and i:
            ctx.labels[name] = Cur(shape[0], level)
    ctx.blocks = block_defs(draw, ctx)
    items, end = chain_items(draw, ctx, Cur(inputs[0].shape[0]), 1, 4, down=True)
    if not [n for n in ctx.labels if n not in names] or draw(st.booleans()):
        label = fresh(draw, ctx, LABELS, "t")
        items[-1], ctx.labels[label] = Label(items[-1], label), end
    outputs = []
    for _ in range(draw(st.integers(1, 3))):
        start = pick(draw, sorted(ctx.labels))
        more, _ = chain_items(draw, replace(ctx, labels={}, features=ISSUE10, depth=MAX_DEPTH),
                              ctx.labels[start], 0, 2)
        outputs.append(Chain((At(start),) + tuple(more)))
    return Spec(tuple(inputs), Chain(tuple(items)), tuple(b.block for b in ctx.blocks),
                outputs=tuple(outputs))


# ---- misuses of labels -------------------------------------------------------------------------


@dataclass(frozen=True)
class Misuse:
    """A spec whose only mistake is `kind`, about the label `name`, and its twin with the
    mistake put right (which `check` must accept: the error is the misuse's, not the
    syntax's)."""

    kind: str
    name: str
    spec: Spec
    fixed: Spec


def occurrences(text: str, name: str) -> list[tuple[int, int]]:
    """Where `@name` and `as name` stand in `text`: a diagnostic should point at one."""
    pattern = rf"(@{re.escape(name)}|\bas\s+{re.escape(name)})(?![A-Za-z0-9_])"
    return [m.span() for m in re.finditer(pattern, text)]


MISUSES = ["unknown", "typo", "twice", "before", "itself", "repetition", "branch", "sibling",
           "block", "output"]


@st.composite
def misuses(draw):
    """One of LANGUAGE.md's label errors, amid layers that fit."""
    kind = pick(draw, MISUSES)
    name = pick(draw, LABELS)
    channels = draw(st.integers(1, 4))
    k = Layer("conv", (channels,), (("k", 3), ("p", 1)))
    pad = tuple(Layer(pick(draw, ACTIVATIONS)) for _ in range(draw(st.integers(0, 2))))
    wrong, right = _misuse(kind, name, k, pad)
    specs = [Spec((Input((channels, 8, 8)),), Chain(body), blocks, outputs=outputs)
             for body, blocks, outputs in (wrong, right)]
    return Misuse(kind, name[:-1] + "zq" if kind == "typo" else name, *specs)


def _misuse(kind: str, name: str, k: Layer, pad: tuple) -> tuple:
    """(body, blocks, outputs) of the misuse and of its twin put right."""
    def use(label: str = name) -> Merge:
        return Merge("add", (Chain((At(label), k)), Chain((Layer("identity"),))))

    def body(*items) -> tuple:
        return tuple(items), (), None

    if kind in ("unknown", "typo"):
        missing = name if kind == "unknown" else name[:-1] + "zq"
        defined = Label(k, name) if kind == "typo" else k
        return body(defined, *pad, use(missing)), body(Label(k, name), *pad, use())
    if kind == "twice":
        return body(Label(k, name), *pad, Label(k, name), use()), \
            body(Label(k, name), *pad, Label(k, name + "_2"), use())
    if kind == "before":
        return body(k, use(), *pad, Label(k, name)), body(Label(k, name), use(), *pad, k)
    if kind == "itself":
        return body(k, *pad, Label(use(), name)), body(Label(k, name), *pad, use())
    if kind == "repetition":
        return body(Repeat(Group(Chain((Label(k, name), *pad))), 2), use()), \
            body(Label(Repeat(Group(Chain((k, *pad))), 2), name), use())
    if kind == "branch":
        return body(Merge("add", (Chain((Label(k, name), *pad)), Chain((k,)))), use()), \
            body(Label(Merge("add", (Chain((k, *pad)), Chain((k,)))), name), use())
    if kind == "sibling":
        return body(k, Merge("add", (Chain((Label(k, name),)), Chain((At(name), k))))), \
            body(Label(k, name), Merge("add", (Chain((k,)), Chain((At(name), k)))))
    if kind == "block":
        inner = Block("Inner", (), Chain((Label(k, name), *pad)))
        plain = Block("Inner", (), Chain((k, *pad)))
        return ((Use("Inner", bare=True), use()), (inner,), None), \
            ((Label(Use("Inner", bare=True), name), use()), (plain,), None)
    out = (Chain((At(name),)),)
    return ((k, *pad), (), out), ((Label(k, name), *pad), (), out)
