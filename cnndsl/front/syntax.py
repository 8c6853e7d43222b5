"""The syntax tree: a `.cnn` file exactly as written, with a span on every node.

Produced by the parser, read by the passes; expressions are unevaluated and
names unresolved. Frozen, slotted dataclasses, each item kind a member of a
discriminated union on `kind`.
"""

from __future__ import annotations

from typing import Literal

from cnndsl.front.source import Span
from cnndsl.ir.nodeclass import node

# ---- expressions ---------------------------------------------------------------


@node
class Num:
    kind: Literal["num"] = "num"
    span: Span
    value: int | float
    text: str


@node
class SizeLit:
    """`3x32x32`: two to four integers joined by `x`."""

    kind: Literal["size"] = "size"
    span: Span
    values: tuple[int, ...]


@node
class Name:
    """A name used as a value: a constant or a block parameter."""

    kind: Literal["name"] = "name"
    span: Span
    name: str


@node
class Flag:
    """A short flag as lexed (`k5`, `s2`, `k3x5`): the letter and its literal
    value. Where the layer has no such flag, it is an ordinary name (`c1`)."""

    kind: Literal["flag"] = "flag"
    span: Span
    name: str
    letter: str
    values: tuple[int, ...]


@node
class InChannels:
    """`in`: the channel count entering the block use (the network's input at
    the top level)."""

    kind: Literal["in"] = "in"
    span: Span


@node
class BinOp:
    kind: Literal["binop"] = "binop"
    span: Span
    op: Literal["+", "-", "*", "/", "//", "%", "and", "or", "==", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr


@node
class Unary:
    """`-x` or `not x`."""

    kind: Literal["unary"] = "unary"
    span: Span
    op: Literal["-", "not"]
    operand: Expr


@node
class Cond:
    """`then if test else other`."""

    kind: Literal["cond"] = "cond"
    span: Span
    test: Expr
    then: Expr
    other: Expr


@node
class Call:
    """`min(a, b)`, `max`, `round`, `floor`, `ceil`, `divisible(v, d)`."""

    kind: Literal["call"] = "call"
    span: Span
    func: str
    func_span: Span
    args: tuple[Expr, ...]


Expr = Num | SizeLit | Name | Flag | InChannels | BinOp | Unary | Cond | Call


@node
class Positional:
    kind: Literal["pos"] = "pos"
    span: Span
    value: Expr


@node
class Option:
    """`name=value` in a layer or a block use; the value is a `Ref` only in a layer's
    arguments (`upsample like=@f`)."""

    kind: Literal["opt"] = "opt"
    span: Span
    name: str
    name_span: Span
    value: Expr | Ref


Arg = Positional | Option

# ---- chain items ------------------------------------------------------------------


@node
class LayerUse:
    """A layer word with its arguments (`conv 6 k5 s1`), or a bare block name."""

    kind: Literal["layer"] = "layer"
    span: Span
    name: str
    name_span: Span
    args: tuple[Arg, ...] = ()
    comment: str | None = None     # a trailing comment (`cnndsl.front.trivia`)


@node
class BlockUse:
    """`Name(args)`."""

    kind: Literal["use"] = "use"
    span: Span
    name: str
    name_span: Span
    args: tuple[Arg, ...] = ()
    comment: str | None = None     # a trailing comment (`cnndsl.front.trivia`)


@node
class Repeat:
    """`item * N`: N copies in sequence, each with its own weights."""

    kind: Literal["repeat"] = "repeat"
    span: Span
    item: Item
    count: Expr


@node
class Chain:
    """`a -> b -> c`, or a parenthesised group."""

    kind: Literal["chain"] = "chain"
    span: Span
    items: tuple[Item, ...]


CombineKind = Literal["concat", "add", "residual", "mul", "gate", "split"]


@node
class Combine:
    """`concat(...)`, `add(...)`, `mul(...)`, `split(...)`, `residual(...)` or
    `gate(...)` with their branches."""

    kind: Literal["combine"] = "combine"
    op: CombineKind
    span: Span
    keyword_span: Span
    branches: tuple[Chain, ...]
    comment: str | None = None     # a trailing comment (`cnndsl.front.trivia`)


@node
class Labelled:
    """`item as NAME`: the item's output, reachable later as `@NAME`."""

    kind: Literal["labelled"] = "labelled"
    span: Span
    item: Item
    label: str
    label_span: Span


@node
class Ref:
    """`@NAME` starting a chain: a labelled output or a named input."""

    kind: Literal["ref"] = "ref"
    span: Span
    name: str


@node
class If:
    """`if COND { chain } else { chain }`: one branch, chosen where the block is
    used; no `else` is the identity (`other` None), `else if` nests an `If`."""

    kind: Literal["if"] = "if"
    span: Span
    test: Expr
    then: Chain
    other: Chain | If | None = None


Item = LayerUse | BlockUse | Repeat | Chain | Combine | Labelled | Ref | If

# ---- declarations ---------------------------------------------------------------------


@node
class Param:
    span: Span
    name: str
    default: Expr | None = None


@node
class BlockDef:
    span: Span
    name: str
    name_span: Span
    params: tuple[Param, ...]
    body: Chain


@node
class LetDef:
    span: Span
    name: str
    name_span: Span
    value: Expr


@node
class ModelDecl:
    span: Span
    name: str
    name_span: Span


@node
class InputDecl:
    span: Span
    name: str | None = None
    name_span: Span | None = None
    shape: tuple[int, ...]
    shape_span: Span


@node
class OutputDecl:
    span: Span
    chains: tuple[Chain, ...]


@node
class AssertDef:
    span: Span
    metric: str
    metric_span: Span
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    value: float | tuple[int, ...]
    value_text: str
    value_span: Span


@node
class TrainValue:
    span: Span
    text: str
    key: str | None = None  # `momentum=0.9` has key "momentum"
    value: str


@node
class TrainItem:
    span: Span
    key: str
    key_span: Span
    values: tuple[TrainValue, ...]


@node
class Comment:
    """A comment that ends a line of code: it travels to the generated line."""

    span: Span
    text: str


@node
class Allow:
    """`allow W0101, W0103` (the file), or `# allow W0101` ending a line (that
    line: `line` is its 1-based number)."""

    span: Span
    codes: tuple[tuple[str, Span], ...]
    line: int | None = None


@node
class Program:
    """A whole `.cnn` file as written. Counts are checked by the declare pass."""

    models: tuple[ModelDecl, ...] = ()
    inputs: tuple[InputDecl, ...] = ()
    outputs: tuple[OutputDecl, ...] = ()
    lets: tuple[LetDef, ...] = ()
    blocks: tuple[BlockDef, ...] = ()
    bodies: tuple[Chain, ...] = ()
    asserts: tuple[AssertDef, ...] = ()
    trains: tuple[TrainItem, ...] = ()
    train_spans: tuple[Span, ...] = ()
    comments: tuple[Comment, ...] = ()
    allows: tuple[Allow, ...] = ()
