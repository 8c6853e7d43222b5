"""Graphs against PyTorch: merges, blocks with parameters (defaults, keyword arguments) and
repetition (issue 10); labels and references, `mul` (broadcasting a branch of spatial size 1),
`gate`, `split`, `in`, named inputs and `output` (issue 12).

`check` accepts exactly what PyTorch runs (evaluated by hand from LANGUAGE.md in
tests/properties_torch.py), with every output's shape and the total parameters; the
compiled module holds `check`'s parameters, loses no module to a name used twice, and
computes the same numbers once the weights are copied across in execution order. The
label misuses LANGUAGE.md lists are errors that point at the label.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from properties_adapter import accepted, check, describe, located_errors
from properties_ast import (
    At,
    Block,
    Chain,
    Cmp,
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
    chain,
    layer,
    render,
)
from properties_chains import property_settings
from properties_compare import assert_compiled, assert_totals, verdicts
from properties_graphs import (
    ISSUE10,
    ISSUE20,
    graph_specs,
    misuses,
    multi_io_specs,
    occurrences,
)
from properties_torch import evaluate


def _agree(spec) -> None:
    text, result, evaluation = verdicts(spec)
    if evaluation is not None:
        assert_totals(text, result, evaluation)


# ---- issue 10: merges, blocks, repetition ----------------------------------------------------


def _conv(out: int, k: int = 1, p: int = 0) -> Layer:
    return Layer("conv", (out,), (("k", k), ("p", p)) if p else (("k", k),))


def _issue(body: tuple, shape: tuple = (3, 8, 8), blocks: tuple = ()) -> Spec:
    return Spec((Input(shape),), Chain(body), blocks)


#: issue 10's silent miscompiles, as written there
RELU6_AND_61_RELUS = _issue((Layer("relu6"), Repeat(Layer("relu"), 61), Layer("relu6"),
                             Layer("fc", (10,))), (1, 8, 8))
CONCAT_IN_REPETITION = _issue((Repeat(Group(Chain((
    Merge("concat", (Chain((_conv(4, 3, 1),)), Chain((_conv(4),)))), _conv(3)))), 2),
    Layer("fc", (10,))))
TWO_CONCATS = _issue((Merge("concat", (Chain((_conv(4),)), Chain((_conv(4),)))),
                      Merge("concat", (Chain((_conv(4),)), Chain((_conv(4),)))),
                      Layer("fc", (10,))))
BLOCK_CONV1 = _issue((Repeat(Group(Chain((_conv(4),))), 11), Use("Conv1", bare=True),
                      Layer("fc", (10,))), blocks=(Block("Conv1", (), Chain((_conv(5),))),))


@property_settings(100)
@given(graph_specs(ISSUE10))
def test_graphs_agree_with_pytorch(spec):
    _agree(spec)


@property_settings(40)
@given(graph_specs(ISSUE10))
def test_compiled_graphs_match_pytorch(spec):
    assert_compiled(spec)


@pytest.mark.parametrize("spec", [RELU6_AND_61_RELUS, CONCAT_IN_REPETITION, TWO_CONCATS,
                                  BLOCK_CONV1],
                         ids=["relu6 and 61 relus", "concat in a repetition", "two concats",
                              "block Conv1 after 11 convs"])
def test_issue_10_miscompiles_match_pytorch(spec):
    """Names made unique by construction: no module lost, no weight shared."""
    assert_compiled(spec)


# ---- issue 12: labels, references, mul, gate, split, in ---------------------------------------


# issue 20 adds to issue 12's drawing: `mul` broadcasting a C×1×1 (`gap`, `gmp`) or 1×H×W
# (`channelmean`, `channelmax`) branch, and `if COND { chain } else { chain }` in block
# bodies on a block parameter, where the oracle runs the chosen chain only
@property_settings(100)
@given(graph_specs(ISSUE20))
def test_labelled_graphs_agree_with_pytorch(spec):
    _agree(spec)


@property_settings(40)
@given(graph_specs(ISSUE20))
def test_compiled_labelled_graphs_match_pytorch(spec):
    assert_compiled(spec)


@property_settings(60)
@given(multi_io_specs())
def test_several_inputs_and_outputs_agree_with_pytorch(spec):
    _agree(spec)


@property_settings(25)
@given(multi_io_specs())
def test_compiled_several_inputs_and_outputs_match_pytorch(spec):
    assert_compiled(spec)


@property_settings(60)
@given(misuses())
def test_label_misuses_are_located_errors(misuse):
    """Unknown, misspelt, defined twice, used before its definition, used outside the
    repetition, branch or block that made it: an error pointing at `@name` or `as name`."""
    text = render(misuse.spec)
    assert evaluate(misuse.spec) is None, f"the oracle runs a misuse ({misuse.kind}):\n{text}"
    fixed = render(misuse.fixed)
    assert evaluate(misuse.fixed) is not None, f"the oracle refuses the fix:\n{fixed}"
    control = check(fixed)
    assert accepted(control), f"the misuse put right is refused:\n{fixed}\n{describe(control)}"
    result = check(text)
    assert not accepted(result), f"{misuse.kind} of `{misuse.name}` accepted:\n{text}"
    spans = occurrences(text, misuse.name)
    errors = located_errors(result)
    assert any(e.start < end and start < e.end for e in errors for start, end in spans), \
        f"no error at `{misuse.name}` ({misuse.kind}):\n{text}\n{describe(result)}"


# ---- LANGUAGE.md's own examples, written out --------------------------------------------------

_c, _t, _k, _s = Name("c"), Name("t"), Name("k"), Name("s")
_DOUBLE = Block("Double", (("c", None),), chain(
    layer("conv", _c, k=3, p=1, flags=("nobias",)), layer("batchnorm"), layer("relu"),
    layer("conv", _c, k=3, p=1, flags=("nobias",)), layer("batchnorm"), layer("relu")))
UNET = Spec((Input((1, 16, 16)),), chain(
    Label(Use("Double", (32,)), "e1"), layer("maxpool", 2),
    Label(Use("Double", (64,)), "e2"), layer("maxpool", 2), Use("Double", (128,)),
    layer("convt", 64, k=2, s=2), Merge("concat", (chain(At("e2")), chain(layer("identity")))),
    Use("Double", (64,)),
    layer("convt", 32, k=2, s=2), Merge("concat", (chain(At("e1")), chain(layer("identity")))),
    Use("Double", (32,)), layer("conv", 2, k=1)), (_DOUBLE,), model="UNet")

_SE = Block("SE", (("squeeze", None),), chain(Merge("gate", (chain(
    layer("gap"), layer("conv", Name("squeeze"), k=1), layer("silu"), layer("conv", In(), k=1),
    layer("sigmoid")),))))
_WIDE = Op("*", In(), _t)
_MBCONV = Block("MBConv", (("c", None), ("t", 6), ("k", 3), ("s", 1)), chain(
    layer("conv", _WIDE, k=1, flags=("nobias",)), layer("batchnorm", spelling="bn"),
    layer("silu"),
    Layer("conv", (_WIDE,), (("k", _k), ("s", _s), ("p", Op("//", _k, 2)), ("g", _WIDE)),
          ("nobias",)),
    layer("batchnorm"), layer("silu"), Use("SE", (Op("//", In(), 4),)),
    layer("conv", _c, k=1, flags=("nobias",)), layer("batchnorm")))
MBCONV = Spec((Input((16, 12, 12)),), chain(
    Use("MBConv", (24,), (("k", 5), ("s", 2))), Merge("residual", (chain(
        Use("MBConv", (24,), (("t", 4),))),)), Use("MBConv", (40, 1))), (_SE, _MBCONV))

_RESIDUAL = Block("Residual", (("c", None),), chain(Merge("residual", (chain(
    layer("conv", _c, k=3, p=1), layer("relu"), layer("conv", _c, k=3, p=1)),)), layer("relu")))
RESIDUAL_NET = Spec((Input((1, 28, 28)),), chain(
    layer("conv", 16, k=5), layer("maxpool", 2), layer("relu"), Use("Residual", (16,)),
    layer("conv", 32, k=5), layer("maxpool", 2), layer("relu"), Use("Residual", (32,)),
    layer("fc", 10)), (_RESIDUAL,), model="ResidualNet")

_INCEPTION = Block("Inception", (), chain(Merge("concat", (
    chain(layer("conv", 16, k=1)),
    chain(layer("conv", 16, k=1), layer("conv", 24, k=5, p=2)),
    chain(layer("conv", 16, k=1), layer("conv", 24, k=3, p=1), layer("conv", 24, k=3, p=1)),
    chain(layer("avgpool", 3, s=1, p=1), layer("conv", 24, k=1))))))
INCEPTION_NET = Spec((Input((1, 28, 28)),), chain(
    layer("conv", 10, k=5), layer("maxpool", 2), layer("relu"), Use("Inception", bare=True),
    layer("conv", 20, k=5), layer("maxpool", 2), layer("relu"), Use("Inception", bare=True),
    layer("fc", 10)), (_INCEPTION,), model="InceptionNet")

#: v3: the chosen chain of an `if` on a block parameter (at the first use the other one would
#: not fit: a residual of 6 channels on 4), and `mul` broadcasting 1×H×W (CBAM) and C×1×1
_PICK = Block("Pick", (("c", None), ("s", 1)), chain(
    If(Cmp(">", Name("s"), 1), chain(layer("conv", Name("c"), k=3, s=2, p=1)),
       chain(Merge("residual", (chain(layer("conv", Name("c"), k=1)),))))))
IF_ON_A_PARAMETER = Spec((Input((4, 8, 8)),), chain(
    Use("Pick", (6,), (("s", 2),)), Use("Pick", (6,)), layer("relu"),
    Merge("mul", (chain(layer("identity")),
                  chain(layer("channelmax"), layer("conv", 1, k=3, p=1), layer("sigmoid")),
                  chain(layer("gmp")))), layer("fc", 3)), (_PICK,))

EXAMPLES = {"ResidualNet": RESIDUAL_NET, "InceptionNet": INCEPTION_NET, "UNet": UNET,
            "MBConv and SE(in//4)": MBCONV, "if on a parameter, broadcasting mul":
            IF_ON_A_PARAMETER}


@pytest.mark.parametrize("spec", list(EXAMPLES.values()), ids=list(EXAMPLES))
def test_language_examples_match_pytorch(spec):
    """LANGUAGE.md's examples (U-Net on 16x16) and v3's `if` and broadcasting `mul`:
    check, compile, same numbers."""
    text, result, evaluation = verdicts(spec)
    assert evaluation is not None
    assert_totals(text, result, evaluation)
    assert_compiled(spec)


# ---- a published figure that needs `in`, blocks in blocks and `gate` ---------------------------

_MBCONV1 = Block("MBConv1", (("c", None), ("k", 3)), chain(
    Layer("conv", (In(),), (("k", _k), ("p", Op("//", _k, 2)), ("g", In())), ("nobias",)),
    layer("batchnorm"), layer("silu"), Use("SE", (Op("//", In(), 4),)),
    layer("conv", _c, k=1, flags=("nobias",)), layer("batchnorm")))


def _stage(width: int, kernel: int, stride: int, depth: int) -> tuple:
    """torchvision's stage: the first MBConv changes width (and stride), the rest add."""
    k = (("k", kernel),) * (kernel != 3)
    rest = Merge("residual", (chain(Use("MBConv", (width,), k)),))
    first = Use("MBConv", (width,), k + (("s", stride),) * (stride != 1))
    return (first,) + ((Repeat(rest, depth - 1),) if depth > 1 else ())


#: torchvision's EfficientNet-B0, 5,288,548 parameters (on 32x32: the count does not depend on
#: the input size)
EFFICIENTNET_B0 = Spec((Input((3, 32, 32)),), chain(
    layer("conv", 32, k=3, s=2, p=1, flags=("nobias",)), layer("batchnorm"), layer("silu"),
    Use("MBConv1", (16,)),
    *[item for stage in ((24, 3, 2, 2), (40, 5, 2, 2), (80, 3, 2, 3), (112, 5, 1, 3),
                         (192, 5, 2, 4), (320, 3, 1, 1)) for item in _stage(*stage)],
    layer("conv", 1280, k=1, flags=("nobias",)), layer("batchnorm"), layer("silu"),
    layer("gap"), layer("dropout", 0.2), layer("fc", 1000)), (_SE, _MBCONV, _MBCONV1))


def test_efficientnet_b0_has_torchvisions_parameter_count():
    """The oracle reproduces torchvision's 5,288,548 (`in`, SE(in//4) evaluated where MBConv
    is used); `check` must agree with it."""
    evaluation = evaluate(EFFICIENTNET_B0)
    assert evaluation is not None
    assert sum(p.numel() for m in evaluation.modules for p in m.parameters()) == 5_288_548
    text, result, evaluation = verdicts(EFFICIENTNET_B0)
    assert_totals(text, result, evaluation)
