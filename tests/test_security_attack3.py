"""The third attack (issues 21 and 19): this session's new surfaces, `cnndsl import`
(everything that comes out of the user's module is data), `--set`/`--input`, `predict`
over folders and its CSV/JSON, and `evaluate`'s `per_class.csv`. Each hostile input
ends in a right answer or a one-line refusal (exit 1 or 2), never an internal error."""

from __future__ import annotations

import pytest

from cnndsl.cli import main

# ---- import: the module's structure is data, bounded ------------------------------------

MODULES = """
import os
from torch import nn

def deep():
    m = nn.Conv2d(3, 3, 1)
    for _ in range(3000):
        m = nn.Sequential(m)
    return m

def long():
    return nn.Sequential(*[nn.Conv2d(3, 3, 1) for _ in range(1500)])

class Loop(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        return self.conv(x)

def loop():
    m = Loop()
    m.conv.add_module("back", m)
    return m
"""


@pytest.fixture()
def modules(tmp_path):
    path = tmp_path / "hostile.py"
    path.write_text(MODULES)
    return path


@pytest.mark.parametrize(("name", "words"), [
    ("deep", "nests submodules"), ("loop", "contains itself"), ("long", "too long")])
def test_import_of_a_module_too_deep_too_long_or_cyclic_is_one_line(modules, capsys,
                                                                     name, words):
    assert main(["import", f"{modules}:{name}", "--input", "3x4x4"]) == 1
    err = capsys.readouterr().err
    assert words in err and "internal error" not in err and len(err.splitlines()) == 1, err
