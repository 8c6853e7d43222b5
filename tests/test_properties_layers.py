"""Issue 11's layers against PyTorch: `convt`, `upsample`, `pixelshuffle`/`pixelunshuffle`,
`layernorm`, `groupnorm`, `instancenorm`, `bn eps= momentum=`, the new activations, `scale`,
`droppath`, `shuffle`, `unflatten`, in random chains in 1-D, 2-D and 3-D.

For each chain, `check` accepts exactly what PyTorch runs (tests/properties_torch.py builds
it by hand from LANGUAGE.md), and every layer's shape, parameters and buffers are PyTorch's;
the compiled module holds the same parameters and computes the same numbers; every
conv/convt/fc multiply-add figure agrees with `torch.utils.flop_counter`.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from properties_adapter import layer_rows
from properties_ast import (
    Block,
    Chain,
    Input,
    Layer,
    Merge,
    Name,
    Op,
    Repeat,
    Spec,
    Use,
    chain,
    layer,
)
from properties_chains import MODERN, chain_specs, focused, property_settings
from properties_compare import assert_compiled, assert_rows, assert_totals, verdicts
from properties_torch import BATCH, Step, evaluate, one_thread
from torch.utils.flop_counter import FlopCounterMode


def _agree(spec) -> None:
    text, result, evaluation = verdicts(spec)
    if evaluation is not None:
        assert_rows(text, result, evaluation)


@property_settings(120)
@given(chain_specs(MODERN))
def test_new_layers_agree_with_pytorch(spec):
    _agree(spec)


@property_settings(50)
@given(chain_specs(focused("convt")))
def test_transposed_convolutions_agree_with_pytorch(spec):
    """`output_padding` at its limit `max(s, d) - 1` half the time, past it often."""
    _agree(spec)


@property_settings(50)
@given(chain_specs(focused("upsample")))
def test_upsampling_agrees_with_pytorch(spec):
    """By factors and sizes (odd ones), nearest, linear, cubic, with and without `align`."""
    _agree(spec)


@property_settings(50)
@given(chain_specs(focused("norm", "activation", "scale", "droppath")))
def test_norms_and_activations_agree_with_pytorch(spec):
    _agree(spec)


@property_settings(50)
@given(chain_specs(focused("pixel", "shuffle", "fc_unflatten")))
def test_reshapes_agree_with_pytorch(spec):
    """`pixelshuffle`, `pixelunshuffle`, `shuffle G`, `fc N -> unflatten S`."""
    _agree(spec)


@property_settings(40)
@given(chain_specs(MODERN))
def test_compiled_new_layers_match_pytorch(spec):
    assert_compiled(spec)


# ---- multiply-adds against PyTorch's own FLOP counter ----------------------------------------


def _weight_macs(step: Step) -> int:
    """FlopCounterMode counts 2 per multiply-add of the weights, and no bias."""
    with FlopCounterMode(display=False) as counter, torch.no_grad(), one_thread():
        step.module(torch.zeros(BATCH, *step.input))
    return counter.get_total_flops() // (2 * BATCH)


def _bias_macs(step: Step) -> int:
    """LANGUAGE.md: a bias is added at every output position (once for `fc`)."""
    if "nobias" in step.layer.flags:
        return 0
    positions = 1
    for n in step.output[1:] if step.layer.word != "fc" else ():
        positions *= n
    return step.output[0] * positions


@property_settings(50)
@given(chain_specs(focused("conv", "convt", "fc")))
def test_macs_agree_with_flop_counter(spec):
    """Every conv/convt/fc figure: weights x positions (input positions for `convt`)."""
    text, result, evaluation = verdicts(spec)
    if evaluation is None:
        return
    rows = layer_rows(result)
    assert len(rows) == len(evaluation.steps), text
    for row, step in zip(rows, evaluation.steps):
        if step.layer.word in ("conv", "convt", "fc"):
            expected = _weight_macs(step) + _bias_macs(step)
            assert row.macs == expected, f"{row}, expected {expected} MACs:\n{text}"


# ---- borders, written out --------------------------------------------------------------------


def _spec(shape: tuple, *layers: Layer) -> Spec:
    return Spec((Input(shape),), Chain(layers))


def _convt(*args, **opts) -> Layer:
    return layer("convt", *args, **opts)


def _fc_then(*layers: Layer) -> Spec:
    return _spec((4, 3, 3), layer("fc", 6), *layers)


#: specs at a border that fit: PyTorch runs them, so `check` must accept them
FITS = {
    "convt from 1x1 (DCGAN)": _spec((100, 1, 1), _convt(8, k=4, flags=("nobias",))),
    "convt 3-D groups": _spec((4, 3, 3, 3), _convt(6, k=2, s=2, g=2)),
    "upsample 1.5 on 7": _spec((1, 7), layer("upsample", 1.5)),
    "upsample 2.5 linear on 5x5": _spec((1, 5, 5), layer("upsample", 2.5, flags=("linear",))),
    "upsample to odd size 7x5, cubic, aligned":
        _spec((2, 3, 3), layer("upsample", size=(7, 5), flags=("cubic", "align"))),
    "upsample linear in 3-D, aligned":
        _spec((1, 3, 3, 3), layer("upsample", 2, flags=("linear", "align"))),
    "layernorm after fc": _fc_then(layer("layernorm")),
    "layernorm channels-first in 3-D": _spec((4, 2, 2, 2), layer("layernorm", eps=1e-06)),
    "groupnorm after fc": _fc_then(layer("groupnorm", 3)),
    "instancenorm affine in 1-D": _spec((4, 7), layer("instancenorm", flags=("affine",))),
    "prelu after fc": _fc_then(layer("prelu")),
    "scale after fc": _fc_then(layer("scale", 1e-06)),
    "scale in 3-D": _spec((3, 2, 2, 2), layer("scale", 0.5)),
    "unflatten to 1-D, then conv":
        _spec((1, 6), layer("fc", 12), layer("unflatten", (3, 4)), layer("conv", 2, k=3)),
    "bn eps and momentum after fc": _spec((2, 4), layer("fc", 5), layer(
        "batchnorm", eps=0.001, momentum=0.01, spelling="bn")),
    "droppath 0": _spec((2, 4, 4), layer("droppath", 0)),
}

#: the same layer on both sides of a border: the first fits, the second does not. `check`
#: accepting the first shows that the second is refused for the border, not for a word
PAIRS = {
    "convt output_padding max(s, d) - 1 | max(s, d)":
        (_spec((2, 5, 5), _convt(3, k=3, s=2, output_padding=1)),
         _spec((2, 5, 5), _convt(3, k=3, s=2, output_padding=2))),
    "convt output_padding below | at the dilation":
        (_spec((2, 5), _convt(3, k=3, d=3, output_padding=2)),
         _spec((2, 5), _convt(3, k=3, d=3, output_padding=3))),
    "convt output_padding 1 with stride 2x2 | 2x1":
        (_spec((2, 5, 5), _convt(3, k=3, s=(2, 2), output_padding=1)),
         _spec((2, 5, 5), _convt(3, k=3, s=(2, 1), output_padding=1))),
    "convt groups dividing | not dividing the output":
        (_spec((4, 3, 3), _convt(6, k=1, g=2)), _spec((4, 3, 3), _convt(6, k=1, g=4))),
    "convt p0 | p1 on 1x1": (_spec((2, 1, 1), _convt(3, k=1)),
                             _spec((2, 1, 1), _convt(3, k=1, p=1))),
    "upsample 0.5 on 2 | 1 rows": (_spec((1, 2, 4), layer("upsample", 0.5)),
                                   _spec((1, 1, 4), layer("upsample", 0.5))),
    "upsample 1 | 0": (_spec((1, 4, 4), layer("upsample", 1)),
                       _spec((1, 4, 4), layer("upsample", 0))),
    "upsample size 7x5 | 7x5x3 in 2-D":
        (_spec((2, 3, 3), layer("upsample", size=(7, 5))),
         _spec((2, 3, 3), layer("upsample", size=(7, 5, 3)))),
    "upsample cubic in 2-D | 1-D": (_spec((1, 4, 4), layer("upsample", 2, flags=("cubic",))),
                                    _spec((1, 4), layer("upsample", 2, flags=("cubic",)))),
    "upsample cubic in 2-D | 3-D":
        (_spec((1, 4, 4), layer("upsample", 2, flags=("cubic",))),
         _spec((1, 4, 4, 4), layer("upsample", 2, flags=("cubic",)))),
    "upsample align linear | nearest":
        (_spec((1, 4, 4), layer("upsample", 2, flags=("linear", "align"))),
         _spec((1, 4, 4), layer("upsample", 2, flags=("nearest", "align")))),
    "upsample align linear | by default (nearest)":
        (_spec((1, 4, 4), layer("upsample", 2, flags=("linear", "align"))),
         _spec((1, 4, 4), layer("upsample", 2, flags=("align",)))),
    "upsample on 4x4 | after fc": (_spec((1, 4, 4), layer("upsample", 2)),
                                   _fc_then(layer("upsample", 2))),
    "pixelshuffle 2 on 8 | 6 channels": (_spec((8, 3, 5), layer("pixelshuffle", 2)),
                                         _spec((6, 3, 5), layer("pixelshuffle", 2))),
    "pixelshuffle in 2-D | 1-D": (_spec((8, 3, 5), layer("pixelshuffle", 2)),
                                  _spec((8, 5), layer("pixelshuffle", 2))),
    "pixelshuffle in 2-D | 3-D": (_spec((8, 3, 5), layer("pixelshuffle", 2)),
                                  _spec((8, 2, 2, 2), layer("pixelshuffle", 2))),
    "pixelunshuffle 2 on 6x4 | 5x4": (_spec((1, 6, 4), layer("pixelunshuffle", 2)),
                                      _spec((1, 5, 4), layer("pixelunshuffle", 2))),
    "groupnorm 2 | 3 on 4 channels": (_spec((4, 3, 3), layer("groupnorm", 2)),
                                      _spec((4, 3, 3), layer("groupnorm", 3))),
    "instancenorm on 1x2 | 1x1": (_spec((4, 1, 2), layer("instancenorm", flags=("affine",))),
                                  _spec((4, 1, 1), layer("instancenorm", flags=("affine",)))),
    "instancenorm on 4x3x3 | after fc": (_spec((4, 3, 3), layer("instancenorm")),
                                         _fc_then(layer("instancenorm"))),
    "shuffle 2 | 3 on 4 channels": (_spec((4, 3, 3), layer("shuffle", 2)),
                                    _spec((4, 3, 3), layer("shuffle", 3))),
    "shuffle in 1-D | after fc": (_spec((6, 3), layer("shuffle", 3)),
                                  _fc_then(layer("shuffle", 2))),
    "unflatten 4x3x3 of 36 | 35 features":
        (_spec((1, 6, 6), layer("fc", 36), layer("unflatten", (4, 3, 3))),
         _spec((1, 6, 6), layer("fc", 35), layer("unflatten", (4, 3, 3)))),
}


@pytest.mark.parametrize("spec", list(FITS.values()), ids=list(FITS))
def test_borders_that_fit_agree_with_pytorch(spec):
    assert evaluate(spec) is not None, "the table is wrong: PyTorch refuses this one"
    _agree(spec)


@pytest.mark.parametrize("fits, misfit", list(PAIRS.values()), ids=list(PAIRS))
def test_borders_refused_where_their_twin_fits(fits, misfit):
    assert evaluate(fits) is not None and evaluate(misfit) is None, "the table is wrong"
    _agree(fits)
    _agree(misfit)


@pytest.mark.parametrize("spec", list(FITS.values()) + [f for f, _ in PAIRS.values()],
                         ids=list(FITS) + [n.split(" | ")[0] for n in PAIRS])
def test_borders_compile_to_the_same_numbers(spec):
    assert_compiled(spec)


# ---- published figures: the oracle and `check` on networks with known parameter counts -------

#: the PyTorch DCGAN tutorial's generator: 100x1x1 in, 3x64x64 out, 3,576,704 parameters
DCGAN = Spec((Input((100, 1, 1)),), chain(
    layer("convt", 512, k=4, flags=("nobias",)), layer("batchnorm"), layer("relu"),
    *[item for width in (256, 128, 64) for item in (
        layer("convt", width, k=4, s=2, p=1, flags=("nobias",)), layer("batchnorm"),
        layer("relu"))],
    layer("convt", 3, k=4, s=2, p=1, flags=("nobias",)), layer("tanh")))

_C = Name("c")
#: torchvision's ConvNeXt-Tiny, 28,589,128 parameters (on 32x32: the count does not depend
#: on the input size, and the run stays cheap)
CONVNEXT_TINY = Spec((Input((3, 32, 32)),), chain(
    layer("conv", 96, k=4, s=4), layer("layernorm", eps=1e-06),
    Repeat(Use("CNBlock", (96,)), 3),
    *[item for width, depth in ((192, 3), (384, 9), (768, 3)) for item in (
        layer("layernorm", eps=1e-06), layer("conv", width, k=2, s=2),
        Repeat(Use("CNBlock", (width,)), depth))],
    layer("gap"), layer("layernorm", eps=1e-06), layer("fc", 1000)),
    blocks=(Block("CNBlock", (("c", None),), chain(Merge("residual", (chain(
        layer("conv", _C, k=7, p=3, g=_C), layer("layernorm", eps=1e-06),
        layer("conv", Op("*", _C, 4), k=1), layer("gelu"), layer("conv", _C, k=1),
        layer("scale", 1e-06), layer("droppath", 0.1)),)))),))


@pytest.mark.parametrize("spec, output, params", [(DCGAN, (3, 64, 64), 3_576_704),
                                                  (CONVNEXT_TINY, (1000,), 28_589_128)],
                         ids=["DCGAN generator", "ConvNeXt-Tiny"])
def test_published_networks(spec, output, params):
    """The oracle reproduces the published figures; `check` must agree with it."""
    evaluation = evaluate(spec)
    assert evaluation is not None and evaluation.outputs[0].shape[1:] == output
    assert sum(p.numel() for m in evaluation.modules for p in m.parameters()) == params
    text, result, evaluation = verdicts(spec)
    assert_totals(text, result, evaluation)


def test_dcgan_compiles_to_the_same_numbers():
    assert_compiled(DCGAN)
