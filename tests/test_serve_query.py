"""`cnndsl.backends.query`: which layer is at a position, and its arithmetic with its own numbers.

Every formula it shows is evaluated here and must give the number it states,
and that number must be the checker's own (shape, parameters, multiply-adds,
receptive field, jump), for every layer of every spec in `specs/`.
"""

from __future__ import annotations

import ast
import json
import operator
import re

import pytest
from conftest import SPECS, spec_id

import cnndsl
from cnndsl.backends import query

LENET = """# LeNet
model LeNet
input 3x32x32

conv 6 k5 s1 p0 -> relu -> maxpool 2
-> conv 16 k5 -> relu -> maxpool 2
-> fc 120 -> relu -> fc 84 -> relu -> fc 10
"""


def texts(answer: dict, topic: str) -> list[str]:
    return [s["text"] for s in answer["steps"] if s["topic"] == topic]


def test_the_course_notes_example():
    result = cnndsl.check("input 1x28x28\nconv 6 k5 -> relu -> fc 10")
    answer = query.layer_at(result, 2, 1)
    assert answer["name"] == "conv1"
    assert texts(answer, "output") == ["⌊(28 + 2·0 − 5)/1⌋ + 1 = 24"]
    assert texts(answer, "params") == ["(5·5·1 + 1)·6 = 156"]
    assert texts(answer, "macs") == ["156·24·24 = 89,856"]
    assert texts(answer, "rf") == ["1 + (5 − 1)·1 = 5"]


def test_lenet_by_position():
    result = cnndsl.check(LENET, "lenet.cnn")
    conv = query.layer_at(result, 5, 3)
    assert (conv["name"], conv["text"], conv["input"], conv["output"]) == \
        ("conv1", "conv 6 k5 s1 p0", [3, 32, 32], [6, 28, 28])
    assert texts(conv, "params") == ["(5·5·3 + 1)·6 = 456"]
    assert conv["window"] == {"op": "conv", "channels": 3, "input": [32, 32],
                              "output": [28, 28], "kernel": [5, 5], "stride": [1, 1],
                              "dilation": [1, 1], "padding": [0, 0], "padding_after": [0, 0],
                              "same": False, "ceil": False}
    pool = query.layer_at(result, 5, 29)
    assert pool["name"] == "pool1"
    assert texts(pool, "output") == ["⌊(28 + 2·0 − 2)/2⌋ + 1 = 14"]
    assert texts(pool, "rf") == ["5 + (2 − 1)·1 = 6"] and texts(pool, "jump") == ["1·2 = 2"]
    fc = query.layer_at(result, 7, 5)
    assert texts(fc, "features") == ["16·5·5 = 400"]
    assert texts(fc, "params") == ["(400 + 1)·120 = 48,120"] and fc["window"] is None


def test_positions_between_and_at_the_edges_of_layers():
    result = cnndsl.check(LENET, "lenet.cnn")
    assert query.layer_at(result, 1, 3) is None              # a comment
    assert query.layer_at(result, 3, 1) is None              # the input line
    assert query.layer_at(result, 5, 16)["name"] == "conv1"   # just after `p0`
    assert query.layer_at(result, 5, 21)["name"] == "relu1"
    assert query.layer_at(result, 99, 99) is None            # past the end: clamped, nothing


def test_a_layer_in_a_block_lists_every_use():
    result = cnndsl.check_file("specs/resnet50.cnn")
    line = result.source.text.splitlines().index(
        "        -> conv c k3 p1 nobias -> bn -> relu") + 1
    answer = query.layer_at(result, line, 12)
    assert answer["name"] == "bottleneck1.conv2"
    assert len(answer["uses"]) == 12 and answer["uses"][-1] == "bottleneck12.conv2"
    assert texts(answer, "params") == ["3·3·64·64 = 36,864"]   # nobias: no + 1
    assert texts(answer, "macs") == ["36,864·56·56 = 115,605,504"]   # grouped, as results are
    (macs,) = [s for s in answer["steps"] if s["topic"] == "macs"]
    assert "bias" not in macs["note"]                        # a nobias conv has none to apply
    later = query.explain(result, "bottleneck12.conv2")
    assert texts(later, "params") == ["3·3·512·512 = 2,359,296"]


def test_blocks_and_merges():
    result = cnndsl.check_file("specs/inception_net.cnn")
    merge = query.explain(result, "inception1.concat1")
    assert texts(merge, "output") == ["16 + 24 + 24 + 24 = 88"]
    block = query.explain(result, "inception1")
    assert texts(block, "params")[0].endswith(f"= {block['params']:,}")
    residual = query.explain(cnndsl.check_file("specs/resnet50.cnn"), "bottleneck1.residual1")
    assert "the first is the input itself" in residual["steps"][0]["text"]


def test_grouped_same_dilated_and_ceil_windows():
    spec = ("input 8x20x20\nconv 8 k3 p1 g8 -> conv 8 k5 same -> conv 4 k3 d2 "
            "-> maxpool 3 s2 ceil")
    result = cnndsl.check(spec)
    grouped = query.explain(result, "conv1")
    assert texts(grouped, "params") == ["(3·3·(8/8) + 1)·8 = 80"]
    same = query.explain(result, "conv2")
    assert texts(same, "output") == ["⌊(20 + 4 − 1·(5 − 1) − 1)/1⌋ + 1 = 20"]
    assert same["window"]["padding"] == [2, 2] and same["window"]["same"]
    dilated = query.explain(result, "conv3")
    assert texts(dilated, "output") == ["⌊(20 + 2·0 − 2·(3 − 1) − 1)/1⌋ + 1 = 16"]
    assert texts(dilated, "rf") == ["7 + 2·(3 − 1)·1 = 11"]
    ceil = query.explain(result, "pool1")
    assert texts(ceil, "output") == ["⌈(16 + 2·0 − 3)/2⌉ + 1 = 8"]


def test_even_kernel_same_padding_splits_like_pytorch():
    result = cnndsl.check("input 1x10x10\nconv 2 k4 same")
    window = query.explain(result, "conv1")["window"]
    assert (window["padding"], window["padding_after"], window["output"]) == \
        ([1, 1], [2, 2], [10, 10])


def test_one_and_three_dimensional_layers_name_their_axes():
    ecg = query.explain(cnndsl.check_file("specs/ecg1d.cnn"), "stage1.conv1")
    assert [s["label"] for s in ecg["steps"] if s["topic"] == "output"] == ["length"]
    c3d = query.explain(cnndsl.check_file("specs/c3d_small.cnn"), "pool1")
    assert [s["label"] for s in c3d["steps"] if s["topic"] == "output"] == \
        ["depth", "height", "width"]


def test_no_answers_for_a_spec_with_errors():
    result = cnndsl.check("input 1x4x4\nconv 6 k5")
    assert query.layer_at(result, 2, 1) is None and query.table(result) is None
    assert query.explain(result, "conv1") is None


def test_answers_are_json_ready():
    result = cnndsl.check_file("specs/resnet50.cnn")
    for row in result.summary.rows:
        answer = query.explain(result, row.name)
        assert json.loads(json.dumps(answer)) == answer


def test_table_has_checks_columns():
    result = cnndsl.check(LENET, "lenet.cnn")
    table = query.table(result)
    assert table["totals"]["params"] == 62006
    first = table["rows"][0]
    assert (first["text"], first["name"], first["output"], first["params"], first["macs"],
            first["rf"]) == ("conv 6 k5 s1 p0", "conv1", [6, 28, 28], 456, 357504, [5, 5])
    assert first["span"] == {"line": 5, "column": 1, "end_line": 5, "end_column": 15}


# ---- every formula shown is true, and agrees with the checker ----------------------------

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.FloorDiv: operator.floordiv}


def _value(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_value(node.left), _value(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand)
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "max":
        return max(_value(a) for a in node.args)
    raise ValueError(f"not arithmetic: {ast.dump(node)}")


def evaluate(formula: str) -> int:
    """A shown formula as Python arithmetic: `⌊a/b⌋` floors, `⌈a/b⌉` rounds up."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", formula)       # `36,864` is one number
    text = text.replace("·", "*").replace("−", "-").replace("/", "//")
    text = re.sub(r"⌈([^⌉]*)//(\d+)⌉", r"(-(-(\1)//\2))", text)
    text = text.replace("⌊", "(").replace("⌋", ")")
    return _value(ast.parse(text, mode="eval").body)


def _expected(row, topic: str) -> list[int]:
    return {"output": list(row.output[1:]), "params": [row.params], "macs": [row.macs],
            "rf": list(row.rf or ()), "jump": list(row.jump or ())}.get(topic, [])


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_formula_is_true_and_matches_the_checker(spec):
    result = cnndsl.check_file(spec)
    for row in result.summary.rows:
        answer = query.explain(result, row.name)
        for step in answer["steps"]:
            if step["value"] is None:
                continue
            formula, _, shown = step["text"].rpartition(" = ")
            assert evaluate(formula or shown) == step["value"] == int(shown.replace(",", "")), \
                (row.name, step)
            expected = _expected(row, step["topic"])
            if step["topic"] == "output" and row.kind == "merge":
                assert step["value"] == row.output[0]
            elif expected and step["label"] == "each spatial dim":
                assert set(expected) == {step["value"]}, (row.name, step)
            elif expected and step["label"] in ("length", "depth", "height", "width"):
                axis = ("length",) if len(expected) == 1 else ("depth", "height", "width")[-len(
                    expected):]
                assert expected[axis.index(step["label"])] == step["value"], (row.name, step)
            elif expected:
                assert expected == [step["value"]], (row.name, step)


def test_a_layer_without_bias_never_mentions_one():
    result = cnndsl.check("input 1x8x8\nconv 4 k3 nobias -> fc 2 nobias -> fc 2\n", "a.cnn")
    for name in ("conv1", "fc1"):
        notes = [s["note"] for s in query.explain(result, name)["steps"]]
        assert not any("bias" in note for note in notes), (name, notes)
    assert any("bias" in s["note"] for s in query.explain(result, "fc2")["steps"])
