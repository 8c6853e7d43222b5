"""Language v3, the layers part (issue 20): the receptive field through merges,
broadcasting, the new layers, padding and `upsample like=`."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from twins.compiled import build

import cnndsl

SPECS = Path(__file__).resolve().parent.parent / "specs"


def codes(text: str) -> list[str]:
    return [d.code for d in cnndsl.check(text).diagnostics if d.is_error]


def last_rf(text: str) -> tuple:
    result = cnndsl.check(text)
    assert result.ok, [d.message for d in result.diagnostics]
    info = result.summary.rows[-1].node.info
    return info.rf, info.jump


def model_of(text: str, tmp_path: Path, name: str = "spec") -> nn.Module:
    path = tmp_path / f"{name}.cnn"
    path.write_text(text)
    model, _, _ = build(path)
    return model.eval()


# ---- 1. the receptive field through merges ----------------------------------------------

SE_CHAIN = ("input 8x32x32\n"
            "conv 8 k3 p1 -> gate(gap -> conv 8 k1 -> sigmoid) -> conv 8 k3 p1 -> conv 8 k3 p1"
            " -> conv 8 k3 p1\n")


def test_a_gate_leaves_the_receptive_field_and_jump_as_they_were():
    assert last_rf(SE_CHAIN) == ((9, 9), (1, 1))


def test_a_broadcasting_mul_does_not_move_the_grid():
    text = ("input 8x32x32\n"
            "conv 8 k3 p1 -> mul(identity, gap -> conv 8 k1) -> conv 8 k3 p1\n")
    assert last_rf(text) == ((5, 5), (1, 1))


def test_efficientnet_b0_ends_with_a_believable_receptive_field():
    result = cnndsl.check_file(SPECS / "efficientnet_b0.cnn")
    assert result.ok
    rfs = [row.node.info.rf for row in result.summary.rows
           if row.node.info is not None and row.node.info.rf]
    assert max(max(rf) for rf in rfs) < 2000      # was near 8·10¹⁰


def test_a_merge_of_full_size_paths_still_takes_the_largest():
    text = ("input 4x32x32\n"
            "add(conv 4 k3 p1 -> conv 4 k3 p1, conv 4 k1) -> conv 4 k3 p1\n")
    assert last_rf(text) == ((7, 7), (1, 1))


# An independent check: the input positions whose gradient reaches one output position
# of the compiled network, with every weight positive (no cancellation), span its RF.
# (Two nearest upsamplings in a row are left out: there the field depends on how the
# two coarse grids align, and the fractional-jump rule reports 13 where the widest
# position reaches 15.)
GRADIENT_SPECS = [
    "input 1x64x64\nconv 2 k3 p1 -> conv 2 k3 s2 p1 -> conv 2 k5 p2\n",
    "input 1x64x64\nconv 2 k3 d2 p2 -> avgpool 2 -> conv 2 k3 p1\n",
    "input 1x64x64\nconv 2 k3 s2 p1 -> upsample 2 -> conv 2 k3 p1\n",
    "input 1x64x64\nconv 2 k3 s2 p1 -> add(identity, conv 2 k3 p1 -> conv 2 k3 p1)"
    " -> conv 2 k3 p1\n",
    "input 1x64x64\nconv 2 k3 p1 -> concat(conv 2 k5 p2, avgpool 3 s1 p1) -> conv 2 k3 s2 p1\n",
]


@pytest.mark.parametrize("text", GRADIENT_SPECS)
def test_the_receptive_field_is_where_the_gradient_reaches(text, tmp_path):
    model = model_of(text, tmp_path)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand_like(p) * 0.5 + 0.1)
    rf, jump = last_rf(text)
    # Past an upsampling the field depends on where the position falls on the coarse
    # grid: the figure is the largest over one period of positions.
    period = max([1, *(int(1 / j) for j in jump if j < 1)])
    extent = (0, 0)
    for offset in range(period + 1):
        x = torch.ones(1, 1, 64, 64, requires_grad=True)
        y = model(x)
        h, w = y.shape[-2:]
        y[0, 0, h // 2 + offset, w // 2 + offset].backward()
        reached = x.grad[0, 0] != 0
        rows = reached.any(dim=1).nonzero().flatten()
        cols = reached.any(dim=0).nonzero().flatten()
        extent = max(extent, (int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)))
    assert extent == tuple(rf)


# ---- 2. broadcasting, channelmean/channelmax, gmp, exclude_pad ----------------------------

@pytest.mark.parametrize("text,shape", [
    ("input 8x16x16\nmul(identity, gap)\n", (8, 16, 16)),
    ("input 8x16x16\nmul(identity, channelmean)\n", (8, 16, 16)),
    ("input 8x16x16\nmul(gap, channelmax)\n", (8, 16, 16)),
    ("input 8x16x16\ngate(channelmean -> conv 1 k3 p1 -> sigmoid)\n", (8, 16, 16)),
    ("input 8x16x16\nmul(identity, adaptiveavgpool 16x1)\n", (8, 16, 16)),
])
def test_mul_broadcasts_in_every_dimension(text, shape):
    result = cnndsl.check(text)
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.summary.rows[-1].node.info.output == shape


@pytest.mark.parametrize("text", [
    "input 8x16x16\nmul(identity, conv 4 k1)\n",               # 4 channels against 8
    "input 8x16x16\nmul(identity, adaptiveavgpool 2)\n",       # 2x2 against 16x16
    "input 8x16x16\nmul(identity, maxpool 2 -> channelmean)\n",
])
def test_operands_that_do_not_broadcast_are_located_errors(text):
    assert codes(text) == ["E0313"]


def test_channel_reductions_and_gmp_have_their_shapes():
    text = "input 8x16x16\nconcat(channelmean, channelmax) -> gmp\n"
    result = cnndsl.check(text)
    assert result.ok, [d.message for d in result.diagnostics]
    outputs = [row.node.info.output for row in result.summary.rows if row.node.info]
    assert (1, 16, 16) in outputs and outputs[-1] == (2, 1, 1)


def test_channel_reductions_need_channels_and_space():
    assert codes("input 8x16x16\nflatten -> channelmean\n")


def test_avgpool_exclude_pad_is_count_include_pad_false(tmp_path):
    model = model_of("input 2x8x8\navgpool 3 s1 p1 exclude_pad\n", tmp_path)
    x = torch.randn(1, 2, 8, 8)
    want = nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    assert torch.equal(model(x), want)


CBAM = """\
input 16x20x20
block ChannelAttention(r) {
  gate(add(gap -> conv in/r k1 nobias -> relu -> conv in k1 nobias,
           gmp -> conv in/r k1 nobias -> relu -> conv in k1 nobias) -> sigmoid)
}
block SpatialAttention {
  gate(concat(channelmean, channelmax) -> conv 1 k7 p3 nobias -> sigmoid)
}
conv 16 k3 p1 -> ChannelAttention(4) -> SpatialAttention -> conv 8 k3 p1
"""


class _Cbam(nn.Module):
    """CBAM (Woo et al. 2018), written by hand; the MLP is two 1x1 convolutions
    per pooled branch, as the spec writes it."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(16, 16, 3, padding=1)
        self.avg1 = nn.Conv2d(16, 4, 1, bias=False)
        self.avg2 = nn.Conv2d(4, 16, 1, bias=False)
        self.max1 = nn.Conv2d(16, 4, 1, bias=False)
        self.max2 = nn.Conv2d(4, 16, 1, bias=False)
        self.spatial = nn.Conv2d(2, 1, 7, padding=3, bias=False)
        self.head = nn.Conv2d(16, 8, 3, padding=1)

    def forward(self, x):
        x = self.stem(x)
        a = self.avg2(torch.relu(self.avg1(nn.functional.adaptive_avg_pool2d(x, 1))))
        m = self.max2(torch.relu(self.max1(nn.functional.adaptive_max_pool2d(x, 1))))
        x = x * torch.sigmoid(a + m)
        s = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        x = x * torch.sigmoid(self.spatial(s))
        return self.head(x)


def test_cbam_matches_a_hand_written_twin(tmp_path):
    model = model_of(CBAM, tmp_path, "cbam")
    twin = _Cbam().eval()
    ours = [p for p in model.parameters()]
    theirs = [twin.stem.weight, twin.stem.bias, twin.avg1.weight, twin.avg2.weight,
              twin.max1.weight, twin.max2.weight, twin.spatial.weight, twin.head.weight,
              twin.head.bias]
    assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in theirs]
    with torch.no_grad():
        for a, b in zip(ours, theirs):
            b.copy_(a)
    x = torch.randn(2, 16, 20, 20)
    torch.testing.assert_close(model(x), twin(x))


# ---- 3. padding -------------------------------------------------------------------------

@pytest.mark.parametrize("text,want", [
    ("input 2x6x7\npad 1\n", lambda x: nn.functional.pad(x, (1, 1, 1, 1))),
    ("input 2x6x7\npad 1x2 reflect\n", lambda x: nn.functional.pad(x, (2, 2, 1, 1), "reflect")),
    ("input 2x6x7\npad 2 replicate\n", lambda x: nn.functional.pad(x, (2, 2, 2, 2), "replicate")),
    ("input 2x6x7\npad 3 circular\n", lambda x: nn.functional.pad(x, (3, 3, 3, 3), "circular")),
    ("input 2x6x7\npad 1 value=0.5\n", lambda x: nn.functional.pad(x, (1, 1, 1, 1), value=0.5)),
    ("input 2x6x7\npad after=1x1\n", lambda x: nn.functional.pad(x, (0, 1, 0, 1))),
    ("input 2x6x7\npad before=1x0 after=2x3\n", lambda x: nn.functional.pad(x, (0, 3, 1, 2))),
    ("input 2x9\npad before=2 after=1 reflect\n",
     lambda x: nn.functional.pad(x, (2, 1), "reflect")),
    ("input 2x4x5x6\npad 1x0x2 replicate\n",
     lambda x: nn.functional.pad(x, (2, 2, 0, 0, 1, 1), "replicate")),
])
def test_pad_matches_pytorch(text, want, tmp_path):
    model = model_of(text, tmp_path)
    shape = cnndsl.check(text).summary.input
    x = torch.randn(2, *shape)
    expected = want(x)
    assert cnndsl.check(text).summary.output == tuple(expected.shape[1:])
    assert torch.equal(model(x), expected)


@pytest.mark.parametrize("text,code", [
    ("input 2x6x7\npad\n", "E0422"),                               # no size
    ("input 2x6x7\npad 1 after=1\n", "E0422"),                     # both forms
    ("input 2x6x7\npad 1 reflect value=2\n", "E0422"),             # a value without zeros
    ("input 2x6x7\npad 6 reflect\n", "E0423"),                     # reflect needs pad < size
    ("input 2x6x7\npad after=0x7 reflect\n", "E0423"),
    ("input 2x6x7\npad 8 circular\n", "E0423"),                    # wraps more than once
    ("input 2x6x7\npad 1x2x3\n", "E0311"),                         # wrong rank
    ("input 2x6x7\nflatten -> pad 1\n", "E0309"),                  # needs spatial input
])
def test_pad_errors_are_located(text, code):
    assert codes(text) == [code]


def test_a_darknet_tail_matches_its_twin(tmp_path):
    text = "input 4x13x13\nconv 8 k3 p1 -> pad after=1x1 -> maxpool 2 s1\n"
    model = model_of(text, tmp_path)
    assert cnndsl.check(text).summary.output == (8, 13, 13)
    conv = nn.Conv2d(4, 8, 3, padding=1)
    twin = nn.Sequential(conv, nn.ZeroPad2d((0, 1, 0, 1)), nn.MaxPool2d(2, 1)).eval()
    with torch.no_grad():
        for a, b in zip(model.parameters(), twin.parameters()):
            b.copy_(a)
    x = torch.randn(2, 4, 13, 13)
    assert torch.equal(model(x), twin(x))


def test_pad_keeps_the_receptive_field_and_jump():
    assert last_rf("input 1x16x16\nconv 1 k3 s2 -> pad 2 reflect -> conv 1 k3\n") == \
        ((7, 7), (2, 2))


def test_a_pad_of_a_block_parameter_serves_every_use(tmp_path):
    text = ("let n0 = 2\ninput 2x8x8\nblock P(n) { pad n -> conv 2 k3 }\n"
            "P(1) -> P(2) -> pad before=n0 after=1 reflect\n")
    model = model_of(text, tmp_path)
    # 8 +2 -2 = 8, +4 -2 = 10, +2 +1 = 13
    assert cnndsl.check(text).summary.output == (2, 13, 13)
    assert model(torch.randn(1, 2, 8, 8)).shape == (1, 2, 13, 13)


def test_the_playground_explains_pad_and_the_channel_reductions():
    from cnndsl.backends import query

    result = cnndsl.check("input 2x8x8\npad after=1x2 -> channelmax\n")
    steps = query.explain(result, "pad1")["steps"]
    assert [s["value"] for s in steps] == [9, 10]
    (step,) = query.explain(result, "channelmax1")["steps"]
    assert "1x9x10" in step["text"] and "keeps" not in step["text"]
