"""`upsample like=@NAME` (language v3, issue 20): resize to a label's spatial size,
followed at run time, so an ASPP head's image-pooling branch works at any input size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from torch import nn
from twins.compare import assert_same_outputs, copy_in_order, perturb
from twins.compiled import build

import cnndsl
from cnndsl.backends.pytorch.build import compile_result

ASPP = """\
model Aspp
input 3x64x64
conv 16 k3 s2 p1 -> bn -> relu
-> conv 32 k3 s2 p1 -> bn -> relu as f
-> concat(
    conv 16 k1 -> relu,
    conv 16 k3 p2 d2 -> relu,
    conv 16 k3 p4 d4 -> relu,
    gap -> conv 16 k1 -> relu -> upsample like=@f linear,
  )
-> conv 24 k1 -> relu
"""


class AsppTwin(nn.Module):
    """The same network, by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU(),
                                  nn.Conv2d(16, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU())
        self.b1 = nn.Sequential(nn.Conv2d(32, 16, 1), nn.ReLU())
        self.b2 = nn.Sequential(nn.Conv2d(32, 16, 3, padding=2, dilation=2), nn.ReLU())
        self.b3 = nn.Sequential(nn.Conv2d(32, 16, 3, padding=4, dilation=4), nn.ReLU())
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(32, 16, 1), nn.ReLU())
        self.project = nn.Sequential(nn.Conv2d(64, 24, 1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.stem(x)
        b1, b2, b3 = self.b1(f), self.b2(f), self.b3(f)
        image = nn.functional.interpolate(self.pool(f), size=f.shape[2:], mode="bilinear")
        return self.project(torch.cat([b1, b2, b3, image], dim=1))


def errors(text: str) -> list[str]:
    return [d.code for d in cnndsl.check(text).diagnostics if d.is_error]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("aspp") / "aspp.cnn"
    path.write_text(ASPP)
    model, params, _ = build(path)
    return model.eval(), params


@pytest.mark.parametrize("size", [(64, 64), (96, 80)])
def test_aspp_matches_a_hand_written_twin_at_two_input_sizes(compiled, size):
    ours, params = compiled
    torch.manual_seed(0)
    theirs = AsppTwin().eval()
    assert params == sum(p.numel() for p in theirs.parameters())
    inputs = (torch.randn(2, 3, *size),)
    with torch.no_grad():
        perturb(theirs)
        copy_in_order(theirs, ours, inputs)
    out = ours(*inputs)
    assert out.shape == (2, 24, size[0] // 4, size[1] // 4)
    assert_same_outputs(ours, theirs, inputs)


@pytest.mark.parametrize("size,expected", [("3x64x64", (24, 16, 16)),
                                           ("3x96x80", (24, 24, 20))])
def test_check_gives_the_label_size_at_each_input_size(size, expected):
    result = cnndsl.check(ASPP.replace("3x64x64", size))
    assert not result.diagnostics, [d.message for d in result.diagnostics]
    assert result.summary.outputs[0] == expected
    up = next(r for r in result.summary.rows if r.text.startswith("upsample"))
    assert up.output == (16,) + expected[1:]


def test_the_generated_code_reads_the_size_at_run_time():
    code = compile_result(cnndsl.check(ASPP))
    assert "UpsampleLike" in code and ", f)" in code
    assert "import torch\nfrom torch import nn" in code
    assert "size=(16, 16)" not in code


def test_a_named_input_may_be_followed():
    text = ("input img 3x32x32\n"
            "@img -> conv 8 k3 s2 p1 -> upsample like=@img -> conv 4 k1\n")
    result = cnndsl.check(text)
    assert not [d for d in result.diagnostics if d.is_error]
    assert result.summary.outputs[0] == (4, 32, 32)


@pytest.mark.parametrize("text,code", [
    ("input 3x8x8\nconv 4 k1 -> upsample like=@nope\n", "E0211"),
    ("input 3x8x8\nconv 4 k1 -> upsample like=@f -> conv 4 k1 as f\n", "E0213"),
    ("input 3x8x8\nconv 4 k1 -> flatten as f -> unflatten 4x8x8 -> upsample like=@f\n", "E0427"),
    ("input 3x8x8\nconv 4 k1 as f -> conv 4 k1 like=@f\n", "E0403"),
    ("input 3x8x8\nconv 4 k1 as f -> upsample size=@f\n", "E0427"),
    ("input 3x8x8\nconv 4 k1 as f -> upsample like=f\n", "E0427"),
    ("input 3x8x8\nconv 4 k1 as f -> upsample like=@f like=@f\n", "E0405"),
    ("input 3x8x8\nconv 4 k1 as f -> upsample 2 like=@f\n", "E0405"),
    ("input 3x8x8\nconv 4 k1 as f -> upsample like=@f align\n", "E0323"),
])
def test_misused_like_is_a_located_error(text, code):
    assert errors(text) == [code]


def test_fmt_prints_like_and_round_trips(tmp_path):
    from cnndsl.backends.cnn import format_source as format_text
    text = ASPP.replace("upsample like=@f linear", "upsample   like=@f  linear")
    once = format_text(text)
    assert "like=@f" in once and "like=@f  " not in once
    assert format_text(once) == once
    assert cnndsl.check(once).summary.outputs == cnndsl.check(ASPP).summary.outputs


def test_the_language_server_counts_like_as_a_use_of_the_label():
    from cnndsl.lsp.analysis import analyse
    (label,) = [s for s in analyse(ASPP).symbols if s.name == "f"]
    at = ASPP.index("like=@f") + len("like=@")
    assert (at, at + 1) in label.uses


def test_the_playground_and_the_diagram_follow_the_label():
    from cnndsl.backends.query import layer_at
    result = cnndsl.check(ASPP)
    line = ASPP.splitlines().index(next(x for x in ASPP.splitlines() if "like=" in x)) + 1
    column = ASPP.splitlines()[line - 1].index("upsample") + 1
    answer = layer_at(result, line, column)
    assert [s["value"] for s in answer["steps"] if s["topic"] == "output"] == [16]
    assert "@f" in answer["steps"][0]["note"]
    from cnndsl.backends.diagram import draw
    dot = draw(result).source
    assert re.search(r"\bf -> \w*up1 .*style=dashed", dot), dot


def test_inside_a_block_the_label_is_the_body_s_and_sizes_stay_symbolic(tmp_path):
    path = tmp_path / "block.cnn"
    path.write_text("input 3x32x32\n"
                    "block Pool(c) { conv c k3 p1 as t -> maxpool 2 -> conv c k1"
                    " -> upsample like=@t linear }\n"
                    "Pool(8) -> Pool(8) as f -> maxpool 2 -> upsample like=@f\n")
    model, _, _ = build(path)
    code = compile_result(cnndsl.check(path.read_text()))
    assert "x = self.up1(x, t)  # (B, c, H, W)" in code
    for size in ((32, 32), (40, 24)):
        assert model.eval()(torch.randn(1, 3, *size)).shape == (1, 8, *size)
    assert errors("input 3x8x8\nblock P(c) { conv c k1 -> upsample like=@f }\n"
                  "conv 4 k1 as f -> P(4)\n") == ["E0211"]


def test_the_aspp_small_spec_runs_at_other_input_sizes():
    spec = Path(__file__).resolve().parent.parent / "specs" / "aspp_small.cnn"
    model, params, _ = build(spec)
    assert params == 220_298
    with torch.no_grad():
        for size in ((128, 128), (96, 80)):
            out = model.eval()(torch.randn(1, 3, *size))
            assert out.shape == (1, 10, size[0] // 8, size[1] // 8)


@pytest.mark.parametrize("name", ["UpsampleLike", "ChannelMean", "ChannelMax"])
def test_a_block_or_model_cannot_take_a_helper_class_name(name):
    text = f"block {name} {{\n    conv in k3 p1\n}}\ninput 4x8x8\n{name} -> fc 2\n"
    result = cnndsl.check(text, "b.cnn")
    assert not result.ok and "uses this name itself" in str(result)
