"""Figures for papers and slides (issue 22): folded diagrams, one shape per edge,
block arguments in place, themes, legend; summary tables; TikZ."""

from __future__ import annotations

import re
import struct
import subprocess

import pytest
from conftest import HAS_DOT, ROOT

from cnndsl.codegen.api import _result
from cnndsl.draw import Options, draw

SPECS = ROOT / "specs"


def run(cmd, *args, cwd=ROOT):
    return subprocess.run(cmd + list(args), cwd=cwd, capture_output=True, text=True)


def dot(name: str, **options) -> str:
    return draw(_result(SPECS / f"{name}.cnn"), options=Options(**options)).source


def node_labels(source: str) -> dict[str, str]:
    """Node id -> label, from DOT text (labels are quoted or bare words)."""
    found = re.findall(r'^\t+(\w+) \[label=("(?:[^"\\]|\\.)*"|\S+)', source, re.M)
    return {node: label.strip('"') for node, label in found}


# ---- folding ------------------------------------------------------------------------------

def test_a_repeated_block_is_drawn_once_marked_with_its_count():
    source = dot("resnet50")
    assert "Bottleneck(64) ×2" in source and "Bottleneck(256) ×5" in source
    assert "cluster_bottleneck1" in source and "cluster_bottleneck2 " not in source
    # one cluster per run: Down and Bottleneck in each of the four stages
    assert len(re.findall(r"subgraph cluster_", source)) == 8


def test_collapse_draws_the_four_stages_of_resnet50():
    source = dot("resnet50", collapse=True)
    assert "subgraph" not in source
    stages = [label for label in node_labels(source).values() if "→" in label]
    assert [s.split("\n")[0] for s in stages] == [
        "Down(64, s=1) → Bottleneck(64) ×2", "Down(128) → Bottleneck(128) ×3",
        "Down(256) → Bottleneck(256) ×5", "Down(512) → Bottleneck(512) ×2"]
    assert "25,557,032 parameters" in source


def test_expand_opens_one_block_of_a_collapsed_drawing():
    source = dot("resnet50", collapse=True, expand=frozenset({"Bottleneck"}))
    assert "cluster_bottleneck1" in source and "cluster_down1" not in source
    assert "Down(64, s=1)\\n" not in source and "Down(64, s=1)\n" in source


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_folded_resnet50_fits_a_page(cnndsl_cmd, tmp_path):
    out = tmp_path / "r50.png"
    done = run(cnndsl_cmd, "diagram", "specs/resnet50.cnn", "--collapse", "-o", str(out))
    assert done.returncode == 0, done.stderr
    width, height = struct.unpack(">II", out.read_bytes()[16:24])
    assert max(width, height) <= 1600


# ---- labels -------------------------------------------------------------------------------

def test_layers_inside_a_block_read_with_the_uses_values():
    labels = node_labels(dot("resnet50"))
    assert labels["bottleneck1__conv3"].startswith("conv 256 k1 nobias")
    assert labels["down2__branch1_conv2"].startswith("conv 128 k3 stride=2 p1 nobias")
    assert not any(re.match(r"conv c\b", label) for label in labels.values())
    assert 'label="Bottleneck(64) ×2  (140,800 params)\nc = 64"' in dot("resnet50")


@pytest.mark.parametrize("name", ["lenet", "residual_net", "unet_small", "inception_net"])
def test_each_shape_is_on_its_edge_not_in_its_node(name):
    source = dot(name)
    shape = re.compile(r"^\d+(x\d+)*$")
    for node, label in node_labels(source).items():
        if node.startswith(("input", "output")):
            continue
        assert not any(shape.match(line) for line in label.split("\n")), (node, label)
    assert re.search(r'-> \w+ \[label=" \d+(x\d+)* "', source)
    asked = node_labels(dot(name, node_shapes=True))
    assert any(shape.match(line) for label in asked.values() for line in label.split("\n"))


# ---- look ---------------------------------------------------------------------------------

def test_print_theme_has_no_fills_and_dark_has_a_background():
    printed = dot("lenet", theme="print")
    assert "filled" not in printed and not re.search(r"#[0-9a-f]{6}", printed.replace(
        "fillcolor=white", ""))
    assert "bgcolor=\"#1e1e1e\"" in dot("lenet", theme="dark")


def test_left_to_right_turns_pooling_to_point_along_the_flow():
    assert "orientation" not in dot("lenet")
    pools = re.findall(r"^\tpool\d \[.*", dot("lenet", rankdir="LR"), re.M)
    assert pools and all("orientation=90" in line for line in pools)


def test_legend_names_the_families_drawn():
    source = dot("lenet", legend=True)
    assert "cluster_legend" in source
    labels = node_labels(source)
    assert {labels[k] for k in labels if k.startswith("legend_")} == {
        "convolution", "pooling", "activation", "fully connected"}


@pytest.mark.parametrize("args,words", [
    (("--dpi", "5000", "-o", "x.png"), "out of range"),
    (("--dpi", "200", "-o", "x.svg"), "PNG"),
    (("--collapse", "--expand", "Nope", "--format", "dot", "-o", "-"), "no block"),
    (("--expand", "Bottleneck", "--format", "dot", "-o", "-"), "--collapse"),
])
def test_diagram_options_refused_in_words(cnndsl_cmd, tmp_path, args, words):
    done = run(cnndsl_cmd, "diagram", str(SPECS / "resnet50.cnn"), *args, cwd=tmp_path)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_dpi_sets_the_png_resolution(cnndsl_cmd, tmp_path):
    sizes = []
    for dpi in ("96", "192"):
        out = tmp_path / f"{dpi}.png"
        assert run(cnndsl_cmd, "diagram", "specs/lenet.cnn", "--dpi", dpi,
                   "-o", str(out)).returncode == 0
        sizes.append(struct.unpack(">II", out.read_bytes()[16:24]))
    assert sizes[1][0] >= 1.9 * sizes[0][0]
