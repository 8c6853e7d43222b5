"""Language v3 specs against hand-written torchvision-layout twins: MobileNetV2 at four
widths from one spec (`let w`, overridden through `cnndsl.build(path, w=...)`), and a
Darknet-exact two-headed detector. Same parameter count, same outputs once the weights
are copied in execution order (eval mode, parameters perturbed first)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import torch
from twins.compare import assert_same_outputs, copy_in_order, perturb
from twins.mobilenetv2 import make_divisible, mobilenet_v2
from twins.yolo import YoloTinyLike

import cnndsl

SPECS = Path(__file__).resolve().parent.parent / "specs"

# torchvision's figures for mobilenet_v2(width_mult=w), 1000 classes. At 1.3 the twin
# (torchvision's code line for line) counts 5,386,792, the paper's "5.3M"; the figure
# 5,431,116 once quoted for it matches no rounding of torchvision's table.
MOBILENET_V2 = {0.5: 1_968_680, 0.75: 2_636_424, 1.0: 3_504_872, 1.3: 5_386_792}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_make_divisible_is_torchvisions():
    assert [make_divisible(v, 8) for v in (16, 12, 4, 19.2, 1664)] == [16, 16, 8, 24, 1664]
    assert make_divisible(1280 * 1.3, 8) == 1664 and make_divisible(32 * 0.5, 8) == 16


@pytest.mark.parametrize("width", sorted(MOBILENET_V2))
def test_mobilenet_v2_twin_has_torchvisions_count(width):
    with torch.device("meta"):
        assert _count(mobilenet_v2(width)) == MOBILENET_V2[width]


@pytest.mark.parametrize("width", sorted(MOBILENET_V2))
def test_mobilenet_v2_spec_at_each_width_equals_the_twin(width):
    ours = cnndsl.build(SPECS / "mobilenet_v2_075.cnn", w=width).eval()
    assert _count(ours) == MOBILENET_V2[width]
    theirs = perturb(mobilenet_v2(width), seed=0).eval()
    # the wiring does not depend on the size: 64x64 keeps the CPU pass short
    inputs = (torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(7)),)
    copy_in_order(theirs, ours, inputs)
    assert_same_outputs(ours, theirs, inputs)


def test_width_overrides_take_exact_numbers():
    # 1.3 is read as the decimal the user wrote (13/10), a Fraction as itself
    spec = SPECS / "mobilenet_v2_075.cnn"
    assert _count(cnndsl.build(spec, w=Fraction(13, 10))) == MOBILENET_V2[1.3]
    with pytest.raises(TypeError, match="must be a number"):
        cnndsl.build(spec, w="0.5")
    with pytest.raises(TypeError, match="must be a number"):
        cnndsl.build(spec, w=float("nan"))


YOLO_PARAMS = 2_176_126  # counted by the twin below, and the spec's `assert params ==`


def test_yolo_twin_count_and_head_shapes():
    twin = YoloTinyLike().eval()
    assert _count(twin) == YOLO_PARAMS
    with torch.no_grad():
        heads = twin(torch.randn(1, 3, 64, 64))
    assert [tuple(h.shape[1:]) for h in heads] == [(27, 2, 2), (27, 4, 4)]


def _yolo_pair(seed: int = 0):
    ours = cnndsl.build(SPECS / "yolo_tiny_like.cnn").eval()
    theirs = perturb(YoloTinyLike(), seed=seed).eval()
    inputs = (torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(7)),)
    copy_in_order(theirs, ours, inputs)
    return ours, theirs, inputs


def test_yolo_spec_equals_its_darknet_twin_on_both_heads():
    ours, theirs, inputs = _yolo_pair()
    assert _count(ours) == YOLO_PARAMS
    assert_same_outputs(ours, theirs, inputs)


def test_yolo_darknet_pool_pads_with_cells_that_never_win():
    # the comparison can fail: with zero padding in the twin's stride-1 pool (what
    # `pad after=1x1` without `replicate` computes), the negative leaky-ReLU outputs on
    # the bottom and right edges become 0 and the heads differ
    ours, theirs, inputs = _yolo_pair()
    theirs.layers[11] = _ZeroPadPool()
    with pytest.raises(AssertionError):
        assert_same_outputs(ours, theirs, inputs)


class _ZeroPadPool(torch.nn.Module):
    def forward(self, x):
        return torch.nn.functional.max_pool2d(torch.nn.functional.pad(x, (0, 1, 0, 1)), 2, 1)
