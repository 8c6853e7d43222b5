"""The playground's mapping from the checker's code-point columns to the editor's
UTF-16 offsets (`web/src/positions.js`), run in Node against a Python oracle."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import ROOT

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node")

SCRIPT = """
import { offsets } from %s;
const text = %s;
const starts = []; let from = 0;
for (const line of text.split("\\n")) { starts.push({ from, text: line, length: line.length });
  from += line.length + 1; }
const doc = { lines: starts.length, line: (n) => starts[n - 1] };
const at = offsets(doc);
console.log(JSON.stringify(%s.map(([line, column]) => at(line, column))));
"""


def utf16_offset(text: str, line: int, column: int) -> int:
    """The oracle: clamp the line, take column-1 code points of it, count UTF-16 units."""
    lines = text.split("\n")
    line = min(max(line, 1), len(lines))
    before = sum(len(s.encode("utf-16-le")) // 2 + 1 for s in lines[:line - 1])
    return before + len(lines[line - 1][:max(column, 1) - 1].encode("utf-16-le")) // 2


def test_columns_become_utf16_offsets_on_every_kind_of_line():
    text = "input 1x8x8\n# 😀 é 𝔸 -> x\n" + "conv 1 k1" + " -> foo" * 20000 + "\n"
    queries = [[line, column] for line in (0, 1, 2, 3, 4, 9) for column in
               (-1, 0, 1, 2, 3, 4, 5, 8, 12, 13, 14, 50, 140_000, 140_010)]
    module = json.dumps((ROOT / "web" / "src" / "positions.js").as_uri())
    done = subprocess.run([NODE, "--input-type=module"], capture_output=True, text=True,
                          input=SCRIPT % (module, json.dumps(text), json.dumps(queries)),
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [utf16_offset(text, *q) for q in queries]
