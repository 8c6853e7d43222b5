"""The second attack on the compiler (issue 17): where the checker's arithmetic
differed from PyTorch's floating point, `check --fix` edits that guessed or
changed other uses of a block, and `diagram` without bounds on `dot`.

PyTorch is the oracle: every size the checker states for `upsample` is the size
`nn.Upsample` gives; a fix is applied only when it is exact.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from attacks import harness

import cnndsl
from cnndsl.arithmetic import upsampled

# ---- item 1: upsampling by a decimal factor --------------------------------------------

#: every factor with two decimals up to 3 (1-D nearest), and a spread for every mode and rank
FINE = [k / 100 for k in range(1, 301)]
SPREAD = [0.1, 0.15, 0.29, 0.3, 0.35, 0.57, 0.6, 0.7, 0.9, 1.1, 1.15, 1.3, 1.4, 1.45, 1.7,
          1.9, 2.3, 2.45, 2.9, 3.3, 3.7, 4.1, 0.333, 1.001, 2, 3]
#: (mode, torch mode, input shape with the swept axis as 0)
#: (the other axes are 1, scaled by 1)
MODES = [("nearest", "nearest", (1, 1, 0)), ("nearest", "nearest", (1, 1, 0, 1)),
         ("nearest", "nearest", (1, 1, 1, 1, 0)), ("linear", "linear", (1, 1, 0)),
         ("linear", "bilinear", (1, 1, 1, 0)), ("linear", "trilinear", (1, 1, 1, 0, 1)),
         ("cubic", "bicubic", (1, 1, 0, 1))]


def _torch_size(shape, axis: int, n: int, factor, mode: str) -> int:
    """The size PyTorch gives along `axis` for an input of `n`, or 0 where it refuses."""
    shape = tuple(n if i == axis else s for i, s in enumerate(shape))
    factors = tuple(factor if i == axis else 1.0 for i in range(2, len(shape)))
    extra = {} if mode == "nearest" else {"align_corners": False}
    try:
        out = F.interpolate(torch.empty(shape), scale_factor=factors, mode=mode, **extra)
    except RuntimeError:
        return 0
    return out.shape[axis]


def _differ(n: int, factor, got: int) -> bool:
    ours = upsampled(n, factor)
    return ours != got and not (ours < 1 and got == 0)


def test_upsampled_sizes_are_pytorchs_for_every_size_and_two_decimal_factor():
    wrong = [(n, f) for f in FINE for n in range(1, 201)
             if _differ(n, f, _torch_size((1, 1, 0), 2, n, f, "nearest"))]
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("mode, torch_mode, shape", MODES,
                         ids=[f"{m}-{len(s) - 2}d" for _, m, s in MODES])
def test_upsampled_sizes_are_pytorchs_in_every_mode_and_rank(mode, torch_mode, shape):
    axis = shape.index(0)
    wrong = [(n, f) for f in SPREAD for n in range(1, 201)
              if _differ(n, f, _torch_size(shape, axis, n, f, torch_mode))]
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("size, factor, mode", [(45, "1.4", "linear"), (100, "0.29", "nearest"),
                                                (100, "0.57", "linear"), (90, "0.7", "nearest"),
                                                (45, "1.4", "cubic")])
def test_a_decimal_upsample_checks_to_the_shape_the_model_computes(size, factor, mode):
    text = (f"input 3x{size}x{size}\nupsample {factor} {mode} -> conv 8 k3 -> relu -> fc 10\n")
    result = cnndsl.check(text)
    assert result.ok, str(result)
    up = result.network.body.items[0]
    model = cnndsl.build(text)
    x = torch.randn(2, 3, size, size)
    assert tuple(model.up1(x).shape[1:]) == up.info.output
    assert model(x).shape == (2, 10)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_a_decimal_upsample_of_every_rank_builds_and_runs(rank):
    shape = "x".join(["2"] + ["45"] * rank)
    text = f"input {shape}\nupsample 1.4 -> flatten -> fc 3\n"
    assert cnndsl.check(text).ok
    out = cnndsl.build(text)(torch.randn(1, 2, *[45] * rank))
    assert out.shape == (1, 3)


def test_a_decimal_upsample_inside_a_block_runs_at_each_use():
    text = ("input 3x45x45\nblock Up(c) { upsample 1.4 -> conv c k3 p1 }\n"
            "Up(4) -> Up(5) -> fc 2\n")
    result = cnndsl.check(text)
    assert result.ok, str(result)
    assert result.summary.output == (2,)
    assert cnndsl.build(text)(torch.randn(1, 3, 45, 45)).shape == (1, 2)


def test_the_playground_explains_a_decimal_upsample_with_the_size_the_checker_gives():
    from cnndsl.query import explain

    result = cnndsl.check("input 3x45x45\nupsample 1.4 -> fc 2\n")
    steps = explain(result, "up1")["steps"]
    assert [s["value"] for s in steps if s["topic"] == "output"] == [62]


def test_a_huge_upsample_factor_is_an_answer_not_an_internal_error(tmp_path):
    for factor in ("1e300", "1e12 -> upsample 1e12 -> upsample 1e12 -> upsample 1e12"):
        (tmp_path / "big.cnn").write_text(f"input 3x45x45\nupsample {factor} -> fc 10\n")
        harness.assert_no_crash(harness.cnndsl("check", "big.cnn", cwd=tmp_path))
