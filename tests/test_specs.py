"""Every spec in specs/: checks clean, golden summary, golden code, golden DOT,
and the classic nets' figures against torchvision's published tables."""

from __future__ import annotations

import pytest
from conftest import GOLDEN, ROOT, SPECS, spec_id

import cnndsl
from cnndsl.backends.diagram import draw
from cnndsl.backends.pytorch.build import compile_result
from cnndsl.backends.table.report import render_summary


def _result(path):
    return cnndsl.check_file(path.relative_to(ROOT).as_posix())


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_spec_checks_without_errors(path):
    result = _result(path)
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.summary is not None


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_summary_golden(path, golden):
    result = _result(path)
    text = render_summary(result.summary, result.source.name) + "\n"
    golden(GOLDEN / "summary" / f"{path.stem}.txt", text)


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_code_golden(path, golden):
    golden(GOLDEN / "code" / f"{path.stem}.py", compile_result(_result(path)))


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_dot_golden(path, golden):
    golden(GOLDEN / "dot" / f"{path.stem}.dot", draw(_result(path)).source)


# Figures from torchvision's model tables (params exact; GFLOPS there are
# multiply-adds, to two decimals). torchvision counts conv and fc weights only;
# the convention asked of cnndsl adds each bias (x output positions for a conv),
# which moves ResNet/MobileNet by 1,000 (the fc bias) and VGG-16 by 13.5M.
TORCHVISION = {
    "resnet50": (25_557_032, 4.09e9, 4_089_185_256),
    "resnet18": (11_689_512, 1.81e9, 1_814_074_344),
    "mobilenet_v2": (3_504_872, 0.30e9, 300_775_272),
    "vgg16": (138_357_544, 15.48e9, 15_483_821_032),
}


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_classic_nets_match_torchvision_tables(name):
    params, rounded_macs, exact_macs = TORCHVISION[name]
    summary = _result(ROOT / "specs" / f"{name}.cnn").summary
    assert summary.params == params
    assert summary.macs == exact_macs
    assert round(summary.macs / 1e9, 2) == round(rounded_macs / 1e9, 2)


def test_vgg16_macs_differ_from_torchvision_only_by_conv_biases():
    summary = _result(ROOT / "specs" / "vgg16.cnn").summary
    bias_terms = sum(r.output[0] * r.output[1] * r.output[2]
                     for r in summary.layers if r.op == "conv")
    fc_bias = 4096 + 4096 + 1000
    torchvision_macs = summary.macs - bias_terms - fc_bias
    assert round(torchvision_macs / 1e9, 2) == 15.47


def test_lenet_json_figures_from_the_issue():
    summary = _result(ROOT / "specs" / "lenet.cnn").summary
    assert (summary.params, summary.macs) == (62006, 658238)
    first = summary.layers[0]
    assert (first.name, first.output, first.params, first.macs, first.rf, first.jump) == \
        ("conv1", (6, 28, 28), 456, 357504, (5, 5), (1, 1))
