"""Property tests with PyTorch as the oracle, and fuzzing of the front end.

Generated chains are checked by cnndsl and, independently, built layer by layer
in PyTorch on a real tensor: `check` accepts exactly when PyTorch runs, and
then every inferred shape and parameter count equals PyTorch's."""

from __future__ import annotations

import os

import pytest
import torch
from conftest import SPECS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import cnndsl

RANKS = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}

#: `CNNDSL_EXAMPLES_SCALE=20 pytest tests/test_properties.py` hunts harder
SCALE = int(os.environ.get("CNNDSL_EXAMPLES_SCALE", "1"))


@st.composite
def layer(draw):
    kind = draw(st.sampled_from(["conv", "conv", "conv", "maxpool", "avgpool", "bn", "relu",
                                 "dropout", "gap", "adaptive"]))
    if kind == "conv":
        return {"kind": kind, "out": draw(st.integers(1, 8)), "k": draw(st.integers(1, 5)),
                "s": draw(st.integers(1, 3)), "p": draw(st.integers(0, 2)),
                "d": draw(st.integers(1, 2)), "g": draw(st.sampled_from([1, 1, 2])),
                "bias": draw(st.booleans())}
    if kind in ("maxpool", "avgpool"):
        return {"kind": kind, "k": draw(st.integers(1, 4)), "s": draw(st.integers(1, 3)),
                "p": draw(st.integers(0, 2)), "ceil": draw(st.booleans())}
    if kind == "adaptive":
        return {"kind": kind, "size": draw(st.integers(1, 4))}
    return {"kind": kind}


@st.composite
def network(draw):
    rank = draw(st.sampled_from([1, 2, 2, 3]))
    size = draw(st.integers(4, 20 if rank < 3 else 8))
    shape = (draw(st.integers(1, 4)),) + (size,) * rank
    layers = draw(st.lists(layer(), min_size=1, max_size=6))
    fc = draw(st.one_of(st.none(), st.integers(1, 10)))
    return shape, layers, fc


def render(shape, layers, fc) -> str:
    words = []
    for spec in layers:
        k = spec["kind"]
        if k == "conv":
            words.append(f"conv {spec['out']} k{spec['k']} s{spec['s']} p{spec['p']} "
                         f"d{spec['d']} g{spec['g']}" + ("" if spec["bias"] else " nobias"))
        elif k in ("maxpool", "avgpool"):
            words.append(f"{k} {spec['k']} s{spec['s']} p{spec['p']}" +
                         (" ceil" if spec["ceil"] else ""))
        elif k == "adaptive":
            words.append(f"adaptiveavgpool {spec['size']}")
        elif k == "bn":
            words.append("batchnorm")
        elif k == "dropout":
            words.append("dropout 0.3")
        else:
            words.append(k)
    if fc is not None:
        words.append(f"fc {fc}")
    return "input " + "x".join(map(str, shape)) + "\n" + " -> ".join(words) + "\n"


def torch_layers(shape, layers, fc):
    """Run PyTorch layer by layer; returns [(output shape, params)] or None if it fails."""
    rank = len(shape) - 1
    x = torch.zeros(2, *shape)
    out = []
    try:
        for spec in layers + ([{"kind": "fc", "out": fc}] if fc is not None else []):
            k = spec["kind"]
            c = x.shape[1]
            if k == "conv":
                m = RANKS[rank](c, spec["out"], spec["k"], stride=spec["s"], padding=spec["p"],
                                dilation=spec["d"], groups=spec["g"], bias=spec["bias"])
            elif k == "maxpool":
                m = getattr(nn, f"MaxPool{rank}d")(spec["k"], spec["s"], spec["p"],
                                                   ceil_mode=spec["ceil"])
            elif k == "avgpool":
                m = getattr(nn, f"AvgPool{rank}d")(spec["k"], spec["s"], spec["p"],
                                                   ceil_mode=spec["ceil"])
            elif k == "adaptive":
                m = getattr(nn, f"AdaptiveAvgPool{rank}d")(spec["size"])
            elif k == "gap":
                m = getattr(nn, f"AdaptiveAvgPool{rank}d")(1)
            elif k == "bn":
                m = getattr(nn, f"BatchNorm{rank}d")(c)
            elif k == "dropout":
                m = nn.Dropout(0.3)
            elif k == "fc":
                x = x.flatten(1)
                m = nn.Linear(x.shape[1], spec["out"])
            else:
                m = nn.ReLU()
            m.eval()
            x = m(x)
            if x.numel() == 0:
                return None
            out.append((tuple(x.shape[1:]), sum(p.numel() for p in m.parameters())))
    except (RuntimeError, ValueError):
        return None
    return out


@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network())
def test_check_agrees_with_pytorch(net):
    shape, layers, fc = net
    result = cnndsl.check(render(shape, layers, fc))
    oracle = torch_layers(shape, layers, fc)
    assert result.ok == (oracle is not None), (render(*net), result.diagnostics)
    if oracle is None:
        return
    rows = [r for r in result.summary.layers if r.kind == "layer"]
    assert [(r.output, r.params) for r in rows] == oracle


@settings(max_examples=60 * SCALE, deadline=None)
@given(network())
def test_compiled_module_matches_inference(net):
    text = render(*net)
    result = cnndsl.check(text)
    if not result.ok:
        return
    model = cnndsl.build(text)
    assert sum(p.numel() for p in model.parameters()) == result.summary.params
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, *result.summary.input))
    assert tuple(out.shape[1:]) == result.summary.output


# ---- fuzzing: never an uncaught exception -------------------------------------------------

def _no_crash(text: str) -> None:
    result = cnndsl.check(text, "fuzz.cnn")
    assert result.ok or result.diagnostics


@settings(max_examples=400 * SCALE, deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_crashes(text):
    _no_crash(text)


ALPHABET = list("()->,*=+/{}\n #x0123456789") + ["conv", "relu", "fc", "input", "block",
                                                  "concat(", "add(", "residual(", "k3", "s2",
                                                  "let", "model", "train", "assert", "Name("]


@settings(max_examples=400 * SCALE, deadline=None)
@given(st.sampled_from(SPECS), st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 5),
                                                  st.sampled_from(ALPHABET)), max_size=6))
def test_mutated_specs_never_crash(path, edits):
    text = path.read_text()
    for pos, delete, insert in edits:
        pos = pos % (len(text) + 1)
        text = text[:pos] + insert + text[pos + delete:]
    _no_crash(text)


def test_deep_nesting_is_an_error_not_a_crash():
    text = "input 1x8x8\n" + "(" * 10_000 + "relu" + ")" * 10_000 + "\n"
    result = cnndsl.check(text)
    assert [d.code for d in result.diagnostics] == ["E0005"]


def test_long_expressions():
    result = cnndsl.check("input 1x8x8\nfc " + "+".join(["1"] * 200) + "\n")
    assert result.ok and result.summary.output == (200,)
    absurd = cnndsl.check("input 1x8x8\nfc " + "+".join(["1"] * 50_000) + "\n")
    assert [d.code for d in absurd.diagnostics] == ["E0005"]


def test_hundred_thousand_line_file():
    text = "input 1x8x8\nrelu\n" + "-> relu\n" * 100_000
    result = cnndsl.check(text)
    assert result.ok and len(result.summary.layers) == 100_001


def test_huge_repetition_is_refused():
    result = cnndsl.check("input 1x8x8\nrelu * 100000000\n")
    assert [d.code for d in result.diagnostics] == ["E0006"]


@pytest.mark.parametrize("data", [b"\x00\x01\x02garbage", b"input 1x8x8\n\xff\xfe relu\n",
                                  b"", b"\xef\xbb\xbfinput 1x8x8\nrelu\n"])
def test_binary_and_undecodable_files(tmp_path, data):
    path = tmp_path / "x.cnn"
    path.write_bytes(data)
    result = cnndsl.check_file(path)
    if data.startswith(b"\xef\xbb\xbf"):
        assert result.ok
    else:
        assert not result.ok and result.diagnostics
