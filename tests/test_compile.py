"""The compiler against PyTorch itself: every layer's real output shape and
parameter count equals the inferred one; the seed notes' hand-written modules
give the same outputs as their compiled twins; determinism; hostile names."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import ROOT, SPECS, spec_id
from seed_nets import SEEDS
from torch import nn

import cnndsl
from cnndsl.backends.pytorch.build import SpecError, compile_result, load_module

SMALL = [p for p in SPECS if p.stem not in ("vgg16", "resnet50", "c3d_small")]


def run_with_hooks(model: nn.Module, summary, batch: int = 2) -> dict[str, tuple]:
    """Actual output shape of every layer named in the summary, via forward hooks."""
    seen: dict[str, tuple] = {}
    handles = []

    def record(name):
        def hook(module, inputs, output):
            seen.setdefault(name, tuple(output.shape[1:]))
        return hook

    for row in summary.layers:
        if row.op != "identity":   # the generated code writes no module for `identity`
            handles.append(model.get_submodule(row.name).register_forward_hook(record(row.name)))
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(batch, *summary.input))
    for h in handles:
        h.remove()
    outs = out if isinstance(out, tuple) else (out,)
    seen["<output>"] = tuple(tuple(o.shape[1:]) for o in outs)
    return seen


def assert_matches_pytorch(result) -> None:
    module = load_module(result.source.text)
    model = getattr(module, result.network.model)()
    summary = result.summary
    assert sum(p.numel() for p in model.parameters()) == summary.params
    seen = run_with_hooks(model, summary)
    for row in summary.layers:
        if row.op != "identity":
            assert seen[row.name] == row.output, row.name
    assert seen["<output>"] == summary.outputs


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_every_layer_matches_pytorch(path):
    result = cnndsl.check_file(path)
    if path.stem in ("vgg16", "c3d_small"):  # large inputs: parameters only, no forward
        model = cnndsl.build(path)
        assert sum(p.numel() for p in model.parameters()) == result.summary.params
        return
    assert_matches_pytorch(result)


def _execution_order(model: nn.Module, shape) -> list[nn.Module]:
    order: list[nn.Module] = []
    handles = [m.register_forward_pre_hook(lambda m, i: order.append(m))
               for m in model.modules() if any(True for _ in m.parameters(recurse=False))]
    with torch.no_grad():
        model(torch.randn(1, *shape))
    for h in handles:
        h.remove()
    return order


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_network_equals_its_hand_written_twin(name):
    factory, shape = SEEDS[name]
    torch.manual_seed(0)
    hand = factory().eval()
    ours = cnndsl.build(ROOT / "specs" / f"{name}.cnn").eval()
    assert sum(p.numel() for p in hand.parameters()) == sum(p.numel() for p in ours.parameters())
    theirs_order = _execution_order(hand, shape)
    ours_order = _execution_order(ours, shape)
    assert len(theirs_order) == len(ours_order)
    with torch.no_grad():
        for src, dst in zip(theirs_order, ours_order):
            for (_, a), (_, b) in zip(src.named_parameters(recurse=False),
                                      dst.named_parameters(recurse=False)):
                b.copy_(a)
    x = torch.randn(4, *shape)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), hand(x), rtol=1e-5, atol=1e-6)


def test_generated_code_imports_only_torch():
    for path in SPECS:
        tree = ast.parse(compile_result(cnndsl.check_file(path)))
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        modules = {a.name for n in top if isinstance(n, ast.Import) for a in n.names} | \
            {n.module for n in top if isinstance(n, ast.ImportFrom)}
        assert modules <= {"torch", "torch.nn", "torch.nn.functional"}, modules


def test_compiling_twice_and_elsewhere_gives_the_same_bytes(tmp_path, cnndsl_cmd, cli):
    """Two processes (each its own hash seed) and this one give the same bytes."""
    spec = "specs/inception_net.cnn"
    first = subprocess.run(cnndsl_cmd + ["compile", spec, "-o", "-"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout
    again = cli("compile", spec, "-o", "-", cwd=ROOT)
    assert again.returncode == 0 and first == again.stdout
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "inception_net.cnn").write_bytes((ROOT / spec).read_bytes())
    moved = subprocess.run(cnndsl_cmd + ["compile", spec, "-o", "-"], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert moved == first
    assert str(ROOT) not in first and str(tmp_path) not in moved


def test_readme_import_example(tmp_path, cli, monkeypatch, capsys):
    """`cnndsl compile lenet.cnn -o lenet.py`, then `python -c` importing it from the
    folder (run here, as `python -c` would: the folder on the path, as `__main__`)."""
    (tmp_path / "lenet.cnn").write_bytes((ROOT / "specs" / "lenet.cnn").read_bytes())
    assert cli("compile", "lenet.cnn", "-o", "lenet.py", cwd=tmp_path).returncode == 0
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    capsys.readouterr()
    sys.modules.pop("lenet", None)    # this folder's, not one imported before
    try:
        exec(compile("import torch; from lenet import LeNet; "
                     "print(tuple(LeNet()(torch.randn(1, 3, 32, 32)).shape))", "<string>",
                     "exec"), {"__name__": "__main__"})
    finally:
        sys.modules.pop("lenet", None)
    assert capsys.readouterr().out.strip() == "(1, 10)"


def test_compile_refuses_to_overwrite_a_foreign_file(tmp_path, cli):
    spec = tmp_path / "net.cnn"
    spec.write_text("input 1x8x8\nconv 4 k3 -> fc 2\n")
    mine = tmp_path / "net.py"
    mine.write_text("print('my own work')\n")
    done = cli("compile", spec)
    assert done.returncode == 1 and "not written by cnndsl" in done.stderr
    assert mine.read_text() == "print('my own work')\n"
    assert cli("compile", spec, "--force").returncode == 0
    assert "compiled by cnndsl" in mine.read_text().splitlines()[0]
    # its own output it overwrites freely
    assert cli("compile", spec).returncode == 0


def test_compile_of_a_bad_spec_writes_nothing(tmp_path, cli):
    spec = tmp_path / "bad.cnn"
    spec.write_text("input 1x4x4\nconv 4 k5\n")
    done = cli("compile", spec)
    assert done.returncode == 1 and "E0301" in done.stderr
    assert not (tmp_path / "bad.py").exists()


def test_build_overrides_constants():
    text = "let classes = 10\ninput 1x8x8\nconv 4 k3 -> fc classes\n"
    assert cnndsl.build(text, classes=3)(torch.randn(2, 1, 8, 8)).shape == (2, 3)
    with pytest.raises(TypeError, match="no constant"):
        cnndsl.build(text, clases=3)


STAGES = """input 3x32x32
block Stage(c, n, stride=2) {
    (conv c k3 p1 -> relu) * n -> conv c k3 p1 s2
}
Stage(16, 2) -> Stage(32, 3) -> Stage(64, 3) -> fc 10
"""


def test_parameters_that_only_shape_a_block_are_built_in_not_taken():
    code = cnndsl.compile(STAGES)
    # `n` sets a repetition count and `stride` is never used: a class that took
    # them would ignore another value; one class per count instead
    assert "def __init__(self, in_channels: int, c: int) -> None:" in code
    assert "Built for n=2, stride=2" in code and "Built for n=3, stride=2" in code
    assert "self.stage1 = Stage(3, c=16)" in code
    assert "self.stage2 = Stage2(16, c=32)" in code and "self.stage3 = Stage2(32, c=64)" in code
    result = cnndsl.check(STAGES)
    assert [d.code for d in result.diagnostics] == ["W0105"]   # `stride` is never used
    model = cnndsl.build(STAGES)
    summary = result.summary
    assert sum(p.numel() for p in model.parameters()) == summary.params
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_load_returns_the_class():
    cls = cnndsl.load(ROOT / "specs" / "lenet.cnn")
    assert cls.__name__ == "LeNet" and isinstance(cls(), nn.Module)


def test_compile_api_raises_on_errors():
    with pytest.raises(SpecError, match="E0301"):
        cnndsl.compile("input 1x4x4\nconv 4 k5\n")


HOSTILE = [
    ("model class", "E0205"),
    ("model print", "E0205"),
    ("model torch", "E0205"),
    ("model __init__", "E0205"),
    ("model nn", "E0205"),
    ("model " + "A" * 200, "E0205"),
]


@pytest.mark.parametrize("line,code", HOSTILE, ids=[h[0][:20] for h in HOSTILE])
def test_hostile_model_names_are_refused(line, code):
    result = cnndsl.check(f"{line}\ninput 1x8x8\nfc 2\n")
    assert code in [d.code for d in result.diagnostics]


@pytest.mark.parametrize("block", ["super", "object", "F", "Tensor_", "exec", "Exception"])
def test_hostile_block_and_parameter_names(block):
    text = f"input 1x8x8\nblock {block}(n) {{ conv n k3 }}\n{block}(4) -> fc 2\n"
    result = cnndsl.check(text)
    if block == "Tensor_":
        code = cnndsl.compile(text)  # harmless name: compiles and imports
        namespace: dict = {}
        exec(compile(code, "x.py", "exec"), namespace)
        assert namespace["Tensor_"]
    else:
        assert not result.ok
    for param in ("self", "in_channels", "super", "import", "__class__", "k5", "relu"):
        bad = cnndsl.check(f"input 1x8x8\nblock B({param}) {{ relu }}\nB(1)\n")
        assert not bad.ok, param


def test_unicode_lookalike_is_a_syntax_error():
    result = cnndsl.check("input 1x8x8\nсonv 4 k3\n")  # Cyrillic с
    assert [d.code for d in result.diagnostics] == ["E0002"]


def test_no_spec_text_reaches_code_outside_string_literals():
    text = ('model Evil\ninput 1x8x8\n# """; import os; os.system("echo pwned")\n'
            'conv 4 k3 -> fc 2\n')
    code = cnndsl.compile(text)
    tree = ast.parse(code)
    calls = {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
             for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert "system" not in calls
    namespace: dict = {"__name__": "not_main"}
    exec(compile(code, "evil.py", "exec"), namespace)
    assert namespace["Evil"]()(torch.randn(1, 1, 8, 8)).shape == (1, 2)


def ruff_problems(folder: Path) -> str | None:
    """`ruff check`'s complaints about the generated files in `folder` (the venv's
    ruff, no config), one run for them all."""
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run([str(ruff), "check", "--no-cache", "--isolated", "--line-length",
                           "100", "."], cwd=folder, text=True, capture_output=True)
    return done.stdout + done.stderr if done.returncode else None


def test_generated_files_pass_ruff(tmp_path):
    if not (Path(sys.executable).parent / "ruff").exists():
        pytest.skip("ruff is not installed beside this interpreter")
    for path in SPECS:
        (tmp_path / f"{path.stem}.py").write_text(compile_result(cnndsl.check_file(path)),
                                                  encoding="utf-8")
    assert len(list(tmp_path.glob("*.py"))) == len(SPECS)
    assert ruff_problems(tmp_path) is None    # each complaint names its spec's file


@pytest.mark.parametrize("text", [
    "input 4x8x8\nmul(channelmean -> conv 1 k3 p1 -> sigmoid, gap) -> bn -> fc 2\n",
    "input 4x8x8\nblock G { mul(channelmax, gmp -> conv in k1) -> bn }\nG -> conv 3 k1 -> fc 2\n",
    "input 1x8x8\ngate(conv 4 k1) -> bn -> fc 2\n",
])
def test_mul_takes_its_channels_from_the_broadcast_result(text):
    # 1xHxW times Cx1x1 is CxHxW: the layers after the merge take C channels, not the
    # first operand's 1 (found by tests/test_properties_graphs.py's v3 drawing)
    model = cnndsl.build(text).eval()
    assert sum(p.numel() for p in model.parameters()) == cnndsl.check(text).summary.params
    assert model(torch.randn(2, *cnndsl.check(text).network.input)).shape == (2, 2)
