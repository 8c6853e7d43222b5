"""The foundation (issue 10): no silent miscompiles, one annotated IR, the
diagnostics registry, prebuilt parse tables, and a library that feels finished.
Each test here failed before the change it pins."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import ROOT, SPECS

import cnndsl
from cnndsl.backends.pytorch.build import load_module
from cnndsl.diagnostics import codes
from cnndsl.ir import nodes as ir


def _module_names(model: torch.nn.Module) -> list[str]:
    return [name for name, _ in model.named_modules() if name]


def _built(text: str):
    result = cnndsl.check(text)
    assert result.ok, [d.message for d in result.diagnostics]
    model = cnndsl.build(text)
    assert sum(p.numel() for p in model.parameters()) == result.summary.params
    return result, model


# ---- 1. correctness ---------------------------------------------------------------

def test_a_base_ending_in_a_digit_gets_a_separator():
    # `relu6` + 1 once equalled `relu` + 61, and the second replaced the first
    result, model = _built("input 1x8x8\nrelu6 -> relu * 61 -> relu6 -> fc 10\n")
    names = _module_names(model)
    assert len(names) == len(set(names))
    assert isinstance(model.relu6_1, torch.nn.ReLU6) and isinstance(model.relu61, torch.nn.ReLU)
    x = torch.full((1, 1, 8, 8), 10.0)
    assert float(model.relu6_1(x).max()) == 6.0


def test_a_block_named_like_a_numbered_layer_keeps_its_own_name():
    text = ("input 1x32x32\nblock Conv1 { conv 4 k3 p1 }\n"
            "(conv 4 k3 p1) * 11 -> Conv1 -> fc 10\n")
    result, model = _built(text)
    assert "conv1_1" in dict(model.named_children())
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("text, params", [
    ("input 3x8x8\n(concat(conv 4 k3 p1, conv 4 k1) -> conv 3 k1) * 2 -> fc 10\n", None),
    ("input 3x8x8\nconcat(conv 4 k1, conv 4 k1) -> concat(conv 4 k1, conv 4 k1) -> fc 10\n",
     None),
])
def test_merges_in_one_scope_share_no_weights(text, params):
    result, model = _built(text)
    names = _module_names(model)
    assert len(names) == len(set(names))
    assert model(torch.randn(2, 3, 8, 8)).shape == (2, 10)


def test_the_repeated_concat_counts_every_weight():
    text = "input 3x8x8\n(concat(conv 4 k3 p1, conv 4 k1) -> conv 3 k1) * 2 -> fc 10\n"
    result, _ = _built(text)
    assert result.summary.params == 2240


def test_a_float_beyond_range_is_a_located_error():
    result = cnndsl.check("input 1x8x8\nleakyrelu 1e400 -> fc 2\n")
    (error,) = result.errors
    assert error.code == "E0415" and (error.span.line, error.span.column) == (2, 11)


@pytest.mark.parametrize("bound", ["output == 1e999", "params < 1e999", "macs > 1e400"])
def test_an_assertion_beyond_range_is_a_located_error(bound):
    result = cnndsl.check(f"input 1x8x8\nfc 2\nassert {bound}\n")
    (error,) = result.errors
    column = len("assert ") + bound.rindex(" ") + 2
    assert error.code == "E0415" and (error.span.line, error.span.column) == (3, column)


def test_an_output_assertion_is_not_truncated():
    assert cnndsl.check("input 1x8x8\nfc 10\nassert output == 10.5\n").errors[0].code == "E0501"
    assert cnndsl.check("input 1x8x8\nfc 10\nassert output == 10\n").ok


def test_a_dilated_kernel_that_does_not_fit_shows_true_arithmetic_and_a_working_fix():
    (error,) = cnndsl.check("input 1x4x4\nconv 4 k3 d2 -> fc 2\n").errors
    assert error.code == "E0301"
    assert error.notes[0] == "⌊(4 + 2·0 − 2·(3 − 1) − 1) / 1⌋ + 1 = 0, below 1"
    assert error.help == "add `p1` to keep the output at least 1x1"
    assert cnndsl.check("input 1x4x4\nconv 4 k3 d2 p1 -> fc 2\n").ok


def test_a_parameter_named_like_a_block_is_refused():
    result = cnndsl.check("input 1x8x8\nblock Inner { relu }\n"
                          "block Outer(Inner) { Inner }\nOuter(1) -> fc 2\n")
    assert any(d.code == "E0205" and "parameter" in d.message for d in result.errors)


def test_a_default_model_name_equal_to_a_block_name_is_made_distinct():
    result = cnndsl.check("input 1x8x8\nblock Res { relu }\nRes -> fc 2\n", "res.cnn")
    assert result.ok and result.network.model == "ResModel"
    model = cnndsl.build(result.source.text.replace("input", "model ResModel\ninput", 1))
    assert model(torch.randn(1, 1, 8, 8)).shape == (1, 2)


def test_heavy_fc_is_found_behind_an_explicit_flatten():
    result = cnndsl.check("input 32x64x64\nconv 32 k3 p1 -> flatten -> fc 768\n")
    assert [d.code for d in result.diagnostics] == ["W0103"]


def test_a_repeated_switch_is_an_error_like_any_repeated_argument():
    result = cnndsl.check("input 4\nfc 2 nobias nobias\n")
    assert [d.code for d in result.errors] == ["E0405"]


def test_layer_rows_are_numbered_and_exclude_merges_and_blocks():
    result = cnndsl.check_file(ROOT / "specs" / "inception_net.cnn")
    layers = result.summary.layers
    assert [r.index for r in layers] == list(range(1, len(layers) + 1))
    assert all(r.kind == "layer" for r in layers)
    assert any(r.kind == "merge" for r in result.summary.rows)


def test_the_compiled_header_names_the_spec_without_its_directory(tmp_path):
    spec = tmp_path / "deep" / "lenet.cnn"
    spec.parent.mkdir()
    spec.write_text((ROOT / "specs" / "lenet.cnn").read_text())
    here = cnndsl.compile(spec.read_text(), str(spec))
    there = cnndsl.compile(spec.read_text(), "lenet.cnn")
    assert here == there and "deep" not in here


def test_same_with_an_even_kernel_and_reflect_padding_needs_room_on_the_wider_side():
    # PyTorch pads (1, 2) for `same` with k4, and refuses reflect padding of 2 on 2
    result = cnndsl.check("input 3x2x2\nconv 4 k4 same pad=reflect -> fc 2\n")
    assert [d.code for d in result.errors] == ["E0307"]
    assert cnndsl.check("input 3x3x3\nconv 4 k4 same pad=reflect -> fc 2\n").ok


# ---- 2. one annotated IR -----------------------------------------------------------

@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_element_of_a_checked_network_carries_its_annotation(path):
    result = cnndsl.check_file(path)
    stack = [result.network.body, *result.network.outputs]
    while stack:
        seq = stack.pop()
        assert seq.info is not None
        for node in seq.items:
            assert node.info is not None, node.text
            if isinstance(node, ir.Merge):
                stack.extend(node.branches)
            elif isinstance(node, ir.BlockCall):
                stack.append(node.body)


def test_short_flags_are_tokens_and_only_names_where_the_layer_lacks_them():
    from cnndsl.front.parser import parse
    from cnndsl.front.source import Source
    from cnndsl.front.syntax import Flag

    program, _ = parse(Source("let c1 = 4\ninput 1x8x8\nconv c1 k3\n"))
    first, second = program.bodies[0].items[0].args
    assert isinstance(first.value, Flag) and isinstance(second.value, Flag)
    result = cnndsl.check("let c1 = 4\ninput 1x8x8\nconv c1 k3 -> fc 2\n")
    assert result.ok and result.network.body.items[0].out == 4


# ---- 3. diagnostics as a registry ----------------------------------------------------

SOURCES = list((ROOT / "cnndsl").rglob("*.py"))


def test_every_code_the_checker_emits_is_registered_and_explained():
    used = set()
    for path in SOURCES:
        used |= set(re.findall(r'"([EW]0\d{3})"', path.read_text()))
    used -= set(codes.CODES)
    assert not used, f"unregistered codes: {sorted(used)}"
    for entry in codes.CODES.values():
        assert entry.title and len(entry.explanation) > 40, entry.code


def test_every_registered_code_is_emitted_somewhere():
    text = "\n".join(p.read_text() for p in SOURCES if p.name != "codes.py")
    unused = [c for c in codes.CODES if f'"{c}"' not in text]
    assert not unused, unused


def test_the_error_catalogue_page_lists_exactly_the_registered_codes():
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert codes.table() in page


def test_explain_prints_the_explanation(cli):
    done = cli("explain", "e0301")
    assert done.returncode == 0 and done.stdout.startswith("E0301: window does not fit")
    unknown = cli("explain", "E0399")
    assert unknown.returncode == 2 and "E0399" in unknown.stderr


def test_json_carries_labels_secondary_spans_and_exact_fixes(cli, tmp_path):
    spec = tmp_path / "typo.cnn"
    spec.write_text("input 1x28x28\nconv 6 k5 -> covn 3 k3 -> relu fc 10\n")
    done = cli("check", "--format", "json", spec)
    (entry,) = json.loads(done.stdout)["files"]
    first, second = entry["diagnostics"]
    assert first["code"] == "E0201" and first["label"]
    # a spelling guess is a suggestion, not an exact fix (issue 17, item 12)
    assert first["help"] == "did you mean `conv`?" and first["fixes"] == []
    assert second["code"] == "E0412"
    assert second["fixes"][0]["replacement"] == "-> "


def test_fix_applies_only_unambiguous_fixes_in_place(cli, tmp_path):
    spec = tmp_path / "typo.cnn"
    spec.write_text("input 1x28x28\nconv 6 k5 -> Conv 3 k3 -> maxpool 2 Stride=2 -> relu fc 10\n")
    done = cli("check", "--quiet", "--fix", spec)
    assert done.returncode == 0, done.stdout + done.stderr
    assert spec.read_text() == ("input 1x28x28\n"
                                "conv 6 k5 -> conv 3 k3 -> maxpool 2 stride=2 -> relu -> fc 10\n")
    assert done.stderr.count("fixed [") == 3
    guess = tmp_path / "guess.cnn"
    guess.write_text("input 1x28x28\nconv 6 k5 -> covn 3 k3 -> fc 10\n")
    done = cli("check", "--quiet", "--fix", guess)
    assert done.returncode == 1 and "covn" in guess.read_text()
    ambiguous = tmp_path / "small.cnn"
    text = "input 1x4x4\nconv 4 k5 -> fc 2\n"
    ambiguous.write_text(text)
    done = cli("check", "--fix", ambiguous)
    assert done.returncode == 1 and ambiguous.read_text() == text


def test_unknown_combinators_are_named_with_a_suggestion():
    result = cnndsl.check("input 3x8x8\ncat(conv 4 k1, conv 4 k1) -> fc 2\n")
    (error,) = result.errors
    assert error.code == "E0201" and "`cat(`" in error.message
    assert error.help == "did you mean `concat(`?"


def test_a_size_written_with_spaces_gets_its_help():
    (error,) = cnndsl.check("input 3 x 32 x 32\nrelu\n").errors
    assert error.help == "write a size without spaces: `3x32x32`"


def test_a_label_after_a_block_use_is_no_syntax_error():
    assert cnndsl.check("input 1x8x8\nblock D(c) { conv c k3 p1 }\n"
                        "D(4) as e1 -> concat(@e1, identity) -> fc 2\n").ok


def test_suggestions_stay_linear_for_thousands_of_misspellings():
    lets = "".join(f"let value{i} = {i}\n" for i in range(2000))
    body = " -> ".join(f"fc valeu{i}" for i in range(2000))
    result = cnndsl.check(lets + "input 8\n" + body + "\n")
    assert sum(d.code == "E0413" for d in result.diagnostics) == 2000


# ---- 4. the CLI ---------------------------------------------------------------------

def test_no_command_module_imports_another_or_the_root():
    for path in (ROOT / "cnndsl" / "cli").glob("*.py"):
        if path.name == "__init__.py":
            continue
        text = path.read_text()
        modules = set(re.findall(r"from cnndsl\.cli\.(\w+) import", text))
        names = set(re.findall(r"from cnndsl\.cli import (\w+)", text))
        assert modules | names <= {"common"}, (path.name, modules | names)


def test_compile_into_a_directory_says_so(cli, tmp_path):
    done = cli("compile", ROOT / "specs" / "lenet.cnn", "-o", tmp_path)
    assert done.returncode == 1 and "is a directory" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["x.jpg", "x.txt"])
def test_diagram_refuses_a_format_it_cannot_write(cli, tmp_path, name):
    done = cli("diagram", ROOT / "specs" / "lenet.cnn", "-o", tmp_path / name)
    assert done.returncode == 2 and "cannot write" in done.stderr
    assert not (tmp_path / name).exists()


def test_compile_no_longer_runs_a_ruff_found_on_path(cli, tmp_path, monkeypatch):
    fake = tmp_path / "ruff"
    fake.write_text(f"#!/bin/sh\ntouch {tmp_path / 'ran'}\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    out = tmp_path / "lenet.py"
    done = cli("compile", ROOT / "specs" / "lenet.cnn", "-o", out)
    assert done.returncode == 0 and out.exists() and not (tmp_path / "ran").exists()


def test_files_are_written_with_the_users_umask(cnndsl_cmd, tmp_path):
    out = tmp_path / "lenet.py"
    subprocess.run(cnndsl_cmd + ["compile", str(ROOT / "specs" / "lenet.cnn"), "-o", str(out)],
                   check=True, capture_output=True, preexec_fn=lambda: os.umask(0o022))
    assert out.stat().st_mode & 0o777 == 0o644


# ---- 5. models from the API behave like compiled files ------------------------------

def test_built_models_pickle_save_whole_and_script():
    import io

    model = cnndsl.build(ROOT / "specs" / "residual_net.cnn").eval()
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    again = torch.load(buffer, weights_only=False)   # our own object, in this process
    x = torch.randn(2, 1, 28, 28)
    torch.testing.assert_close(again(x), model(x))
    scripted = torch.jit.script(model)
    torch.testing.assert_close(scripted(x), model(x))


# ---- 6. generated code --------------------------------------------------------------

def test_block_classes_carry_symbolic_shapes_and_the_header_lists_the_top_level():
    code = cnndsl.compile((ROOT / "specs" / "resnet50.cnn").read_text(), "resnet50.cnn")
    header = code.split('"""', 2)[1]
    assert len(header.splitlines()) < 40
    assert re.search(r"# \(B, c \* 4, H, W\)|# \(B, c \* 4, \(H \+ 1\) // 2", code)


def test_block_arguments_equal_to_their_defaults_are_left_out():
    code = cnndsl.compile("input 8x8x8\nblock B(c, t=6) { conv c*t k1 }\nB(4) -> B(4, t=2) "
                          "-> fc 2\n")
    assert "self.b1 = B(8, c=4)" in code and "self.b2 = B2(24, c=4, t=2)" in code or \
        "self.b2 = B(24, c=4, t=2)" in code


def test_trailing_comments_travel_to_their_forward_line():
    code = cnndsl.compile("input 1x8x8\nconv 4 k3   # the stem\n-> relu -> fc 2  # logits\n")
    assert re.search(r"x = self\.conv1\(x\)\s+# \(B, 4, 6, 6\)  the stem", code)
    assert re.search(r"x = self\.fc1\(x\)\s+# \(B, 2\)  logits", code)


def test_the_main_tail_reads_one_line():
    code = cnndsl.compile((ROOT / "specs" / "lenet.cnn").read_text(), "lenet.cnn")
    assert "    raise SystemExit(main(LeNet, SPEC_PATH, SPEC))\n" in code
    namespace: dict = {"__name__": "x"}
    exec(compile(code, "lenet.py", "exec"), namespace)
    assert namespace["SPEC"] == (ROOT / "specs" / "lenet.cnn").read_text()


def test_the_spec_constant_is_the_exact_text_even_with_crlf_line_ends():
    text = "input 1x8x8\r\nconv 4 k3 -> fc 2\r\n"
    namespace: dict = {"__name__": "x"}
    exec(compile(cnndsl.compile(text), "x.py", "exec"), namespace)
    assert namespace["SPEC"] == text


# ---- 7. a library that feels finished -------------------------------------------------

def test_check_result_has_a_short_repr_a_table_str_and_html():
    result = cnndsl.check_file(ROOT / "specs" / "resnet50.cnn")
    assert len(repr(result)) < 200 and "25,557,032" in repr(result)
    assert "Total params: 25,557,032" in str(result)
    assert result._repr_html_().startswith("<p><b>ResNet50</b>")
    assert "<table>" in result._repr_html_()


def test_the_package_ships_type_information_and_a_licence():
    assert (ROOT / "cnndsl" / "py.typed").exists()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    meta = (ROOT / "pyproject.toml").read_text()
    assert "classifiers" in meta and '"Typing :: Typed"' in meta


def test_parse_tables_are_prebuilt_from_this_grammar_and_parse_alike():
    # Lark numbers its states differently from run to run, so the tables are compared
    # by what they parse, and by the grammar digest they record
    import hashlib

    from lark import Lark

    from cnndsl.front import parser

    grammar = (ROOT / "grammars" / "cnn.lark").read_text(encoding="utf-8")
    shipped = json.loads((ROOT / "grammars" / "cnn.tables.json").read_text(encoding="utf-8"))
    assert shipped["grammar_sha256"] == hashlib.sha256(grammar.encode()).hexdigest(), \
        "the grammar changed: run `python -m cnndsl.front.parser --write-tables`"
    fresh = Lark(grammar, **parser._OPTIONS, postlex=parser._PostLex())
    texts = [p.read_text(encoding="utf-8") for p in SPECS]
    texts += [p.read_text(encoding="utf-8") for p in (ROOT / "tests" / "diagnostics").glob("*.cnn")]
    for text in texts:
        try:
            expected = fresh.parse(text)
        except Exception as exc:
            expected = type(exc).__name__
        try:
            got = parser._lark().parse(text)
        except Exception as exc:
            got = type(exc).__name__
        assert got == expected


def test_checking_writes_no_parser_cache(tmp_path):
    env = {"TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", "import cnndsl; cnndsl.check('input 1x8x8\\nrelu\\n')"],
                   check=True, env=env)
    assert list(Path(tmp_path).iterdir()) == []


def test_load_module_shares_one_module_per_code():
    text = (ROOT / "specs" / "lenet.cnn").read_text()
    assert load_module(text) is load_module(text)


def test_the_layer_reference_page_names_every_layer_word():
    from cnndsl.ir.layers import layer_words

    page = (ROOT / "docs" / "layers.md").read_text(encoding="utf-8")
    missing = [w for w in layer_words() if f"`{w}" not in page]
    assert not missing, missing


def test_every_code_has_a_catalogue_case():
    shown = set()
    for path in (ROOT / "tests" / "diagnostics").glob("*.txt"):
        shown |= set(re.findall(r"^(?:error|warning)\[([EW]\d{4})\]", path.read_text(), re.M))
    missing = sorted(set(codes.CODES) - shown)
    assert not missing, f"codes without a case in tests/diagnostics/: {missing}"


@pytest.mark.parametrize("use", ["(relu) * n -> fc 2", "B(n) -> fc 2", "conv n k3 -> fc 2",
                                 "concat(conv n k1, conv 2 k1) -> fc 2"])
def test_a_constant_used_anywhere_is_not_reported_unused(use):
    text = f"let n = 2\ninput 1x8x8\nblock B(k) {{ conv k k3 }}\n{use}\n"
    codes_found = [d.code for d in cnndsl.check(text).diagnostics]
    assert "W0106" not in codes_found


@pytest.mark.parametrize("text", [
    "let n = 2\ninput 1x8x8\nblock C(c = n) { conv c k3 }\nC() -> fc 2\n",
    "let n = 2\nlet m = n * 2\ninput 1x8x8\nconv m k3 -> fc 2\n",
])
def test_a_constant_used_by_a_default_or_another_constant_is_not_reported_unused(text):
    assert [d.code for d in cnndsl.check(text).diagnostics] == []
