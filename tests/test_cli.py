"""The command line, run as users run it: exit codes, JSON, diagrams."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest
from conftest import HAS_DOT, ROOT


def run(cmd, *args, cwd=ROOT, env=None):
    return subprocess.run(cmd + list(args), cwd=cwd, capture_output=True, text=True, env=env)


def test_check_prints_a_summary(cnndsl_cmd):
    done = run(cnndsl_cmd, "check", "specs/lenet.cnn")
    assert done.returncode == 0
    assert "conv 6 k5 s1 p0" in done.stdout and "Total params: 62,006" in done.stdout


def test_debug_checks_a_spec(cnndsl_cmd):
    assert run(cnndsl_cmd, "--debug", "check", "specs/inception_net.cnn").returncode == 0


def test_a_reader_that_stops_early_is_not_an_internal_error(cnndsl_cmd):
    specs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs").glob("*.cnn"))
    # twice over, ~180 kB: more than a pipe holds, so writing must fail once we stop reading
    with subprocess.Popen(cnndsl_cmd + ["check", *specs, *specs], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        proc.stdout.readline()   # `| head -1`
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        assert proc.wait() == 141
    assert stderr == ""


def test_check_json_shape(cnndsl_cmd):
    done = run(cnndsl_cmd, "check", "--format", "json", "specs/lenet.cnn",
               "tests/diagnostics/kernel_does_not_fit.cnn")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    good, bad = report["files"]
    assert good == {**good, "file": "specs/lenet.cnn", "ok": True, "diagnostics": []}
    summary = good["summary"]
    assert (summary["model"], summary["input"], summary["output"]) == ("LeNet", [3, 32, 32], [10])
    assert (summary["params"], summary["trainable_params"], summary["macs"]) == \
        (62006, 62006, 658238)
    assert summary["layers"][0] == {
        "index": 1, "kind": "layer", "depth": 0, "name": "conv1", "op": "conv",
        "text": "conv 6 k5 s1 p0", "line": 5, "column": 1,
        "span": {"line": 5, "column": 1, "end_line": 5, "end_column": 15,
                 "start": summary["layers"][0]["span"]["start"],
                 "end": summary["layers"][0]["span"]["start"] + 15},
        "input": [3, 32, 32], "output": [6, 28, 28], "params": 456, "macs": 357504,
        "receptive_field": [5, 5], "jump": [1, 1]}
    assert summary["inputs"] == [{"name": "x", "shape": [3, 32, 32]}]
    assert summary["outputs"] == [[10]]
    assert bad["ok"] is False and bad["summary"] is None
    (diag,) = bad["diagnostics"]
    assert diag == {"severity": "error", "code": "E0301",
                    "message": "kernel does not fit its input", "line": 3, "column": 12,
                    "end_line": 3, "end_column": 13, "span": diag["span"],
                    "label": "a 5x5 kernel needs at least 5x5 input, got 4x4",
                    "secondary": [{"span": diag["secondary"][0]["span"],
                                   "label": "output is 16x4x4"}],
                    "notes": diag["notes"], "fixes": [], "suggestions": [],
                    "help": "use `k3`, or add `p1`, to keep the output at least 1x1"}
    assert diag["secondary"][0]["span"]["line"] == 2


def test_check_quiet_and_exit_codes(cnndsl_cmd, tmp_path):
    ok = run(cnndsl_cmd, "check", "--quiet", "specs/lenet.cnn")
    assert ok.returncode == 0 and ok.stdout == ""
    bad = run(cnndsl_cmd, "check", "-q", "tests/diagnostics/syntax_double_arrow.cnn")
    assert bad.returncode == 1 and "error[E0001]" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr
    usage = run(cnndsl_cmd, "check")
    assert usage.returncode == 2
    missing = run(cnndsl_cmd, "check", str(tmp_path / "nope.cnn"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    folder = run(cnndsl_cmd, "check", str(tmp_path))
    assert folder.returncode == 2 and "Traceback" not in folder.stderr


def test_every_spec_checks(cnndsl_cmd):
    specs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs").glob("*.cnn"))
    assert run(cnndsl_cmd, "check", "--quiet", *specs).returncode == 0


def test_check_does_not_import_torch():
    code = ("import sys, cnndsl; r = cnndsl.check_file('specs/resnet50.cnn'); "
            "from cnndsl.backends.table.report import render_summary; "
            "render_summary(r.summary, 'x'); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([os.sys.executable, "-c", code], cwd=ROOT, check=True)


# ---- diagram ------------------------------------------------------------------------------

def test_diagram_dot_to_stdout(cnndsl_cmd):
    done = run(cnndsl_cmd, "diagram", "specs/inception_net.cnn", "--format", "dot", "-o", "-")
    assert done.returncode == 0
    assert "cluster_inception1" in done.stdout and "88x12x12" in done.stdout


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_diagram_svg_carries_every_shape(cnndsl_cmd, tmp_path):
    out = tmp_path / "net.svg"
    done = run(cnndsl_cmd, "diagram", "specs/residual_net.cnn", "-o", str(out))
    assert done.returncode == 0, done.stderr
    root = ET.parse(out).getroot()
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    import cnndsl

    for row in cnndsl.check_file(ROOT / "specs" / "residual_net.cnn").summary.layers:
        assert "x".join(map(str, row.output)) in text


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_diagram_formats_follow_the_extension(cnndsl_cmd, tmp_path, fmt, magic):
    out = tmp_path / f"net.{fmt}"
    assert run(cnndsl_cmd, "diagram", "specs/mnist_net.cnn", "-o", str(out),
               "--rankdir", "LR", "--collapse").returncode == 0
    assert out.read_bytes().startswith(magic)


def test_diagram_without_graphviz(cnndsl_cmd, tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}   # no `dot` on this PATH
    cmd = [os.sys.executable, "-m", "cnndsl"]
    done = run(cmd, "diagram", "specs/lenet.cnn", "-o", str(tmp_path / "x.svg"), env=env)
    assert done.returncode == 1
    assert "Graphviz" in done.stderr and "apt-get install graphviz" in done.stderr
    assert "--format dot" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.svg").exists()
    dot = run(cmd, "diagram", "specs/lenet.cnn", "--format", "dot", "-o",
              str(tmp_path / "x.dot"), env=env)
    assert dot.returncode == 0
    assert (tmp_path / "x.dot").read_text().startswith("// drawn by cnndsl\ndigraph")


def test_diagram_of_a_bad_spec(cnndsl_cmd, tmp_path):
    done = run(cnndsl_cmd, "diagram", "tests/diagnostics/kernel_does_not_fit.cnn",
               "--format", "dot", "-o", str(tmp_path / "x.dot"))
    assert done.returncode == 1 and "E0301" in done.stderr
    assert not (tmp_path / "x.dot").exists()


def test_diagram_api_returns_a_digraph():
    import graphviz

    import cnndsl

    graph = cnndsl.diagram(ROOT / "specs" / "residual_net.cnn")
    assert isinstance(graph, graphviz.Digraph)
    assert "identity" in graph.source   # the residual's skip edge
