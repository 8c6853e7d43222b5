"""`cnndsl import` on ConvNeXt's constructs: a channels-first `LayerNorm2d` (an
`nn.LayerNorm` subclass that permutes to channels-last and back), the channels-last
stretch of a block (`Permute`, `nn.LayerNorm`, `nn.Linear` as 1x1 convs), and a layer
scale held by a module of the user's own. What the language has no word for stays refused."""

from __future__ import annotations

import pytest
import torch
from test_import import _round_trip
from torch import nn
from torch.nn import functional as F
from twins.convnext import ConvNeXt, LayerScale
from twins.ops import LayerNorm2d

from cnndsl.importer import Unsupported, import_module

SMALL = ((8, 16, 1), (16, None, 2))   # two stages: a downsample and three blocks


def test_a_small_convnext_twin_round_trips_with_its_words():
    imported = _round_trip(ConvNeXt(SMALL, num_classes=10), (3, 32, 32))
    text = imported.text
    assert "layernorm eps=1e-06" in text and "scale as layer_scale" in text, text
    assert "conv in*4 k1 -> gelu -> conv in k1" in text, text
    assert "permute" not in text.lower()


def test_layer_norm_2d_alone_is_one_layernorm():
    net = nn.Sequential(nn.Conv2d(3, 8, 1), LayerNorm2d(8, eps=1e-6))
    imported = _round_trip(net, (3, 8, 8))
    assert "layernorm eps=1e-06" in imported.text


def test_a_layer_scale_module_is_scale_and_its_gamma_the_weight():
    net = nn.Sequential(nn.Conv2d(3, 8, 1), LayerScale(8, 0.5))
    imported = _round_trip(net, (3, 8, 8))
    assert "scale" in imported.text
    (gamma,) = [v for k, v in imported.state_dict.items() if v.shape == (8, 1, 1)]
    assert torch.equal(gamma, net[1].gamma.detach())


class FunctionalChannelsLast(nn.Module):
    """Permutes written as tensor methods, a functional GELU between two linears."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.norm = nn.LayerNorm(8)
        self.up, self.down = nn.Linear(8, 16), nn.Linear(16, 8, bias=False)

    def forward(self, x):
        x = self.conv(x).permute(0, 2, 3, 1)
        x = self.down(F.gelu(self.up(self.norm(x))))
        return x.permute(0, 3, 1, 2)


def test_a_channels_last_stretch_written_with_methods_round_trips():
    imported = _round_trip(FunctionalChannelsLast(), (3, 8, 8))
    assert "conv 16 k1" in imported.text and "conv 8 k1 nobias" in imported.text


class Gamma(nn.Module):
    """`self.gamma * x` with one factor per channel, in a module of the user's own."""

    def __init__(self, shape):
        super().__init__()
        self.gamma = nn.Parameter(torch.rand(shape))

    def forward(self, x):
        return self.gamma * x


class Bias(nn.Module):
    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(8, 1, 1))

    def forward(self, x):
        return x + self.bias


@pytest.mark.parametrize("inner", [Gamma((1, 8, 8, 8)), Gamma((8, 8, 1)), Bias()],
                         ids=["per-position", "per-row", "added-bias"])
def test_a_parameter_the_language_cannot_express_is_still_refused(inner):
    net = nn.Sequential(nn.Conv2d(3, 8, 1), inner)
    with pytest.raises(Unsupported, match="parameter") as caught:
        import_module(net, [(3, 8, 8)])
    assert caught.value.module_path == "1" and caught.value.hint


class Unmatched(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1)


@pytest.mark.parametrize("net, words", [
    (nn.Sequential(nn.Conv2d(3, 8, 1), nn.LayerNorm(8)), "last dimension of a channels-first"),
    (nn.Sequential(nn.Conv2d(3, 8, 1), Unmatched(), nn.Linear(8, 8), Unmatched()),
     "permute to dimensions"),
    (nn.Sequential(nn.Conv2d(3, 8, 1), Unmatched(), nn.Conv2d(8, 8, 1)), "channels-last"),
    (nn.Sequential(nn.Conv2d(3, 8, 1), nn.Linear(8, 4)), "maps the last dimension"),
    (nn.Sequential(nn.Conv2d(3, 8, 1), Unmatched()), "returns a channels-last tensor"),
], ids=["layernorm-channels-first", "permuted-twice", "conv-on-channels-last",
        "linear-channels-first", "ends-channels-last"])
def test_what_channels_last_cannot_say_is_refused_not_guessed(net, words):
    with pytest.raises(Unsupported, match=words) as caught:
        import_module(net, [(3, 8, 8)])
    assert caught.value.hint


def test_torchvision_layout_convnext_with_its_layer_scale_on_the_block_round_trips():
    """torchvision's `CNBlock` holds `layer_scale` itself and reads it after its layers:
    its pre-hook fires first, yet the weight is paired where the forward reads it."""
    from importer_corpus.convnext import convnext_small_test

    imported = _round_trip(convnext_small_test(), (3, 32, 32))
    assert "-> scale -> droppath rate" in imported.text, imported.text
    assert "CNBlock(0.05) -> CNBlock(0.1)" in imported.text
    assert "permute" not in imported.text.lower()


def test_stochastic_depth_by_row_is_droppath_by_batch_is_not():
    from importer_corpus.convnext import StochasticDepth

    net = nn.Sequential(nn.Conv2d(3, 4, 1), StochasticDepth(0.25))
    assert "droppath 0.25" in import_module(net, [(3, 8, 8)]).text
    net = nn.Sequential(nn.Conv2d(3, 4, 1), StochasticDepth(0.25, "batch"))
    assert "droppath" not in import_module(net, [(3, 8, 8)]).text


@pytest.mark.slow
def test_torchvision_layout_convnext_tiny_round_trips():
    from importer_corpus.convnext import convnext_tiny

    assert _round_trip(convnext_tiny(), (3, 32, 32)).params == 28_589_128


class TwoScales(nn.Module):
    """Two layer scales held by a block itself, around a conv: their weights could not be
    paired as one module's, so the block is refused, not half imported."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 1)
        self.a, self.b = nn.Parameter(torch.rand(8, 1, 1)), nn.Parameter(torch.rand(8, 1, 1))

    def forward(self, x):
        return self.b * self.conv(self.a * x)


def test_a_block_holding_two_layers_weights_itself_is_refused():
    net = nn.Sequential(nn.Conv2d(3, 8, 1), TwoScales())
    with pytest.raises(Unsupported, match="holds parameters") as caught:
        import_module(net, [(3, 8, 8)])
    assert caught.value.module_path == "1"
