"""The second attack on the compiler (issue 17): where the checker's arithmetic
differed from PyTorch's floating point, `check --fix` edits that guessed or
changed other uses of a block, and `diagram` without bounds on `dot`.

PyTorch is the oracle: every size the checker states for `upsample` is the size
`nn.Upsample` gives; a fix is applied only when it is exact.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.nn.functional as F
from attacks import harness

import cnndsl
from cnndsl.ir import nodes as ir
from cnndsl.ir.arithmetic import upsampled

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
    from cnndsl.backends.query import explain

    result = cnndsl.check("input 3x45x45\nupsample 1.4 -> fc 2\n")
    steps = explain(result, "up1")["steps"]
    assert [s["value"] for s in steps if s["topic"] == "output"] == [62]


def test_a_huge_upsample_factor_is_an_answer_not_an_internal_error(tmp_path):
    for factor in ("1e300", "1e12 -> upsample 1e12 -> upsample 1e12 -> upsample 1e12"):
        (tmp_path / "big.cnn").write_text(f"input 3x45x45\nupsample {factor} -> fc 10\n")
        harness.assert_no_crash(harness.cnndsl("check", "big.cnn", cwd=tmp_path))


# ---- items 12-14 and 19: `check --fix` applies exact fixes only -------------------------

def _fix(tmp_path, text: str | bytes, capsys=None) -> str | bytes:
    """Run `check --fix` in process on a file holding `text`; the file afterwards."""
    from cnndsl.cli import main

    spec = tmp_path / "spec.cnn"
    (spec.write_bytes if isinstance(text, bytes) else spec.write_text)(text)
    assert main(["check", "--quiet", "--fix", str(spec)]) in (0, 1)
    return spec.read_bytes() if isinstance(text, bytes) else spec.read_text()


@pytest.mark.parametrize("written, meant", [("Relu", "relu"), ("Gelu", "gelu"),
                                            ("Selu", "selu"), ("Prelu", "prelu"),
                                            ("RELU", "relu"), ("Swish", "swish")])
def test_fix_corrects_the_case_of_a_layer_word_and_never_swaps_the_word(tmp_path, written,
                                                                         meant):
    text = f"input 3x8x8\nconv 4 k3 -> {written} -> fc 2\n"
    fixed = _fix(tmp_path, text)
    assert fixed == text.replace(written, meant)
    assert cnndsl.check(fixed).summary.params == cnndsl.check(
        text.replace(written, meant)).summary.params


def test_every_layer_word_and_alias_written_in_capitals_is_fixed_to_itself(tmp_path):
    from cnndsl.ir.layers import ALIASES, LAYERS, canonical

    for word in [*LAYERS, *ALIASES]:
        for written in {word.capitalize(), word.upper()} - {word}:
            result = cnndsl.check(f"input 3x8x8\n{written} -> fc 2\n")
            fixes = [f.replacement for d in result.diagnostics for f in d.fixes]
            assert [canonical(f) for f in fixes] == [canonical(word)], (written, fixes)


@pytest.mark.parametrize("text, guess", [
    ("input 1x28x28\nconv 6 k5 -> covn 3 k3 -> fc 10\n", "conv"),
    ("input 1x28x28\nconv 6 k5 -> relu -> maxpool 2 strde=2 -> fc 10\n", "stride="),
    ("input 1x28x28\nlet width = 4\nconv widht k3 -> fc 10\n", "width"),
    ("input 1x28x28\nconv 6 k5 as stem -> relu -> add(@stme, relu) -> fc 10\n", "@stem"),
    ("input 1x28x28\nblock B(width) { conv width k3 }\nB(widht=4) -> fc 10\n", "width"),
    ("input 1x28x28\nconv 6 k5 -> dropout 0.5 -> rleu -> fc 10\n", "relu"),
])
def test_a_spelling_guess_is_a_suggestion_never_an_edit(tmp_path, text, guess):
    result = cnndsl.check(text)
    (error,) = result.errors
    assert error.help and f"`{guess}" in error.help and not error.fixes
    assert _fix(tmp_path, text) == text


def test_a_fix_inside_a_block_that_would_change_a_valid_use_is_not_applied(tmp_path, capsys):
    text = "input 8x8x8\nblock B(c) { conv c k3 p1 g4 }\nB(8) -> B(6) -> fc 2\n"
    (error,) = cnndsl.check(text).errors
    assert error.code == "E0304" and error.fixes     # the fix is shown to editors ...
    assert _fix(tmp_path, text) == text              # ... but `--fix` leaves B(8) alone
    assert "shared by 2 uses" in capsys.readouterr().err


def test_a_pool_padding_fix_in_a_shared_block_body_is_not_applied(tmp_path):
    text = "input 3x16x16\nblock P(k) { maxpool k s1 p2 }\nP(5) -> P(3) -> fc 2\n"
    assert cnndsl.check(text).errors[0].code == "E0308"
    assert _fix(tmp_path, text) == text


def test_a_repeated_layer_shares_its_text_and_is_not_fixed_for_one_repetition(tmp_path):
    text = "input 12x8x8\n(conv 6 k3 p1 g4) * 2 -> fc 2\n"
    assert _fix(tmp_path, text) == text


def test_a_fix_inside_a_block_used_once_is_still_applied(tmp_path):
    text = "input 8x8x8\nblock B(c) { conv c k3 p1 g4 }\nB(6) -> fc 2\n"
    assert _fix(tmp_path, text) == text.replace("g4", "g2")


@pytest.mark.parametrize("layer, size", [("conv 8 k3 d2 s2 same", 8), ("conv 8 k5 d3 s2 same", 8),
                                         ("conv 8 k3 d2 s3 same", 6), ("conv 8 k3 s2 same", 8)])
def test_the_same_with_stride_fix_pads_the_dilated_kernel(tmp_path, layer, size):
    text = f"input 1x16x16\n{layer} -> fc 2\n"
    (error,) = cnndsl.check(text).errors
    assert error.code == "E0305"
    result = cnndsl.check(_fix(tmp_path, text))
    assert result.ok and result.network.body.items[0].info.output == (8, size, size)


def test_every_same_with_stride_fix_gives_the_size_divided_by_the_stride_rounded_up():
    for k in range(1, 8):
        for d in (1, 2, 3):
            for s in (2, 3):
                (error,) = cnndsl.check(f"input 1x17x16\nconv 2 k{k} d{d} s{s} same\n").errors
                if not error.fixes:
                    assert (d * (k - 1)) % 2, (k, d)    # an even extent has no one padding
                    continue
                fixed = f"input 1x17x16\nconv 2 k{k} d{d} s{s} {error.fixes[0].replacement}\n"
                out = cnndsl.check(fixed).network.body.items[0].info.output
                assert out == (2, -(-17 // s), -(-16 // s)), (k, d, s, out)


def test_the_same_with_stride_help_promises_what_the_fix_gives():
    (error,) = cnndsl.check("input 1x16x16\nconv 8 k3 d2 s2 same -> fc 2\n").errors
    assert error.fixes[0].replacement == "p2" and "`p2`" in error.help


def test_fix_keeps_a_byte_order_mark(tmp_path):
    text = "\ufeffinput 3x8x8\r\nconv 4 k3 -> Relu -> fc 2\r\n".encode()
    assert _fix(tmp_path, text) == text.replace(b"Relu", b"relu")


def test_write_atomic_syncs_the_file_and_its_folder(tmp_path, monkeypatch):
    import stat

    from cnndsl import files

    synced = []
    real = os.fsync
    monkeypatch.setattr(files.os, "fsync", lambda fd: (synced.append(
        stat.S_ISDIR(os.fstat(fd).st_mode)), real(fd)))
    files.write_atomic(tmp_path / "out.cnn", "input 1x8x8\n")
    assert synced == [False, True]


# ---- item 11: `diagram` bounds Graphviz, folds huge graphs ------------------------------

HUGE = "input 3x8x8\nblock B { relu * 30 }\nblock C { B * 30 }\nC * 12 -> fc 2\n"   # 10,800 relus
#: a hundred uses of one block with different arguments: no repetition to fold, 2,601 layers
WIDE = ("input 3x8x8\nblock A(c) {\n" + "conv c k1 ->\n" * 25 + "relu }\n"
        + " -> ".join(f"A({c})" for c in range(1, 101)) + " -> fc 2\n")


def _diagram(tmp_path, text: str, *args: str) -> tuple[int, str, str]:
    from cnndsl.cli import main

    (tmp_path / "net.cnn").write_text(text)
    status = main(["diagram", str(tmp_path / "net.cnn"), *args])
    return status


def _fake_dot(tmp_path, monkeypatch, body: str) -> None:
    """A `dot` program on PATH that does `body` (a shell script) instead of drawing."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "dot").write_text(f"#!/bin/sh\n{body}\n")
    (folder / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def test_a_huge_network_is_drawn_folded_and_says_so(tmp_path, capsys):
    from cnndsl.backends.diagram import MAX_NODES

    assert _diagram(tmp_path, WIDE, "-o", "-", "--format", "dot") == 0
    out, err = capsys.readouterr()
    assert out.count("label=") - out.count("->") <= MAX_NODES
    assert "folded" in err and "2,601 layers" in err


def test_a_huge_repetition_is_drawn_once_with_its_count(tmp_path, capsys):
    from cnndsl.backends.diagram import MAX_NODES

    assert _diagram(tmp_path, HUGE, "-o", "-", "--format", "dot") == 0
    out, err = capsys.readouterr()
    assert out.count("label=") - out.count("->") <= 20 < MAX_NODES
    assert "×30" in out and "×12" in out and "folded" not in err


def test_a_repetition_is_folded_into_its_first_copy_and_a_count(tmp_path, capsys):
    text = "input 3x8x8\n(conv 3 k3 p1 -> relu) * 3000 -> fc 2\n"
    assert _diagram(tmp_path, text, "-o", "-", "--format", "dot") == 0
    out, err = capsys.readouterr()
    assert "×3000" in out and out.count('"conv 3 k3 p1') == 1


def test_a_small_network_is_drawn_in_full(tmp_path, capsys):
    text = "input 3x8x8\n(conv 3 k3 p1 -> relu) * 3 -> fc 2\n"
    assert _diagram(tmp_path, text, "-o", "-", "--format", "dot") == 0
    out, err = capsys.readouterr()
    assert out.count("conv 3 k3 p1") == 3 and "folded" not in err


def test_too_many_distinct_layers_are_a_one_line_refusal(tmp_path, capsys):
    text = "input 3x8x8\n" + "conv 3 k1 ->\n" * 2500 + "fc 2\n"   # distinct lines: no fold
    assert _diagram(tmp_path, text, "-o", "-", "--format", "dot") == 1
    out, err = capsys.readouterr()
    assert not out and err.count("\n") == 1 and "too many" in err


def test_a_crashing_dot_is_one_line_not_an_internal_error(tmp_path, monkeypatch, capsys):
    _fake_dot(tmp_path, monkeypatch, "echo 'Error: something broke\nmore' >&2; kill -SEGV $$")
    assert _diagram(tmp_path, "input 3x8x8\nrelu -> fc 2\n", "-o", str(tmp_path / "x.svg")) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Graphviz" in err and "SIGSEGV" in err
    assert not (tmp_path / "x.svg").exists()


def test_a_dot_that_fails_names_its_first_line(tmp_path, monkeypatch, capsys):
    _fake_dot(tmp_path, monkeypatch, "printf 'Error: \\033[31mbad\\n' >&2; exit 1")
    assert _diagram(tmp_path, "input 3x8x8\nrelu -> fc 2\n", "-o", str(tmp_path / "x.svg")) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Error: " in err and "\033" not in err


def test_a_hanging_dot_is_stopped(tmp_path, monkeypatch, capsys):
    from cnndsl.backends.diagram import rendering

    monkeypatch.setattr(rendering, "DOT_SECONDS", 1)
    _fake_dot(tmp_path, monkeypatch, "exec sleep 30")
    assert _diagram(tmp_path, "input 3x8x8\nrelu -> fc 2\n", "-o", str(tmp_path / "x.svg")) == 1
    assert "took over 1 s" in capsys.readouterr().err


def test_dot_runs_under_a_memory_limit(tmp_path, monkeypatch, capsys):
    from cnndsl.backends.diagram import rendering

    monkeypatch.setattr(rendering, "DOT_MEMORY", 256 << 20)
    _fake_dot(tmp_path, monkeypatch, "ulimit -v >&2; exit 1")
    assert _diagram(tmp_path, "input 3x8x8\nrelu -> fc 2\n", "-o", str(tmp_path / "x.svg")) == 1
    assert str(256 << 10) in capsys.readouterr().err     # KiB, as `ulimit -v` counts


@pytest.mark.skipif(not __import__("shutil").which("dot"), reason="Graphviz not installed")
def test_the_huge_network_renders_with_real_graphviz_in_bounded_time(tmp_path):
    (tmp_path / "net.cnn").write_text(HUGE)
    done = harness.cnndsl("diagram", "net.cnn", "-o", "net.svg", cwd=tmp_path)
    harness.assert_no_crash(done, (0,))
    assert (tmp_path / "net.svg").stat().st_size < 5 << 20


def test_the_playground_draws_through_the_same_bounded_helper(monkeypatch, tmp_path):
    from cnndsl.serve import payload

    _fake_dot(tmp_path, monkeypatch, "kill -SEGV $$")
    answer = payload.diagram(cnndsl.check("input 3x8x8\nrelu -> fc 2\n"))
    assert answer["svg"] is None and "SIGSEGV" in answer["problem"]


# ---- the class: other sizes the checker computes where PyTorch rounds -----------------

def _pool_size(op: str, n: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """The checker's size for one pooling layer on a 1-D input of `n`, or 0 if refused."""
    from cnndsl.passes.infer import layer, start

    node = ir.Pool(op=op, span=None, text=op, name="pool1", kernel=k, stride=s,
                   padding=p, dilation=d, ceil=ceil, sym=(), spans=())
    done = layer(node, start((1, n), None), [])
    return done[0].shape[1] if done is not None else 0


def _torch_pool(op: str, n: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    x = torch.zeros(1, 1, n)
    try:
        if op == "maxpool":
            return F.max_pool1d(x, k, s, p, d, ceil_mode=ceil).shape[-1]
        return F.avg_pool1d(x, k, s, p, ceil_mode=ceil).shape[-1]
    except RuntimeError:
        return 0


def test_pooling_sizes_with_and_without_ceil_are_pytorchs():
    wrong = []
    for op, dilations in (("maxpool", (1, 2)), ("avgpool", (1,))):
        for n in range(1, 21):
            for k in range(1, 5):
                for s in range(1, 4):
                    for p in range(0, k // 2 + 1):
                        for d in dilations:
                            for ceil in (False, True):
                                ours = _pool_size(op, n, k, s, p, d, ceil)
                                if ours != _torch_pool(op, n, k, s, p, d, ceil):
                                    wrong.append((op, n, k, s, p, d, ceil, ours))
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("n, out", [(1, 1), (7, 3), (5, 5), (3, 7), (100, 13)])
def test_adaptive_pools_and_sized_upsampling_give_the_size_asked_for(n, out):
    text = (f"input 2x{n}x{n}\nadaptivemaxpool {out} -> upsample size={2 * out + 1} linear "
            f"-> adaptiveavgpool {out} -> flatten -> fc 2\n")
    result = cnndsl.check(text)
    assert result.ok, str(result)
    model = cnndsl.build(text)
    x = torch.randn(1, 2, n, n)
    assert model(x).shape == (1, 2)
    sizes = [item.info.output for item in result.network.body.items[:3]]
    assert sizes == [(2, out, out), (2, 2 * out + 1, 2 * out + 1), (2, out, out)]


def _catalogue():
    from pathlib import Path

    return sorted((Path(__file__).parent / "diagnostics").glob("*.cnn"))


def test_every_fix_the_catalogue_offers_is_exact_and_removes_its_error():
    from collections import Counter

    from cnndsl.diagnostics.fix import plan

    applied = 0
    for path in _catalogue():
        result = cnndsl.check(path.read_text(), path.name)
        edits = plan(result.diagnostics, result.network)
        if edits.refused or not edits.edits:
            continue
        after = cnndsl.check(edits.apply(result.source.text), path.name)
        assert len(after.errors) < len(result.errors) or after.ok, path.name
        fixed = Counter((d.code, fix.span.line) for d, fix in edits.edits)
        applied += len(edits.edits)
        for (code, line), count in fixed.items():   # each fix removes its own error
            before = sum(d.code == code and d.span.line == line for d in result.errors)
            left = sum(d.code == code and d.span.line == line for d in after.errors)
            assert left <= before - count, (path.name, code)
    assert applied >= 5


def test_fixes_that_would_break_the_syntax_are_not_applied(tmp_path, capsys):
    text = "input 8x16x16\nconv 8 k3 (relu) -> fc 2\n"
    assert _fix(tmp_path, text) == text          # it wrote `conv 8 k3 (-> relu)`
    assert "would not parse" in capsys.readouterr().err


def test_a_file_changed_since_it_was_checked_is_not_overwritten(tmp_path, capsys):
    from cnndsl.cli.check import _fix as fix_file

    spec = tmp_path / "spec.cnn"
    spec.write_text("input 3x8x8\nconv 4 k3 -> Relu -> fc 2\n")
    result = cnndsl.check_file(spec)
    spec.write_text("input 3x8x8\nconv 4 k3 -> Relu -> fc 3\n")   # edited meanwhile
    fix_file(str(spec), result)
    assert spec.read_text() == "input 3x8x8\nconv 4 k3 -> Relu -> fc 3\n"
    assert "changed while it was checked" in capsys.readouterr().err


@pytest.mark.parametrize("text, column", [
    ("input 3x45x45\nupsample 1e300 -> fc 10\n", 1),
    ("input 1x8x8\nupsample 250000000 -> concat(identity, identity, identity) -> fc 2\n", 23),
    ("input 1x8\nconvt 1 k2 s2000000000 -> convt 1 k2 s2000000000 -> convt 1 k2 s2000000000\n",
     27),
])
def test_an_output_no_tensor_can_hold_is_a_located_error(text, column):
    (error,) = cnndsl.check(text).errors
    assert error.code == "E0325" and error.span.column == column


def test_a_spelling_guess_is_offered_as_a_suggestion_for_editors():
    """A guess is no fix, but editors may offer it to click: the JSON carries it
    under `suggestions`, and `--fix` never reads that."""
    from cnndsl.diagnostics.diagnostic import to_json

    result = cnndsl.check("input 1x8x8\nfc 2 -> sigmoud\n")
    found = to_json(result.diagnostics[0])
    assert found["fixes"] == []
    assert [s["replacement"] for s in found["suggestions"]] == ["sigmoid"]
