"""`--set NAME=VALUE` and `--input [NAME=]SIZE` on `check`, `compile`, `diagram`, `train`
and `export`, and `cnndsl.build(spec, input=..., **lets)`: the values are carried into the
pipeline, so diagnostics point at the user's own text and say what the override made it."""

from __future__ import annotations

import ast
import json
from fractions import Fraction

import pytest
import torch

import cnndsl
from cnndsl.backends.pytorch.build import SpecError
from cnndsl.ir.overrides import OverrideError, Overrides, parse_flags, show

NET = """\
let c = 8
let w = 1
input 3x32x32
conv c*w k3 p1 -> relu -> maxpool 2 -> conv 16 k3 -> gap -> fc 10
assert params < 5000
"""

TWO = """\
input image 3x32x32
input mask 1x32x32
conv 8 k3 p1 -> concat(identity, @mask) -> conv 2 k1
"""


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "net.cnn"
    path.write_text(NET)
    return path


def shapes(result) -> list:
    return [tuple(row.output) for row in result.summary.layers]


# ---- reading the flags ------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [("0.75", Fraction(3, 4)), ("3/4", Fraction(3, 4)),
                                         ("64", 64), ("2*8", 16), ("1.5e1", 15)])
def test_a_value_is_read_as_the_language_reads_it(text, value):
    assert parse_flags(sets=[f"w={text}"]).lets == {"w": value}


@pytest.mark.parametrize("text, size", [("3x64x64", (3, 64, 64)), ("2x100", (2, 100)),
                                        ("image=3x8x8", (3, 8, 8))])
def test_a_size_is_read_as_input_writes_it(text, size):
    assert list(parse_flags(inputs=[text]).inputs.values()) == [size]


@pytest.mark.parametrize("flag, says", [
    ("w=abc", "cannot read a constant"), ("w=", "is not a number"), ("w", "NAME=VALUE"),
    ("w=1\nconv 3", "plain characters"), ("1w=2", "is not a name"),
    ("w=1 -> relu", "is not a number"), ("w=" + "1" * 300, "short value"),
    ("w=1/0", "zero"),
])
def test_a_bad_value_is_one_sentence_naming_the_flag(flag, says):
    with pytest.raises(OverrideError, match="--set") as caught:
        parse_flags(sets=[flag])
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_values_show_as_the_language_writes_them():
    assert [show(v) for v in (Fraction(3, 4), Fraction(1, 3), 64, (3, 8, 8), Fraction(-1, 8))] \
        == ["0.75", "1/3", "64", "3x8x8", "-0.125"]
    given = parse_flags(sets=["w=3/4"], inputs=["image=3x8x8"])
    assert Overrides.from_json(json.loads(json.dumps(given.to_json()))).to_json() \
        == given.to_json()


# ---- the library --------------------------------------------------------------------------

def test_check_applies_overrides_where_let_and_input_are_declared():
    result = cnndsl.check(NET, overrides=parse_flags(sets=["c=4"], inputs=["3x64x64"]))
    assert result.ok and shapes(result)[0] == (4, 64, 64)
    assert not result.diagnostics


def test_a_later_let_reads_the_overridden_one():
    text = "let w = 1\nlet c = 8 * w\ninput 1x8x8\nconv c k3 -> gap -> fc 2\n"
    result = cnndsl.check(text, overrides=parse_flags(sets=["w=0.5"]))
    assert result.ok and shapes(result)[0] == (4, 6, 6)


def test_an_assert_failing_only_under_the_override_names_it():
    assert cnndsl.check(NET).ok
    result = cnndsl.check(NET, overrides=parse_flags(sets=["c=64"]))
    [failed] = result.errors
    assert failed.code == "E0501" and failed.span.line == 5
    assert "`c` is 64 here, set by `--set c=64`" in failed.notes


def test_a_shape_error_from_an_override_is_located_at_the_users_line():
    result = cnndsl.check(NET, "net.cnn", overrides=parse_flags(inputs=["3x4x4"]))
    [failed] = result.errors
    assert failed.code == "E0301" and failed.span.line == 4
    assert NET.splitlines()[3][failed.span.column - 1:].startswith("k3")
    assert "the input is 3x4x4 here, set by `--input 3x4x4`" in failed.notes


def test_an_override_error_in_a_let_points_at_the_lets_value():
    result = cnndsl.check(NET, overrides=parse_flags(sets=["w=0.3"]))
    [failed] = result.errors
    assert failed.code == "E0402" and failed.span.line == 4   # 8 * 0.3 channels
    assert any("`w` is 0.3 here" in note for note in failed.notes)


@pytest.mark.parametrize("flags, code, helps", [
    ({"sets": ["cc=4"]}, "E0230", "did you mean `c`?"),
    ({"sets": ["width=4"]}, "E0230", None),
    ({"inputs": ["x=3x8x8"]}, "E0231", "give the size alone: `--input SIZE`"),
])
def test_an_unknown_name_is_an_error(flags, code, helps):
    result = cnndsl.check(NET, overrides=parse_flags(**flags))
    assert [d.code for d in result.errors] == [code]
    assert result.errors[0].help == helps


def test_several_inputs_need_a_name_and_take_one_each():
    result = cnndsl.check(TWO, overrides=parse_flags(inputs=["3x16x16"]))
    assert [d.code for d in result.errors] == ["E0231"]
    assert "`--input image=SIZE`" in result.errors[0].help
    typo = cnndsl.check(TWO, overrides=parse_flags(inputs=["imgae=3x16x16"]))
    assert typo.errors[0].help == "did you mean `image`?"
    both = cnndsl.check(TWO, overrides=parse_flags(inputs=["image=3x16x16", "mask=1x16x16"]))
    assert both.ok and both.summary.output == (2, 16, 16)
    one = cnndsl.check(TWO, overrides=parse_flags(inputs=["mask=1x16x16"]))
    [clash] = one.errors                                      # 32x32 meets 16x16
    assert clash.code == "E0302" and "the input `mask` is 1x16x16 here, set by " \
        "`--input mask=1x16x16`" in clash.notes


def test_a_size_of_another_rank_is_refused_at_the_input():
    for size in ("64", "64x64", "3x8x8x8x8"):
        result = cnndsl.check(NET, overrides=parse_flags(inputs=[size]))
        assert [d.code for d in result.errors] == ["E0232"] and result.errors[0].span.line == 3
    one_d = "input 2x100\nconv 4 k5 -> gap -> fc 2\n"
    assert cnndsl.check(one_d, overrides=parse_flags(inputs=["2x50"])).ok


@pytest.mark.parametrize("size, says", [("3xax2", "is not a size"), ("3x", "is not a size"),
                                        ("x=3x8x8 -> relu", "is not a size")])
def test_a_bad_size_is_one_sentence_naming_the_flag(size, says):
    with pytest.raises(OverrideError, match="^`--input ") as caught:
        parse_flags(inputs=[size])
    assert says in str(caught.value)


def test_build_takes_input_and_lets():
    model = cnndsl.build(NET, input=(3, 16, 16), c=4)
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 10)
    assert model.conv1.out_channels == 4
    two = cnndsl.build(TWO, input={"image": (3, 8, 8), "mask": (1, 8, 8)})
    assert two(torch.randn(1, 3, 8, 8), torch.randn(1, 1, 8, 8)).shape == (1, 2, 8, 8)


def test_build_refuses_unknown_names_and_bad_values_in_pythons_words():
    with pytest.raises(TypeError, match="no input `x`"):
        cnndsl.build(TWO, input={"x": (3, 8, 8)})
    with pytest.raises(TypeError, match="tuple of"):
        cnndsl.build(NET, input="3x8x8")
    with pytest.raises(SpecError, match=r"\(with input=3x2x2\)"):
        cnndsl.build(NET, input=(3, 2, 2))


def test_spans_are_the_users_own_so_the_playground_call_is_unchanged():
    plain = cnndsl.check(NET)
    assert cnndsl.check(NET, overrides=Overrides()).diagnostics == plain.diagnostics
    assert plain.overrides is None


# ---- the commands -------------------------------------------------------------------------

def test_check_json_reports_the_overridden_shapes(cli, spec):
    done = cli("check", spec, "--format", "json", "--set", "c=4", "--input", "3x64x64")
    assert done.returncode == 0, done.stderr
    [entry] = json.loads(done.stdout)["files"]
    text = json.dumps(entry)
    assert "64" in text and entry["ok"] is True
    layers = entry["summary"]["layers"]
    assert layers[0]["output"] == [4, 64, 64]


def test_check_reports_the_flag_in_the_diagnostic(cli, spec):
    done = cli("check", spec, "--set", "c=64")
    assert done.returncode == 1
    assert "error[E0501]" in done.stdout and "set by `--set c=64`" in done.stdout
    assert "net.cnn:5:1" in done.stdout


@pytest.mark.parametrize("command", ["check", "compile", "diagram", "export", "train"])
def test_every_command_refuses_a_bad_value_in_one_line(cli, spec, tmp_path, command):
    out = {"compile": ["-o", tmp_path / "x.py"], "diagram": ["-o", tmp_path / "x.dot"],
           "export": ["-o", tmp_path / "x.pt"], "train": ["--out", tmp_path / "run"]}
    done = cli(command, spec, *out.get(command, []), "--set", "c=abc")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: `--set c=abc`") and done.stderr.count("\n") == 1
    assert not any(p.name.startswith(("x.", "run")) for p in tmp_path.iterdir())


@pytest.mark.parametrize("command", ["check", "compile", "diagram", "export", "train"])
def test_every_command_reports_an_unknown_name_with_did_you_mean(cli, spec, tmp_path,
                                                                 command):
    out = {"compile": ["-o", tmp_path / "x.py"], "diagram": ["-o", tmp_path / "x.dot"],
           "export": ["-o", tmp_path / "x.pt"], "train": ["--out", tmp_path / "run"]}
    done = cli(command, spec, *out.get(command, []), "--set", "ww=2")
    assert done.returncode == 1
    said = done.stdout + done.stderr
    assert "error[E0230]" in said and "did you mean `w`?" in said


def test_compile_writes_the_overridden_constant_and_records_the_flags(cli, spec, tmp_path):
    out = tmp_path / "net.py"
    done = cli("compile", spec, "-o", out, "--set", "c=4", "--input", "3x16x16")
    assert done.returncode == 0, done.stderr
    code = out.read_text()
    assert "--set c=4 --input 3x16x16` writes it again." in code.splitlines()[2]
    assert "nn.Conv2d(3, 4, kernel_size=3" in code and "(B, 4, 16, 16)" in code
    assert "SPEC, overrides={'set': {'c': '4'}, 'input': {'': '3x16x16'}}))" in code
    plain = tmp_path / "plain.py"
    cli("compile", spec, "-o", plain)
    assert "overrides=" not in plain.read_text()


def test_diagram_draws_the_overridden_network(cli, spec, tmp_path):
    done = cli("diagram", spec, "-o", tmp_path / "n.dot", "--input", "3x64x64")
    assert done.returncode == 0, done.stderr
    assert "64x64" in (tmp_path / "n.dot").read_text()


def test_export_a_spec_at_another_size(cli, spec, tmp_path):
    done = cli("export", spec, "-o", tmp_path / "n.pt", "--input", "3x64x64", "--set", "c=4")
    assert done.returncode == 0, done.stderr
    assert "input Bx3x64x64" in done.stderr
    model = torch.jit.load(str(tmp_path / "n.pt"))
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 10)


def test_check_fix_refuses_overrides(cli, spec):
    done = cli("check", spec, "--fix", "--set", "c=4")
    assert done.returncode == 2 and "--fix" in done.stderr


# ---- a trained run remembers them ----------------------------------------------------------

TINY = "let c = 2\ninput 1x8x8\nconv c k3 -> relu -> gap -> fc 10\n"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from conftest import cnndsl_in_process

    where = tmp_path_factory.mktemp("override_run")
    spec = where / "tiny.cnn"
    spec.write_text(TINY)
    out = where / "run"
    done = cnndsl_in_process("train", spec, "--epochs", "1", "--out", out, "--progress",
                             "plain", "--set", "c=3", "--input", "1x12x12", cwd=where)
    assert done.returncode == 0, done.stderr
    return spec, out


def test_train_records_the_overrides(tiny_run):
    _, out = tiny_run
    record = json.loads((out / "config.json").read_text())
    assert record["overrides"] == {"set": {"c": "3"}, "input": {"": "1x12x12"}}
    assert record["input"] == [1, 12, 12]
    assert "--set c=3 --input 1x12x12` writes it again." in (out / "model.py").read_text()


def test_evaluate_predict_and_export_rebuild_the_recorded_model(cli, tiny_run, tmp_path):
    _, out = tiny_run
    done = cli("evaluate", out)
    assert done.returncode == 0, done.stderr
    from PIL import Image

    Image.new("L", (12, 12), 128).save(tmp_path / "digit.png")
    predicted = cli("predict", out, tmp_path / "digit.png")
    assert predicted.returncode == 0, predicted.stderr
    exported = cli("export", out, "-o", tmp_path / "r.pt")
    assert exported.returncode == 0, exported.stderr
    assert "input Bx1x12x12" in exported.stderr
    refused = cli("export", out, "-o", tmp_path / "s.pt", "--set", "c=4")
    assert refused.returncode == 2 and "as it was trained" in refused.stderr


def test_resume_rebuilds_the_recorded_model_and_refuses_others(cli, tiny_run):
    spec, out = tiny_run
    other = cli("train", spec, "--resume", "--out", out, "--epochs", "2", "--progress",
                "plain", "--set", "c=4")
    assert other.returncode == 1 and "contradicts this run's recorded overrides" in \
        other.stderr, other.stderr
    again = cli("train", spec, "--resume", "--out", out, "--epochs", "2", "--progress",
                "plain")
    assert again.returncode == 0, again.stderr
    record = json.loads((out / "config.json").read_text())
    assert record["overrides"]["set"] == {"c": "3"}


def test_a_compiled_file_run_as_a_script_trains_the_overridden_model(monkeypatch):
    from cnndsl.backends.pytorch.build import compile_result
    from cnndsl.train import run as train_run

    result = cnndsl.check(NET, "net.cnn", overrides=parse_flags(sets=["c=4"]))
    code = compile_result(result)
    namespace: dict = {"__name__": "generated"}
    exec(compile(code, "net.py", "exec"), namespace)
    seen = {}
    monkeypatch.setattr(train_run, "train",
                        lambda cls, checked, args, code: seen.update(checked=checked) or 0)
    call = code[code.rindex("main(Net,"):].rstrip().rstrip(")")
    overrides = ast.literal_eval(call[call.index("overrides=") + len("overrides="):])
    from cnndsl.train.entry import main

    assert main(namespace["Net"], "net.cnn", namespace["SPEC"], [], overrides=overrides) == 0
    assert shapes(seen["checked"])[0] == (4, 32, 32)


def test_an_unknown_input_name_from_python_is_shown_escaped():
    with pytest.raises(TypeError) as caught:
        cnndsl.build(NET, input={"a\x1b[2J\nb": (3, 8, 8)})
    said = str(caught.value)
    assert "\x1b" not in said and "\n" not in said and "give the size alone" in said


def test_a_truth_value_override_is_noted_as_one():
    result = cnndsl.check(NET, overrides=parse_flags(sets=["w=1>0"]))
    assert "`w` is true here, set by `--set w=1>0`" in result.errors[0].notes
