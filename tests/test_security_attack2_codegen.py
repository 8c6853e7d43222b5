"""Issue 17, items 4 and 5: code generation stays bounded whatever the spec.

4. Every `split(identity, identity)` (or `concat(identity, identity)`) in a block
   doubled the *text* of the channel expression: 22 splits wrote a 327 MB `.py`,
   40 ended in a MemoryError (exit 3). Symbolic values are trees with like terms
   collected, so the size grows with the spec; a generated file past a bound is
   still a located refusal, never exit 3.
5. `add` of 3,000 `identity` operands: `check` passed and `compile` hit a
   RecursionError on a 3,000-term `x + x + ...`. The sum is emitted shallow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from attacks import harness

import cnndsl
from cnndsl.backends.pytorch import emit
from cnndsl.backends.pytorch.build import SpecError

MEBIBYTE = 1 << 20


def _compile(work: Path, text: str) -> tuple[harness.Run, Path]:
    (work / "spec.cnn").write_text(text, encoding="utf-8")
    return harness.cnndsl("compile", "spec.cnn", cwd=work), work / "spec.py"


SPECS = {
    # the 1.2 KB spec of the report: 40 splits of a block's channels
    "split-40": "input 8x8x8\nblock B { conv 8 k1 -> " +
                " -> ".join(["split(identity, identity)"] * 40) + " -> conv 8 k1 }\nB\n",
    "split-22": "input 8x8x8\nblock B { conv 8 k1 -> " +
                " -> ".join(["split(identity, identity)"] * 22) + " -> conv 8 k1 }\nB\n",
    # 2**30 channels from one: within the checker's bounds
    "concat-30": "input 8x2x2\nblock B { " + " -> ".join(["concat(identity, identity)"] * 30) +
                 " }\nconv 1 k1 -> B\n",
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """`compile` of every doubling spec, from a folder of its own, in one child under
    the harness's limits (`harness.cnndsl_batch`): (the root, runs by entry, the child)."""
    root = tmp_path_factory.mktemp("doubling")
    for name, text in SPECS.items():
        (root / name).mkdir()
        (root / name / "spec.cnn").write_text(text, encoding="utf-8")
    entries = [(name, ("compile", "spec.cnn")) for name in SPECS]
    return root, *harness.cnndsl_batch(root, entries, cpu=harness.HANG_S * len(entries))


@pytest.mark.parametrize("name", SPECS)
def test_doubling_channel_expressions_stay_small(compiled, name):
    root, runs, child = compiled
    done, out = runs.get((name, ("compile", "spec.cnn"))), root / name / "spec.py"
    assert done is not None, f"the child stopped before this case; {child}"
    harness.assert_no_crash(done, (0, 1))
    if done.status == 0:
        assert out.stat().st_size < MEBIBYTE, f"{out.stat().st_size:,} bytes"
    else:
        harness.assert_located(done)


def test_add_of_3000_identities_compiles_and_runs(tmp_path):
    text = "input 2x4x4\nadd(" + ", ".join(["identity"] * 3000) + ") -> flatten -> fc 2\n"
    done, out = _compile(tmp_path, text)
    harness.assert_no_crash(done, (0,))
    import torch

    model = cnndsl.build(text)
    x = torch.ones(1, 2, 4, 4)
    assert model(x).shape == (1, 2)
    with torch.no_grad():
        model.fc1.weight.fill_(1.0)
        model.fc1.bias.zero_()
        assert model(x).tolist() == [[3000.0 * 32] * 2]   # the sum of 3000 ones, exactly
    assert _depth(ast.parse(out.read_text())) < 60   # a 3,000-term `x + x + ...` was 3,000


def _depth(node: ast.AST) -> int:
    """How deeply the syntax tree nests (iteratively: the tree may be deep)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def test_a_generated_file_past_the_bound_is_a_located_refusal(tmp_path, monkeypatch):
    """The bound itself, made small, so a modest spec crosses it."""
    monkeypatch.setattr(emit, "MAX_GENERATED", 2_000)
    with pytest.raises(SpecError) as raised:
        cnndsl.compile("input 1x8x8\nconv 4 k3 -> relu -> conv 4 k3 -> relu -> fc 2\n")
    (diagnostic,) = raised.value.result.errors
    assert diagnostic.code == "E0417"
    assert diagnostic.span.line == 2
