"""Specs as the property tests draw them: small frozen structures that render to `.cnn`
text (LANGUAGE.md's syntax) and that `properties_torch` evaluates in PyTorch.

Nothing here imports cnndsl: the structures are the tests' own, so that the oracle never
shares a line of code with the compiler it judges.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---- integer expressions (block parameters, constants, `in`) -----------------------------


@dataclass(frozen=True)
class Name:
    """A block parameter or a `let` constant."""

    name: str


@dataclass(frozen=True)
class In:
    """`in`: the channels entering the block use (at the top level, the input's)."""


@dataclass(frozen=True)
class Op:
    op: str          # + - * //
    left: Expr
    right: Expr


Expr = int | Name | In | Op
Value = Expr | float | tuple | str   # a float (`eps=`), a size (`3x1`), a word (`reflect`)


def fold(op: str, left: Expr, right: Expr) -> Expr:
    """`Op`, computed at once when both sides are numbers."""
    if isinstance(left, int) and isinstance(right, int):
        return evaluate_op(op, left, right)
    return Op(op, left, right)


def evaluate_op(op: str, a: int, b: int) -> int:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a // b


def expr_text(value: Value) -> str:
    """The source text of a value: `c*2`, `(c+in)//2`, `0.001`, `3x1`."""
    if isinstance(value, bool):
        raise TypeError("a flag is not a value")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):          # a word: `pad=reflect`
        return value
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    if isinstance(value, Name):
        return value.name
    if isinstance(value, In):
        return "in"
    return f"{_operand(value.left)}{value.op}{_operand(value.right)}"


def _operand(value: Expr) -> str:
    # parenthesise every inner operation: never wrong, whatever the precedence
    return f"({expr_text(value)})" if isinstance(value, Op) else expr_text(value)


# ---- layers ---------------------------------------------------------------------------------

#: the short flags of LANGUAGE.md and their long forms
SHORT = {"k": "kernel", "s": "stride", "p": "padding", "d": "dilation", "g": "groups"}


@dataclass(frozen=True)
class Layer:
    """One layer: `word` is the canonical layer word, `spelling` how the spec writes it
    (an alias such as `deconv`); `args` positional, `opts` named, `flags` bare words."""

    word: str
    args: tuple = ()
    opts: tuple = ()               # ((key, value), ...); keys of SHORT are written `k3`
    flags: tuple = ()              # ("nobias", "ceil", "align", "affine", "linear", ...)
    spelling: str = ""
    long: bool = False             # write `kernel=3` instead of `k3`

    def opt(self, key: str, default=None):
        return dict(self.opts).get(key, default)


def layer(word: str, *args, flags: tuple = (), spelling: str = "", **opts) -> Layer:
    """Shorthand for a written-out spec: `layer("conv", 32, k=3, p=1, flags=("nobias",))`."""
    return Layer(word, args, tuple(opts.items()), flags, spelling)


def chain(*items) -> Chain:
    return Chain(items)


def layer_text(layer: Layer) -> str:
    words = [layer.spelling or layer.word]
    words += [expr_text(a) for a in layer.args]
    for key, value in layer.opts:
        literal = isinstance(value, (int, tuple)) and not isinstance(value, bool)
        if key in SHORT and literal and not layer.long:
            words.append(f"{key}{expr_text(value)}")
        else:
            words.append(f"{SHORT.get(key, key)}={expr_text(value)}")
    words += list(layer.flags)
    return " ".join(words)


# ---- composition ----------------------------------------------------------------------------


@dataclass(frozen=True)
class At:
    """`@name`: a chain that starts from a labelled tensor or a named input."""

    name: str


@dataclass(frozen=True)
class Chain:
    items: tuple               # an `At` may only come first


@dataclass(frozen=True)
class Group:
    chain: Chain


@dataclass(frozen=True)
class Repeat:
    item: object               # a bare layer word, a Group, a Use or a Merge
    times: Expr


@dataclass(frozen=True)
class Merge:
    """`concat`, `add`, `mul`, `split` (several branches); `residual`, `gate` (one)."""

    op: str
    branches: tuple            # of Chain


@dataclass(frozen=True)
class Cmp:
    """A condition `left op right` (op: == != < <= > >=) on block parameters, `in`, numbers."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class If:
    """`if COND { chain } else { chain }`; `other` None leaves the `else` out (identity)."""

    cond: Cmp
    then: Chain
    other: Chain | None = None


@dataclass(frozen=True)
class Use:
    """A block use: `Name`, `Name(args, key=value)`."""

    block: str
    args: tuple = ()
    kwargs: tuple = ()         # ((param, value), ...)
    bare: bool = False         # a block without parameters, written without parentheses


@dataclass(frozen=True)
class Label:
    item: object
    name: str


@dataclass(frozen=True)
class Block:
    name: str
    params: tuple              # ((name, default or None), ...)
    body: Chain


@dataclass(frozen=True)
class Input:
    shape: tuple
    name: str | None = None


@dataclass(frozen=True, repr=False)
class Spec:
    inputs: tuple                       # of Input; the body starts from the first
    body: Chain
    blocks: tuple = ()
    lets: tuple = ()                    # ((name, value), ...)
    outputs: tuple | None = None        # of Chain, each starting with an `At`
    model: str | None = None

    def __repr__(self) -> str:
        # Hypothesis shows a failing example by its repr: show the spec as written
        return f"Spec(<<<\n{render(self)}>>>)"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(repr(self))


def item_text(item) -> str:
    if isinstance(item, Layer):
        return layer_text(item)
    if isinstance(item, At):
        return f"@{item.name}"
    if isinstance(item, Group):
        return f"({chain_text(item.chain)})"
    if isinstance(item, Repeat):
        return f"{_repeated(item.item)} * {_times(item.times)}"
    if isinstance(item, Merge):
        return f"{item.op}({', '.join(chain_text(b) for b in item.branches)})"
    if isinstance(item, Use):
        return use_text(item)
    if isinstance(item, Label):
        return f"{item_text(item.item)} as {item.name}"
    if isinstance(item, If):
        cond = f"{expr_text(item.cond.left)} {item.cond.op} {expr_text(item.cond.right)}"
        text = f"if {cond} {{ {chain_text(item.then)} }}"
        return text if item.other is None else f"{text} else {{ {chain_text(item.other)} }}"
    raise TypeError(f"no text for {item!r}")


def _repeated(item) -> str:
    # LANGUAGE.md: a layer whose last argument is a number must be grouped to repeat it
    # (`(fc 64) * 2`); only a bare layer word goes without parentheses
    if isinstance(item, Layer) and (item.args or item.opts or item.flags):
        return f"({layer_text(item)})"
    return item_text(item)


def _times(times: Expr) -> str:
    return expr_text(times) if isinstance(times, (int, Name)) else f"({expr_text(times)})"


def use_text(use: Use) -> str:
    if use.bare:
        return use.block
    args = [expr_text(a) for a in use.args] + [f"{k}={expr_text(v)}" for k, v in use.kwargs]
    return f"{use.block}({', '.join(args)})"


def chain_text(chain: Chain, joiner: str = " -> ") -> str:
    return joiner.join(item_text(i) for i in chain.items)


def block_text(block: Block) -> str:
    params = [name if default is None else f"{name}={expr_text(default)}"
              for name, default in block.params]
    head = f"block {block.name}({', '.join(params)})" if params else f"block {block.name}"
    return f"{head} {{ {chain_text(block.body)} }}"


def render(spec: Spec) -> str:
    """The `.cnn` text of a spec; top-level items go one to a line (`\\n-> `), so that a
    diagnostic's line tells which item it is about."""
    lines = [f"model {spec.model}"] if spec.model else []
    for put in spec.inputs:
        shape = "x".join(str(n) for n in put.shape)
        lines.append(f"input {put.name} {shape}" if put.name else f"input {shape}")
    lines += [f"let {name} = {expr_text(value)}" for name, value in spec.lets]
    lines += [block_text(b) for b in spec.blocks]
    lines.append(chain_text(spec.body, "\n-> "))
    if spec.outputs is not None:
        lines.append("output " + ", ".join(chain_text(c) for c in spec.outputs))
    return "\n".join(lines) + "\n"


def walk(node):
    """Every node below `node` (itself included), depth first, in source order."""
    yield node
    children = ()
    if isinstance(node, Spec):
        children = tuple(b.body for b in node.blocks) + (node.body,) + (node.outputs or ())
    elif isinstance(node, Chain):
        children = node.items
    elif isinstance(node, (Group,)):
        children = (node.chain,)
    elif isinstance(node, (Repeat, Label)):
        children = (node.item,)
    elif isinstance(node, Merge):
        children = node.branches
    elif isinstance(node, If):
        children = (node.then,) + ((node.other,) if node.other is not None else ())
    for child in children:
        yield from walk(child)


def layers_in(node) -> list[Layer]:
    """The layers written in a spec (a block's body once, however often it is used)."""
    return [n for n in walk(node) if isinstance(n, Layer)]
