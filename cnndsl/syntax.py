"""The syntax tree: a `.cnn` file exactly as written, with a span on every node.

Produced by the parser, read by the passes; expressions are unevaluated and
names unresolved. Frozen pydantic models (see `cnndsl.frozen`), each item kind a
member of a discriminated union on `kind`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from cnndsl.frozen import Frozen
from cnndsl.source import Span

# ---- expressions ---------------------------------------------------------------


class Num(Frozen):
    kind: Literal["num"] = "num"
    span: Span
    value: int | float
    text: str


class SizeLit(Frozen):
    """`3x32x32`: two to four integers joined by `x`."""

    kind: Literal["size"] = "size"
    span: Span
    values: tuple[int, ...]


class Name(Frozen):
    """A name used as a value: a constant or a block parameter."""

    kind: Literal["name"] = "name"
    span: Span
    name: str


class Flag(Frozen):
    """A short flag as lexed (`k5`, `s2`, `k3x5`): the letter and its literal
    value. Where the layer has no such flag, it is an ordinary name (`c1`)."""

    kind: Literal["flag"] = "flag"
    span: Span
    name: str
    letter: str
    values: tuple[int, ...]


class InChannels(Frozen):
    """`in`: the channel count entering the block use (the network's input at
    the top level)."""

    kind: Literal["in"] = "in"
    span: Span


class BinOp(Frozen):
    kind: Literal["binop"] = "binop"
    span: Span
    op: Literal["+", "-", "*", "//"]
    left: Expr
    right: Expr


Expr = Annotated[Num | SizeLit | Name | Flag | InChannels | BinOp, Field(discriminator="kind")]


class Positional(Frozen):
    kind: Literal["pos"] = "pos"
    span: Span
    value: Expr


class Option(Frozen):
    """`name=value` in a layer or a block use."""

    kind: Literal["opt"] = "opt"
    span: Span
    name: str
    name_span: Span
    value: Expr


Arg = Annotated[Positional | Option, Field(discriminator="kind")]

# ---- chain items ------------------------------------------------------------------


class LayerUse(Frozen):
    """A layer word with its arguments (`conv 6 k5 s1`), or a bare block name."""

    kind: Literal["layer"] = "layer"
    span: Span
    name: str
    name_span: Span
    args: tuple[Arg, ...] = ()


class BlockUse(Frozen):
    """`Name(args)`."""

    kind: Literal["use"] = "use"
    span: Span
    name: str
    name_span: Span
    args: tuple[Arg, ...] = ()


class Repeat(Frozen):
    """`item * N`: N copies in sequence, each with its own weights."""

    kind: Literal["repeat"] = "repeat"
    span: Span
    item: Item
    count: Expr


class Chain(Frozen):
    """`a -> b -> c`, or a parenthesised group."""

    kind: Literal["chain"] = "chain"
    span: Span
    items: tuple[Item, ...]


CombineKind = Literal["concat", "add", "residual", "mul", "gate", "split"]


class Combine(Frozen):
    """`concat(...)`, `add(...)`, `mul(...)`, `split(...)`, `residual(...)` or
    `gate(...)` with their branches."""

    kind: Literal["combine"] = "combine"
    op: CombineKind
    span: Span
    keyword_span: Span
    branches: tuple[Chain, ...]


class Labelled(Frozen):
    """`item as NAME`: the item's output, reachable later as `@NAME`."""

    kind: Literal["labelled"] = "labelled"
    span: Span
    item: Item
    label: str
    label_span: Span


class Ref(Frozen):
    """`@NAME` starting a chain: a labelled output or a named input."""

    kind: Literal["ref"] = "ref"
    span: Span
    name: str


Item = Annotated[LayerUse | BlockUse | Repeat | Chain | Combine | Labelled | Ref,
                 Field(discriminator="kind")]

# ---- declarations ---------------------------------------------------------------------


class Param(Frozen):
    span: Span
    name: str
    default: Expr | None = None


class BlockDef(Frozen):
    span: Span
    name: str
    name_span: Span
    params: tuple[Param, ...]
    body: Chain


class LetDef(Frozen):
    span: Span
    name: str
    name_span: Span
    value: Expr


class ModelDecl(Frozen):
    span: Span
    name: str
    name_span: Span


class InputDecl(Frozen):
    span: Span
    name: str | None = None
    name_span: Span | None = None
    shape: tuple[int, ...]
    shape_span: Span


class OutputDecl(Frozen):
    span: Span
    chains: tuple[Chain, ...]


class AssertDef(Frozen):
    span: Span
    metric: str
    metric_span: Span
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    value: float | tuple[int, ...]
    value_text: str
    value_span: Span


class TrainValue(Frozen):
    span: Span
    text: str
    key: str | None = None  # `momentum=0.9` has key "momentum"
    value: str


class TrainItem(Frozen):
    span: Span
    key: str
    key_span: Span
    values: tuple[TrainValue, ...]


class Comment(Frozen):
    """A comment that ends a line of code: it travels to the generated line."""

    span: Span
    text: str


class Program(Frozen):
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
