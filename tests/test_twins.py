"""The hand-written twins of tests/twins/ against their published figures, the
comparison machinery, and each spec of specs/ that has a twin against it: same parameter
count, and the same outputs once the weights are copied in execution order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from twins import TWINS
from twins.compare import (
    assert_same_outputs,
    copy_in_order,
    execution_order,
    holds_parameters,
    outputs,
    perturb,
)
from twins.compiled import build
from twins.convnext import CNBlock
from twins.ops import LayerNorm2d

SPECS = Path(__file__).resolve().parent.parent / "specs"
NAMES = sorted(TWINS)

# What each twin returns for one sample, stated here rather than read from the twin.
OUTPUT_SHAPES = {
    "efficientnet_b0": [(1000,)],
    "mobilenet_v3_small": [(1000,)],
    "shufflenet_v2_x1_0": [(1000,)],
    "densenet121": [(1000,)],
    "googlenet": [(1000,)],
    "convnext_tiny": [(1000,)],
    "unet_small": [(2, 64, 64)],
    "fpn_resnet18": [(256, 28, 28), (256, 14, 14), (256, 7, 7)],
    "dcgan_generator": [(3, 64, 64)],
    "conv_autoencoder": [(1, 28, 28)],
}

# The 224x224 nets take 1-3 s each for one real forward pass on this CPU; their wiring
# does not depend on the size (the classifiers end in an adaptive pool, the FPN is all
# convolutions), so the real passes run them on 64x64 and the meta-device pass checks
# the 224x224 shapes.
SMALL_IMAGE = (3, 64, 64)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One intra-op thread here: on the shared two-core machine, two OpenMP threads
    spin-waiting under load made building GoogLeNet 8x slower (9.8 s against 1.3 s)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _real(name: str, seed: int = 0) -> tuple[torch.nn.Module, tuple[torch.Tensor]]:
    """The twin on the CPU, its parameters perturbed, in eval mode, and one small input."""
    factory, shape, _ = TWINS[name]
    torch.manual_seed(seed)
    model = perturb(factory(), seed).eval()
    shape = SMALL_IMAGE if shape == (3, 224, 224) else shape
    return model, (torch.randn(1, *shape, generator=torch.Generator().manual_seed(7)),)


def test_every_twin_has_a_spec():
    assert set(NAMES) <= {p.stem for p in SPECS.glob("*.cnn")}
    assert set(OUTPUT_SHAPES) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_is_the_expected_figure(name):
    factory, _, expected = TWINS[name]
    with torch.device("meta"):  # no memory, no initialisation arithmetic
        model = factory()
    assert _count(model) == expected


@pytest.mark.parametrize("name", NAMES)
def test_output_shapes_at_the_declared_input(name):
    factory, shape, _ = TWINS[name]
    with torch.device("meta"):  # shapes only: the 224x224 nets cost nothing here
        model = factory().eval()
        got = outputs(model, (torch.empty(1, *shape),))
    assert [tuple(t.shape[1:]) for t in got] == OUTPUT_SHAPES[name]


@pytest.mark.parametrize("name", NAMES)
def test_forward_calls_each_parameterised_module_once_and_copies_reproduce_it(name):
    src, inputs = _real(name, seed=0)
    order = execution_order(src, inputs)
    held = [m for m in src.modules() if holds_parameters(m)]
    assert len({id(m) for m in order}) == len(order), "a module called twice"
    assert {id(m) for m in order} == {id(m) for m in held}, "a module never called"
    assert all(torch.isfinite(t).all() for t in outputs(src, inputs))
    dst, _ = _real(name, seed=1)
    with pytest.raises(AssertionError):  # different weights: the comparison can fail
        assert_same_outputs(dst, src, inputs)
    assert copy_in_order(src, dst, inputs) == len(order)
    assert_same_outputs(dst, src, inputs)


def test_copying_refuses_networks_whose_calls_differ():
    inputs = (torch.randn(1, 1, 28, 28),)  # both nets below take it
    with pytest.raises(AssertionError, match="6 parameterised calls in the source, 23 in"):
        copy_in_order(_real("conv_autoencoder")[0], _real("unet_small")[0], inputs)
    src = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 4))
    dst = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4))
    with pytest.raises(AssertionError, match=r"call 0: Linear \[\(8, 4\), \(8,\)\]"):
        copy_in_order(src, dst, (torch.randn(1, 4),))


def test_perturb_gives_constant_parameters_distinct_values():
    block = CNBlock(8, layer_scale=1e-6, sd_prob=0.0)  # layer scale 1e-6, norm weight 1, bias 0
    constant = [p for p in block.parameters() if p.unique().numel() == 1]
    assert len(constant) == 3  # the layer scale, the norm's weight and bias
    perturb(block)
    assert all(p.unique().numel() == p.numel() for p in block.parameters())
    assert bool((block.layer_scale.gamma > 0.4).all())


def test_without_perturbing_a_wrong_convnext_block_would_pass_unseen():
    torch.manual_seed(0)
    right = CNBlock(8, layer_scale=1e-6, sd_prob=0.0).eval()
    wrong = CNBlock(8, layer_scale=1e-6, sd_prob=0.0).eval()
    inputs = (torch.randn(1, 8, 5, 5),)
    copy_in_order(right, wrong, inputs)
    with torch.no_grad():
        wrong.block[5].weight.zero_()  # the second linear layer, wired to nothing
    assert_same_outputs(wrong, right, inputs)  # the layer scale of 1e-6 hides it
    perturb(right)
    copy_in_order(right, wrong, inputs)
    with torch.no_grad():
        wrong.block[5].weight.zero_()
    with pytest.raises(AssertionError):
        assert_same_outputs(wrong, right, inputs)


def _channels_first(model: torch.nn.Module) -> torch.nn.Module:
    """ConvNeXt as its spec writes each block: depthwise conv, channels-first layer norm,
    two 1x1 convs where torchvision has channels-last linears (new modules, new weights)."""
    for block in (m for m in model.modules() if isinstance(m, CNBlock)):
        dw = block.block[0]
        dim = dw.in_channels
        block.block = torch.nn.Sequential(
            torch.nn.Conv2d(dim, dim, 7, padding=3, groups=dim), LayerNorm2d(dim, eps=1e-6),
            torch.nn.Conv2d(dim, 4 * dim, 1), torch.nn.GELU(), torch.nn.Conv2d(4 * dim, dim, 1))
    return model


def test_convnext_twin_equals_its_channels_first_form_with_linears_copied_into_convs():
    twin, inputs = _real("convnext_tiny", seed=0)
    spec_like = _channels_first(TWINS["convnext_tiny"][0]()).eval()
    copy_in_order(twin, spec_like, inputs)
    assert_same_outputs(spec_like, twin, inputs)


@pytest.mark.parametrize("name", NAMES)
def test_spec_draft_names_its_source_and_states_the_figure(name):
    _, shape, expected = TWINS[name]
    text = (SPECS / f"{name}.cnn").read_text(encoding="utf-8")
    assert text.startswith("# ") and "Twin: tests/twins/" in text
    assert re.search(rf"^input {'x'.join(map(str, shape))}$", text, re.M)
    assert re.search(rf"^assert params == {expected}$", text, re.M)


@pytest.mark.parametrize("name", NAMES)
def test_compiled_spec_equals_its_twin(name):
    _, shape, expected = TWINS[name]
    ours, params, input_shape = build(SPECS / f"{name}.cnn")
    assert (params, input_shape) == (expected, shape)
    theirs = perturb(TWINS[name][0](), seed=0).eval()
    ours.eval()
    inputs = (torch.randn(2, *shape, generator=torch.Generator().manual_seed(7)),)
    copy_in_order(theirs, ours, (inputs[0][:1],))   # the call order: one sample's forward
    assert_same_outputs(ours, theirs, inputs)
