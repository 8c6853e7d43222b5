"""The network: resolved, concrete, named and annotated.

Produced by the resolve pass from the syntax tree (`cnndsl.front.syntax`): constants
folded, blocks instantiated, repetition unrolled, labels bound, every layer's
arguments validated, every element named after its role in its scope (`conv1`,
`branch2_conv1`, `inception1`) and annotated with what inference learnt
(`Info`: input and output shape, parameters, multiply-adds, receptive field).
The emitter, the drawer and the summary read these annotations; none of them
re-derives a shape. Elements are a discriminated union on `op`.

Every node is a frozen, slotted dataclass: plain data, built by the passes from
values they have already checked and reported on (and checked against these
annotations by the test suite, `tests/test_ir.py`); `dataclasses.replace` makes
an updated copy.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from cnndsl.front.source import Span
from cnndsl.ir.expr import Expr
from cnndsl.ir.nodeclass import node
from cnndsl.ir.train_section import TrainConfig

Shape = tuple[int, ...]
IntOrSize = int | tuple[int, ...]


@node
class Info:
    """What inference learnt about one element (shapes without the batch)."""

    input: Shape
    output: Shape
    params: int = 0
    buffers: int = 0
    macs: int = 0
    rf: tuple[int, ...] | None = None      # receptive field per spatial dim, in input pixels
    #: distance between neighbouring outputs, in input pixels (a fraction after upsampling)
    jump: tuple[int | float, ...] | None = None


@node
class Element:
    span: Span
    text: str            # the user's own text for this element, comments left out
    name: str            # its role name in its class: `conv1`, `inception1`
    sym: tuple[tuple[str, Expr], ...] = ()  # field -> its tree over block params and `in`
    spans: tuple[tuple[str, Span], ...] = ()  # field -> where the user set it
    info: Info | None = None  # None where inference could not reach
    comment: str = ""    # the trailing comment of the line this element ends

    def span_of(self, field: str) -> Span:
        """Where `field` was written (`k5` for the kernel), else the whole element."""
        return next((s for f, s in self.spans if f == field), self.span)

    def symbol(self, field: str) -> Expr | None:
        """The tree that computes `field` in a block class, if symbolic."""
        return next((t for f, t in self.sym if f == field), None)


# ---- layers ----------------------------------------------------------------------

@node
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


@node
class ConvT(Element):
    op: Literal["convt"] = "convt"
    out: int
    kernel: IntOrSize
    stride: IntOrSize = 1
    padding: IntOrSize = 0
    dilation: IntOrSize = 1
    groups: int = 1
    bias: bool = True
    output_padding: IntOrSize = 0


@node
class Pool(Element):
    op: Literal["maxpool", "avgpool"]
    kernel: IntOrSize
    stride: IntOrSize
    padding: IntOrSize = 0
    dilation: IntOrSize = 1
    ceil: bool = False
    exclude_pad: bool = False     # avgpool: `count_include_pad=False`


@node
class AdaptivePool(Element):
    """`gap` is `adaptiveavgpool 1`, `gmp` is `adaptivemaxpool 1`."""

    op: Literal["adaptiveavgpool", "adaptivemaxpool", "gap", "gmp"]
    size: IntOrSize


@node
class ChannelReduce(Element):
    """`channelmean` / `channelmax`: C×H×W → 1×H×W (CBAM's spatial attention)."""

    op: Literal["channelmean", "channelmax"]


@node
class Flatten(Element):
    op: Literal["flatten"] = "flatten"


@node
class Unflatten(Element):
    op: Literal["unflatten"] = "unflatten"
    shape: IntOrSize


@node
class Linear(Element):
    op: Literal["fc"] = "fc"
    out: int
    bias: bool = True


@node
class Dropout(Element):
    """`dropout P`, or `droppath P` (stochastic depth: a whole sample's branch)."""

    op: Literal["dropout", "droppath"]
    p: float


@node
class Norm(Element):
    op: Literal["batchnorm", "layernorm", "groupnorm", "instancenorm"]
    groups: int | None = None        # groupnorm
    eps: float | None = None         # None: PyTorch's default
    momentum: float | None = None    # batchnorm
    affine: bool = False             # instancenorm (the others are always affine)


@node
class Activation(Element):
    op: Literal["relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "elu", "leakyrelu",
                "hardswish", "hardsigmoid", "mish", "selu", "softplus", "prelu"]
    param: float | None = None   # elu alpha, leakyrelu negative slope


@node
class Softmax(Element):
    op: Literal["softmax", "logsoftmax"]


@node
class Identity(Element):
    op: Literal["identity"] = "identity"


@node
class Upsample(Element):
    op: Literal["upsample"] = "upsample"
    scale: int | float | tuple[int, ...] | None = None
    size: IntOrSize | None = None
    mode: Literal["nearest", "linear", "cubic"] = "nearest"
    align: bool = False
    #: `like=@NAME`: the spatial size of that label's tensor, followed at run time
    like: str | None = None


@node
class Pad(Element):
    """`pad P` (both sides) or `pad before=S after=S`; `value` fills `zeros` mode."""

    op: Literal["pad"] = "pad"
    size: IntOrSize | None = None
    before: IntOrSize | None = None
    after: IntOrSize | None = None
    mode: Literal["zeros", "reflect", "replicate", "circular"] = "zeros"
    value: float | None = None


@node
class PixelShuffle(Element):
    op: Literal["pixelshuffle", "pixelunshuffle"]
    factor: int


@node
class ChannelShuffle(Element):
    op: Literal["shuffle"] = "shuffle"
    groups: int


@node
class Scale(Element):
    """A learnable per-channel multiplier (ConvNeXt's layer scale)."""

    op: Literal["scale"] = "scale"
    init: float = 1.0


# ---- structure ---------------------------------------------------------------------

@node
class Unresolved(Element):
    """Stands where a layer had errors (already reported). Inference goes on past
    it when the layer keeps its input's shape whatever its arguments (an activation,
    dropout, batch norm), and stops there silently otherwise."""

    op: Literal["unresolved"] = "unresolved"
    keeps_shape: bool = False


@node
class Ref(Element):
    """`@NAME` starting a chain: the chain runs on that tensor, not its input."""

    op: Literal["ref"] = "ref"
    label: str


@node
class Label(Element):
    """`... as NAME`: names the tensor flowing at this point."""

    op: Literal["label"] = "label"
    label: str
    #: what the label names besides the tensor: the module of the layer or block
    #: use just before it (`module`), or the group or repetition of the `covers`
    #: items just before it in the same sequence (`group`: an `nn.Sequential`)
    names: Literal["", "module", "group"] = ""
    covers: int = 0


@node
class Sequence(Element):
    """Elements applied one after another."""

    op: Literal["seq"] = "seq"
    items: tuple[Node, ...]


@node
class Merge(Element):
    """Branches run on the same input (or, for `split`, on its channel groups),
    then merged: `concat` on channels, `add` and `mul` element-wise, `split`
    concatenates. `residual(...)` is `add` with an identity first branch and
    `gate(...)` is `mul` with one (`form`)."""

    op: Literal["concat", "add", "mul", "split"]
    branches: tuple[Sequence, ...]
    form: Literal["residual", "gate"] | None = None


@node
class BlockCall(Element):
    """One use of a block: its arguments and its own copy of the body."""

    op: Literal["block"] = "block"
    block: str
    args: tuple[tuple[str, int | float], ...]
    body: Sequence


Layer = (Conv | ConvT | Pool | AdaptivePool | ChannelReduce | Flatten | Unflatten | Linear
         | Dropout | Norm | Activation | Softmax | Identity | Upsample | Pad | PixelShuffle
         | ChannelShuffle | Scale)
Node = Layer | Unresolved | Ref | Label | Sequence | Merge | BlockCall


@node
class NetInput:
    """One input of the network: `x` when it is the only one and unnamed."""

    name: str
    shape: Shape
    span: Span
    named: bool = True   # written `input NAME ...`, so `@NAME` reaches it


@node
class Network:
    """A resolved network: ready for code generation, drawing and summaries."""

    model: str
    inputs: tuple[NetInput, ...]
    body: Sequence
    #: `output` chains, in order; empty when the end of the body is the only output
    outputs: tuple[Sequence, ...] = ()
    #: the blocks used, each with its parameters and their default values
    blocks: tuple[tuple[str, tuple[tuple[str, int | float | None], ...]], ...] = ()
    train: TrainConfig = field(default_factory=TrainConfig)
    #: the names of constants and block parameters the network reads, sorted (lint warns
    #: about the others)
    used: tuple[str, ...] = ()

    @property
    def input(self) -> Shape:
        """The first input's shape."""
        return self.inputs[0].shape

    @property
    def output_chains(self) -> tuple[Sequence, ...]:
        """What the network returns: the `output` chains, or the body alone."""
        return self.outputs or (self.body,)

    @property
    def output_shapes(self) -> tuple[Shape, ...]:
        """The shape of every output, in order (needs a fully inferred network)."""
        return tuple(_end_shape(chain, self.inputs[0].shape) for chain in self.output_chains)


def _end_shape(seq: Sequence, default: Shape) -> Shape:
    if seq.info is not None:
        return seq.info.output
    return default
