"""Figures for papers and slides (issue 22): folded diagrams, one shape per edge,
block arguments in place, themes, legend; summary tables; TikZ."""

from __future__ import annotations

import re
import struct
import subprocess

import pytest
from conftest import HAS_DOT, ROOT

from cnndsl.api import check_spec as _result
from cnndsl.backends.diagram import MARK, Options, draw

SPECS = ROOT / "specs"


def run(cli, *args, cwd=ROOT):
    """`cnndsl ARGS` in process (conftest's `cli`): these tests read what a command
    draws and says, not how a process starts."""
    return cli(*args, cwd=cwd)


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
def test_folded_resnet50_fits_a_page(cli, tmp_path):
    out = tmp_path / "r50.png"
    done = run(cli, "diagram", "specs/resnet50.cnn", "--collapse", "-o", str(out))
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
    printed = dot("unet_small", theme="print")
    assert "filled" not in printed and "#0072b2" not in printed   # the skips too


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
def test_diagram_options_refused_in_words(cli, tmp_path, args, words):
    done = run(cli, "diagram", str(SPECS / "resnet50.cnn"), *args, cwd=tmp_path)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_dpi_sets_the_png_resolution(cli, tmp_path):
    sizes = []
    for dpi in ("96", "192"):
        out = tmp_path / f"{dpi}.png"
        assert run(cli, "diagram", "specs/lenet.cnn", "--dpi", dpi,
                   "-o", str(out)).returncode == 0
        sizes.append(struct.unpack(">II", out.read_bytes()[16:24]))
    assert sizes[1][0] >= 1.9 * sizes[0][0]


# ---- summary tables -----------------------------------------------------------------------

HOSTILE = ("model Net_1\ninput 1x8x8\nblock My_Block(c=4) { conv c k3 p1 -> relu }\n"
           "My_Block(4) * 2 -> fc 2\n")


def test_markdown_table_has_a_row_per_summary_row_and_totals():
    import cnndsl

    result = cnndsl.check_file(SPECS / "lenet.cnn")
    table = result.to_markdown()
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 3 + len(result.summary.rows) + 1   # header, rule, input, rows, total
    assert rows[-1] == "| **Total** |  | 10 | 62,006 | 658,238 |  |"
    assert all(row.count(" | ") == 5 for row in rows)


def test_collapsed_tables_fold_repeated_uses():
    import cnndsl

    result = cnndsl.check_file(SPECS / "resnet50.cnn")
    table = result.to_markdown(collapse=True)
    assert "| Bottleneck(256) ×5 | bottleneck6 | 1024x14x14 | 5,585,920 |" in table
    assert "bottleneck7" not in table and "conv 256 k1" not in table
    latex = result.to_latex(collapse=True)
    assert r"Bottleneck(256) $\times5$" in latex and "25,557,032" in latex


def test_csv_rows_are_the_layers_with_unformatted_numbers():
    import csv
    import io

    import cnndsl

    result = cnndsl.check_file(SPECS / "resnet50.cnn")
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert len(rows) == len(result.summary.layers)
    assert sum(int(r["params"]) for r in rows) == result.summary.params == 25557032
    assert rows[0]["output"] == "64x112x112" and rows[0]["receptive_field"] == "7x7"
    folded = list(csv.DictReader(io.StringIO(result.to_csv(collapse=True))))
    assert sum(int(r["params"]) for r in folded) == 25557032
    assert [r["count"] for r in folded if r["text"] == "Bottleneck(256)"] == ["5"]


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"x\")", "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_a_csv_cell_is_never_a_formula(cell):
    from cnndsl.backends.table.markup import csv_cell

    assert csv_cell(cell)[0] not in "=+-@\t\r" and csv_cell("conv 4 k3") == "conv 4 k3"
    assert csv_cell(cell).startswith("'") or csv_cell(cell).startswith("\\x")
    assert csv_cell(-2) == -2   # numbers stay numbers


def test_markdown_escapes_what_would_break_the_table():
    from cnndsl.backends.table.markup import md_escape

    assert md_escape("a|b<script>*x*_y_`z`") == r"a\|b\<script\>\*x\*\_y\_\`z\`"
    import cnndsl

    table = cnndsl.check(HOSTILE, "hostile.cnn").to_markdown()
    assert r"**Net\_1**" in table and r"My\_Block(4)" in table


def test_latex_escapes_every_special_character():
    from cnndsl.backends.table.markup import tex_escape

    assert tex_escape("a_b & 50% $x$ #1 {y} ~^\\") == (
        r"a\_b \& 50\% \$x\$ \#1 \{y\} \textasciitilde{}\textasciicircum{}\textbackslash{}")
    assert tex_escape("\x1b[31m") == r"\textbackslash{}x1b[31m"


def pdflatex(tmp_path, body: str, packages: str) -> subprocess.CompletedProcess:
    doc = tmp_path / "doc.tex"
    doc.write_text(body if "\\documentclass" in body else
                   f"\\documentclass{{article}}\n{packages}\n\\begin{{document}}\n{body}\n"
                   "\\end{document}\n", encoding="utf-8")
    return subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "-no-shell-escape", doc.name], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)


HAS_LATEX = __import__("shutil").which("pdflatex") is not None
NO_LATEX = ("pdflatex is not installed (Debian: scripts/install.sh --figures installs "
            "texlive-latex-base and texlive-pictures); the LaTeX output was not compiled")


@pytest.mark.skipif(not HAS_LATEX, reason=NO_LATEX)
def test_latex_tables_compile(tmp_path):
    import cnndsl

    if subprocess.run(["kpsewhich", "booktabs.sty"], capture_output=True).returncode != 0:
        pytest.skip("booktabs.sty is not installed (Debian: texlive-latex-recommended, which "
                    "texlive-pictures brings); the LaTeX table was not compiled")

    tables = [cnndsl.check_file(SPECS / "resnet50.cnn").to_latex(collapse=True),
              cnndsl.check_file(SPECS / "inception_net.cnn").to_latex(),
              cnndsl.check(HOSTILE, "hostile_&_%.cnn").to_latex()]
    done = pdflatex(tmp_path, "\n\n".join(r"\resizebox{\textwidth}{!}{" + t + "}"
                                          for t in tables),
                    "\\usepackage{booktabs}\n\\usepackage{graphicx}")
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "doc.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("fmt,first", [("markdown", "**LeNet**"), ("csv", "index,kind"),
                                       ("latex", "% LeNet")])
def test_check_prints_the_table_alone(cli, fmt, first):
    done = run(cli, "check", "specs/lenet.cnn", "--format", fmt)
    assert done.returncode == 0 and done.stdout.startswith(first)
    broken = run(cli, "check", "tests/diagnostics/kernel_does_not_fit.cnn",
                 "--format", fmt)
    assert broken.returncode == 1 and broken.stdout == "" and "E0301" in broken.stderr


# ---- TikZ ---------------------------------------------------------------------------------

GOLDEN = ROOT / "tests" / "golden" / "tikz"
ALL_SPECS = sorted(SPECS.glob("*.cnn"))


def tikz_of(path, style="flow", standalone=True, **options):
    from cnndsl.backends.tikz import tikz

    return tikz(_result(path), Options(**options), style, standalone=standalone)


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: p.stem)
def test_tikz_golden(path, golden):
    golden(GOLDEN / f"{path.stem}.tex", tikz_of(path))
    golden(GOLDEN / f"{path.stem}.boxes.tex", tikz_of(path, "boxes", standalone=False))


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: p.stem)
def test_tikz_flow_places_no_two_nodes_at_one_point(path):
    # yolo_tiny_like's second head rejoined the first lane at a merge and sat on `output 1`
    places = re.findall(r"\\node\[[^\]]*\] \((n\d+)\) at \(([-\d.]+,[-\d.]+)\)",
                        tikz_of(path))
    assert places
    seen: dict[str, str] = {}
    for node, at in places:
        assert at not in seen, f"{node} and {seen[at]} both at ({at})"
        seen[at] = node


def test_tikz_folds_and_carries_one_shape_per_edge():
    flow = tikz_of(SPECS / "resnet50.cnn")
    assert r"conv 256 k1 nobias\\16,384 params" in flow   # the use's values, not `c*4`
    assert r"1024$\times$14$\times$14" in flow
    assert "Bottleneck(64) ×2" not in flow   # non-ASCII never reaches pdflatex raw
    boxes = tikz_of(SPECS / "resnet50.cnn", "boxes")
    assert r"Down(256) $\to$ Bottleneck(256) $\times$5" in boxes
    assert "relu" not in boxes   # activations ride on the box before them


def test_tikz_escapes_hostile_names():
    import cnndsl
    from cnndsl.backends.tikz import tikz

    text = tikz(cnndsl.check(HOSTILE, "x.cnn"), Options())
    assert r"My\_Block(4) $\times$2" in text and r"c = 4" in text
    text = tikz(cnndsl.check(HOSTILE, "x.cnn"), Options(collapse=True))
    assert r"My\_Block(4) $\times$2" in text and r"% Net\_1:" in text
    assert "My_Block" not in text and "Net_1" not in text


@pytest.mark.skipif(not HAS_LATEX, reason=NO_LATEX)
@pytest.mark.parametrize("name", ["lenet", "resnet50", "unet_small"])
@pytest.mark.parametrize("style", ["flow", "boxes"])
def test_tikz_compiles_to_a_pdf(tmp_path, name, style):
    done = pdflatex(tmp_path, tikz_of(SPECS / f"{name}.cnn", style), "")
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "doc.pdf").read_bytes().startswith(b"%PDF")
    picture = tikz_of(SPECS / f"{name}.cnn", style, standalone=False)
    from cnndsl.backends.tikz import LIBRARIES

    assert LIBRARIES in picture.splitlines()[2]   # the comment says what to load
    done = pdflatex(tmp_path, picture, f"\\usepackage{{tikz}}\n\\usetikzlibrary{{{LIBRARIES}}}")
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.skipif(not HAS_LATEX, reason=NO_LATEX)
def test_tikz_of_hostile_names_compiles(tmp_path):
    import cnndsl
    from cnndsl.backends.tikz import tikz

    done = pdflatex(tmp_path, tikz(cnndsl.check(HOSTILE, "x.cnn"), Options()), "")
    assert done.returncode == 0, done.stdout[-2000:]


def test_diagram_writes_tex_and_guards_it(cli, tmp_path):
    out = tmp_path / "net.tex"
    done = run(cli, "diagram", str(SPECS / "lenet.cnn"), "-o", str(out), "--style",
               "boxes", "--tikz-only")
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("% drawn by cnndsl\n") and "\\documentclass" not in \
        out.read_text()
    assert run(cli, "diagram", str(SPECS / "lenet.cnn"), "-o", str(out)).returncode == 0
    assert "\\documentclass" in out.read_text()   # our own file: replaced
    paper = tmp_path / "paper.tex"
    paper.write_text("\\documentclass{article}\n")
    refused = run(cli, "diagram", str(SPECS / "lenet.cnn"), "-o", str(paper))
    assert refused.returncode == 1 and "not overwriting" in refused.stderr
    assert paper.read_text() == "\\documentclass{article}\n"
    wrong = run(cli, "diagram", str(SPECS / "lenet.cnn"), "-o", str(tmp_path / "x.svg"),
                "--tikz-only")
    assert wrong.returncode == 2 and "-o NAME.tex" in wrong.stderr


# ---- the U --------------------------------------------------------------------------------

def test_unet_is_drawn_in_a_u_and_other_nets_are_not():
    source = dot("unet_small", collapse=True)
    assert source.count("rank=same") == 2 and "dir=back" in source
    assert "dir=back" not in dot("unet_small", collapse=True, layout="flow")
    for name in ("lenet", "resnet50", "inception_net", "fpn_resnet18"):
        assert "dir=back" not in dot(name, collapse=True), name


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_unet_u_has_skips_across_and_the_decoder_on_the_right():
    plain = subprocess.run(["dot", "-Tplain"], input=dot("unet_small", collapse=True),
                           capture_output=True, text=True, check=True).stdout
    at = {f[1]: (float(f[2]), float(f[3])) for f in map(str.split, plain.splitlines())
          if f[0] == "node"}
    # each skip: the encoder's Double on the left, the concat on the same row to its right
    for encoder, merge in (("e1", "concat2"), ("e2", "concat1")):   # labels name modules
        assert at[encoder][1] == at[merge][1] and at[encoder][0] < at[merge][0]
    assert at["double3"][1] < at["e2"][1]   # the bottleneck at the bottom
    assert at["output"][1] > at["double3"][1] and at["output"][0] > at["input"][0]


# ---- hostile names in every figure format -----------------------------------------------

def _hostile_results():
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from attacks import hostile

    import cnndsl

    for position, spec in hostile.NAME_SPECS.items():
        for name in ("_", "__init__", "a_b_", "self", "x1_"):
            result = cnndsl.check(spec.replace(hostile.HOLE, name), f"{name}%&_.cnn")
            if result.ok:
                yield position, name, result


def test_names_reach_latex_markdown_and_csv_escaped():
    from cnndsl.backends.tikz import tikz

    seen = 0
    for position, name, result in _hostile_results():
        seen += 1
        tables = (result.to_latex(), result.to_latex(collapse=True))
        assert r"\%\&\_.cnn" in tables[0] and "%&_.cnn" not in tables[0]
        for text in (*tables, tikz(result, Options()), tikz(result, Options(), "boxes")):
            bare = text.replace(r"\_", "").replace(r"\%", "").replace(r"\&", "")
            assert "_" not in bare, (position, name)
            rows = [line for line in bare.splitlines() if line.endswith(r"\\")]
            cells = 5 if text in tables else 0
            assert all(row.count("&") == cells for row in rows), (position, name)
        assert "_" not in result.to_markdown().replace(r"\_", ""), (position, name)
        assert not any(cell[:1] and cell[:1] in "=+-@" for line in result.to_csv().splitlines()
                       for cell in line.split(","))
    assert seen >= 5


@pytest.mark.parametrize("args,words", [
    (("specs/lenet.cnn", "--collapse"), "--format markdown"),
    (("specs/lenet.cnn", "specs/resnet50.cnn", "--format", "csv"), "one file"),
])
def test_check_table_options_refused_in_words(cli, args, words):
    done = run(cli, "check", *args)
    assert done.returncode == 2 and words in done.stderr and done.stdout == ""


# ---- SVG ----------------------------------------------------------------------------------

@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: p.stem)
def test_svg_golden(path, golden):
    """What the SVG says, text by text in drawing order: the words are ours, the
    coordinates Graphviz's (they move with its version and fonts, so they are left out)."""
    import xml.etree.ElementTree as ET

    svg = draw(_result(path), options=Options(collapse=True)).pipe(format="svg")
    root = ET.fromstring(svg)
    assert f"<!-- {MARK} -->".encode() in svg
    texts = [t.text or "" for t in root.iter() if t.tag.endswith("}text")]
    golden(ROOT / "tests" / "golden" / "svg" / f"{path.stem}.txt", "\n".join(texts) + "\n")



@pytest.mark.parametrize("body,drawn", [
    ("conv c kernel=k padding=k//2", "conv 8 kernel=3 padding=1"),
    ("conv c*2 k3 p1 groups=c", "conv 16 k3 p1 groups=8"),
    ("dropout p=q", "dropout p=0.5"),
    ("upsample s", "upsample 2"),
    ("maxpool k s1", "maxpool 3 s1"),
])
def test_every_written_form_of_an_argument_takes_the_uses_value(body, drawn):
    import cnndsl
    from cnndsl.backends.diagram import written

    spec = f"input 8x16x16\nblock B(c, k=3, q=0.5, s=2) {{ {body} }}\nB(8) -> gap -> fc 2\n"
    result = cnndsl.check(spec, "x.cnn")
    layer = result.network.body.items[0].body.items[0]
    assert written(layer, result.source.text) == drawn
