"""The typed, frozen intermediate representations.

Two layers of IR, both pydantic models with a source span on every node:

* the *syntax tree* (`Program`, `Chain`, `LayerUse`, ...), produced by the parser
  exactly as written, expressions unevaluated;
* the *network* (`Network`, `Sequence`, `Conv`, ...), produced by the resolve
  pass: constants folded, blocks instantiated, repetition unrolled, every layer
  validated and named after its role (`conv1`, `branch2_conv1`, `inception1`).
  Its elements are a discriminated union on `op`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from cnndsl.frozen import Frozen
from cnndsl.source import Span
from cnndsl.training import TrainConfig

# ============================================================================
# Syntax tree
# ============================================================================

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


class Ref(Frozen):
    """A name used as a value: a constant, a block parameter or an option word."""

    kind: Literal["ref"] = "ref"
    span: Span
    name: str


class BinOp(Frozen):
    kind: Literal["binop"] = "binop"
    span: Span
    op: Literal["+", "-", "*", "//"]
    left: Expr
    right: Expr


Expr = Annotated[Num | SizeLit | Ref | BinOp, Field(discriminator="kind")]


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


class Combine(Frozen):
    """`concat(...)`, `add(...)` or `residual(...)` with their branches."""

    kind: Literal["concat", "add", "residual"]
    span: Span
    keyword_span: Span
    branches: tuple[Chain, ...]


Item = Annotated[LayerUse | BlockUse | Repeat | Chain | Combine, Field(discriminator="kind")]


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
    shape: tuple[int, ...]
    shape_span: Span


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


class Program(Frozen):
    """A whole `.cnn` file as written. Counts are checked by the resolve pass."""

    models: tuple[ModelDecl, ...] = ()
    inputs: tuple[InputDecl, ...] = ()
    lets: tuple[LetDef, ...] = ()
    blocks: tuple[BlockDef, ...] = ()
    bodies: tuple[Chain, ...] = ()
    asserts: tuple[AssertDef, ...] = ()
    trains: tuple[TrainItem, ...] = ()
    train_spans: tuple[Span, ...] = ()


# ============================================================================
# Network: resolved, concrete, named
# ============================================================================

IntOrSize = int | tuple[int, ...]


class Element(Frozen):
    span: Span
    text: str            # the user's own text for this element
    name: str            # its role name in its scope: `conv1`, `inception1`
    sym: tuple[tuple[str, str], ...] = ()  # field -> Python expression over block params
    spans: tuple[tuple[str, Span], ...] = ()  # field -> where the user set it

    def span_of(self, field: str) -> Span:
        """Where `field` was written (`k5` for the kernel), else the whole element."""
        return next((s for f, s in self.spans if f == field), self.span)


class Conv(Element):
    op: Literal["conv"] = "conv"
    out: int
    kernel: IntOrSize
    stride: IntOrSize = 1
    padding: IntOrSize | Literal["same"] = 0
    dilation: IntOrSize = 1
    groups: int = 1
    bias: bool = True
    padding_mode: Literal["zeros", "reflect", "replicate", "circular"] = "zeros"


class Pool(Element):
    op: Literal["maxpool", "avgpool"]
    kernel: IntOrSize
    stride: IntOrSize
    padding: IntOrSize = 0
    dilation: IntOrSize = 1
    ceil: bool = False


class AdaptivePool(Element):
    """`gap` is `adaptiveavgpool 1`."""

    op: Literal["adaptiveavgpool", "adaptivemaxpool", "gap"]
    size: IntOrSize


class Flatten(Element):
    op: Literal["flatten"] = "flatten"


class Linear(Element):
    op: Literal["fc"] = "fc"
    out: int
    bias: bool = True


class Dropout(Element):
    op: Literal["dropout"] = "dropout"
    p: float


class BatchNorm(Element):
    op: Literal["batchnorm"] = "batchnorm"


ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "elu", "leakyrelu")


class Activation(Element):
    op: Literal["relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "elu", "leakyrelu"]
    param: float | None = None   # elu alpha, leakyrelu negative slope


class Softmax(Element):
    op: Literal["softmax", "logsoftmax"]


class Identity(Element):
    op: Literal["identity"] = "identity"


class Unresolved(Element):
    """Stands where a layer had errors (already reported). Inference goes on past
    it when the layer keeps its input's shape whatever its arguments (an activation,
    dropout, batch norm), and stops there silently otherwise."""

    op: Literal["unresolved"] = "unresolved"
    keeps_shape: bool = False


class Sequence(Element):
    """Elements applied one after another."""

    op: Literal["seq"] = "seq"
    items: tuple[Node, ...]


class Branches(Element):
    """`concat`/`add` of branches run on the same input. `residual` is `add`
    with an identity first branch (`residual=True`)."""

    op: Literal["concat", "add"]
    branches: tuple[Sequence, ...]
    residual: bool = False


class BlockCall(Element):
    """One use of a block: its arguments and its own copy of the body."""

    op: Literal["block"] = "block"
    block: str
    args: tuple[tuple[str, int | float], ...]
    body: Sequence


Layer = (Conv | Pool | AdaptivePool | Flatten | Linear | Dropout | BatchNorm | Activation
         | Softmax | Identity)
Node = Annotated[Layer | Unresolved | Sequence | Branches | BlockCall, Field(discriminator="op")]


class Network(Frozen):
    """A resolved network: ready for inference, code generation and drawing."""

    model: str
    input: tuple[int, ...]
    input_span: Span
    body: Sequence
    #: the blocks used, each with its parameters and their default values
    blocks: tuple[tuple[str, tuple[tuple[str, int | float | None], ...]], ...] = ()
    train: TrainConfig = Field(default_factory=TrainConfig)

