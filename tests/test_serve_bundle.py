"""The playground's front end ships built: `cnndsl/serve/static/` is what
`web/build.mjs` makes from `web/`, byte for byte, and it is package data.

Rebuilding needs Node and `npm ci` in `web/` (users and CI need neither; the
test is skipped without them).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

STATIC = ROOT / "cnndsl" / "serve" / "static"
WEB = ROOT / "web"


def test_the_committed_bundle_is_complete():
    names = sorted(p.name for p in STATIC.iterdir())
    assert names == ["LICENSES.txt", "app.css", "app.js", "index.html"]
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'(?:src|href)="(/static/[^"]+)"', page) == ["/static/app.css",
                                                                   "/static/app.js"]
    assert "@codemirror/view" in (STATIC / "LICENSES.txt").read_text(encoding="utf-8")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is Python 3.11+")
def test_the_bundle_is_package_data():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    tools = project["tool"]["setuptools"]
    assert "cnndsl.serve" in tools["packages"]
    assert tools["package-data"]["cnndsl.serve"] == ["static/*"]
    extras = project["project"]["optional-dependencies"]
    assert {d.split(">")[0] for d in extras["serve"]} <= {d.split(">")[0] for d in extras["dev"]}


@pytest.mark.skipif(shutil.which("node") is None or not (WEB / "node_modules").is_dir(),
                    reason="rebuilding needs Node and `npm ci` in web/")
def test_rebuilding_from_web_gives_the_committed_bytes(tmp_path):
    done = subprocess.run(["node", str(WEB / "build.mjs"), str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    built = sorted(p.name for p in tmp_path.iterdir())
    assert built == sorted(p.name for p in STATIC.iterdir())
    for name in built:
        assert (tmp_path / name).read_bytes() == (STATIC / name).read_bytes(), \
            f"cnndsl/serve/static/{name} is stale: run `npm run build` in web/ and commit it"


def test_the_editor_highlights_exactly_the_languages_words():
    import re

    from cnndsl.ir.layers import COMBINATORS, FLAG_LETTERS, KEYWORDS, layer_words

    source = (ROOT / "web" / "src" / "cnn-language.js").read_text(encoding="utf-8")

    def words(name: str) -> set[str]:
        block = re.search(rf"const {name} = new Set\(\s*(.*?)\.split", source, re.S).group(1)
        return set(" ".join(re.findall(r'"([^"]*)"', block)).split())

    assert words("KEYWORDS") == set(KEYWORDS) | set(COMBINATORS)
    assert words("LAYERS") == set(layer_words())
    letters = re.search(r"const FLAG = /\^\[(\w+)\]", source).group(1)
    assert set(letters) == set(FLAG_LETTERS)
