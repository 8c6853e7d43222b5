"""The documentation: the site builds (`mkdocs build --strict`), its generated pages
match the registries, every `cnn` example in it checks, every command it shows runs, and
the Pygments lexer highlights every layer word and lexes every spec."""

from __future__ import annotations

import functools
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SPECS

import cnndsl
from cnndsl.cli import main
from cnndsl.diagnostics import codes
from cnndsl.ir.layers import COMBINATORS, KEYWORDS, layer_words

PAGES = sorted((ROOT / "docs").glob("*.md"))
README = ROOT / "README.md"


@functools.cache
def _gen_docs():
    """scripts/gen_docs.py, imported (a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module    # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _fenced(path: Path, language: str) -> list[str]:
    pattern = rf"^```{language}[^\n]*\n(.*?)^```"
    return re.findall(pattern, path.read_text(encoding="utf-8"), re.S | re.M)


def _cnn_blocks() -> list[tuple[str, str]]:
    return [(f"{path.relative_to(ROOT)}#{i}", text) for path in [README, *PAGES]
            for i, text in enumerate(_fenced(path, "cnn"))]


# ---- the site --------------------------------------------------------------------------


def test_mkdocs_builds_the_site_strictly(tmp_path):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs and mkdocs-material are not installed (they are in the dev extra)")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                          capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1",
                                                               "PATH": "/usr/bin:/bin"},
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    tutorial = (tmp_path / "site" / "tutorial" / "index.html").read_text(encoding="utf-8")
    assert '<span class="nb">conv</span>' in tutorial   # highlighted by the `cnn` lexer


def test_the_generated_pages_are_up_to_date():
    stale = _gen_docs().stale()
    assert not stale, f"{stale} differ from the registries: run python scripts/gen_docs.py"


def test_the_layer_reference_names_every_layer_word_and_its_pytorch_class():
    page = (ROOT / "docs" / "layers.md").read_text(encoding="utf-8")
    missing = [w for w in layer_words() if f"`{w}" not in page]
    assert not missing, missing
    for entry in _gen_docs().layer_docs():
        assert entry.torch.replace("{n}", "2") in page, entry.word


def test_the_error_catalogue_lists_exactly_the_registered_codes():
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert codes.table() in page
    headings = re.findall(r"^## ([EW]\d{4}):", page, re.M)
    assert headings == list(codes.CODES)


def test_every_page_is_in_the_navigation():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    missing = [p.name for p in PAGES if f" {p.name}" not in config]
    assert not missing, missing


# ---- the examples ----------------------------------------------------------------------


def test_the_docs_have_cnn_examples():
    assert len(_cnn_blocks()) >= 10


@pytest.mark.parametrize("where, text", _cnn_blocks(), ids=[w for w, _ in _cnn_blocks()])
def test_every_cnn_example_checks_without_a_diagnostic(where, text):
    result = cnndsl.check(text, filename=where)
    assert [d.code for d in result.diagnostics] == [], str(result)


def _commands() -> list[tuple[str, list[str]]]:
    """The `cnndsl check|compile|diagram|explain` lines of the docs' shell blocks."""
    found = []
    for path in [README, *PAGES]:
        for block in _fenced(path, "sh"):
            for line in block.replace("\\\n", " ").splitlines():
                words = shlex.split(line.split(" #")[0])
                if words[:1] == ["cnndsl"] and words[1] in ("check", "compile", "diagram",
                                                              "explain"):
                    found.append((f"{path.relative_to(ROOT)}: {line.split(' #')[0]}", words))
    return found


def test_the_docs_show_commands():
    shown = {words[1] for _, words in _commands()}
    assert shown == {"check", "compile", "diagram", "explain"}


@pytest.mark.parametrize("where, words", _commands(), ids=[w for w, _ in _commands()])
def test_every_command_the_docs_show_runs(where, words, tmp_path, monkeypatch, capsys):
    output = words[words.index("-o") + 1] if "-o" in words else ""
    if words[1] == "diagram" and not output.endswith(".dot") and not shutil.which("dot"):
        pytest.skip("Graphviz's dot is not installed")
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    assert main(words[1:]) == 0, capsys.readouterr()
    if output:
        assert (tmp_path / output).stat().st_size > 0


def test_the_compiled_lenet_runs_as_the_docs_show(tmp_path, monkeypatch, capsys):
    """The `python -c` line that follows `cnndsl compile ... -o lenet.py` in the docs, run
    here as `python -c` runs it (from the folder, which is on the path; as `__main__`)."""
    lines = [line for path in [README, *PAGES] for block in _fenced(path, "sh")
             for line in block.splitlines() if line.startswith("python -c")]
    assert lines
    assert main(["compile", str(ROOT / "specs" / "lenet.cnn"), "-o",
                 str(tmp_path / "lenet.py")]) == 0
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    capsys.readouterr()
    for line in set(lines):
        flag, code = shlex.split(line)[1:]
        assert flag == "-c"
        sys.modules.pop("lenet", None)    # this folder's, not one imported before
        try:
            exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
        finally:
            sys.modules.pop("lenet", None)
        assert capsys.readouterr().out.strip() == "torch.Size([1, 10])"


def test_the_python_examples_run(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    blocks = _fenced(ROOT / "docs" / "api.md", "python") + _fenced(README, "python")
    assert blocks
    for block in blocks:
        exec(compile(block, "docs", "exec"), {})
    assert "True 62006 658238" in capsys.readouterr().out


# ---- the README ------------------------------------------------------------------------


def test_the_readme_is_a_front_door():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    for link in re.findall(r"\]\(([^)#]+)", text):
        if "://" not in link:
            assert (ROOT / link).exists(), link


def test_nothing_points_outside_the_repository():
    """Help texts name the docs pages, never the project's notes outside the repository."""
    sources = [*ROOT.glob("cnndsl/**/*.py"), README, *PAGES, ROOT / "mkdocs.yml"]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "LANGUAGE.md" not in text and "../shared" not in text, path


def test_every_docs_page_a_message_names_exists():
    """Help texts, explanations and messages name pages that are there."""
    named = {name for path in ROOT.glob("cnndsl/**/*.py")
             for name in re.findall(r"docs/[a-z_]+\.md", path.read_text(encoding="utf-8"))}
    assert {"docs/layers.md", "docs/language.md", "docs/errors.md"} <= named
    missing = sorted(name for name in named if not (ROOT / name).exists())
    assert not missing, missing


def test_the_root_help_points_at_the_docs(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "docs/language.md" in capsys.readouterr().out


def test_an_unknown_word_is_pointed_at_the_layer_reference(capsys):
    (diagnostic,) = cnndsl.check("input 1x8x8\nzzqqxx 3\n").diagnostics
    assert diagnostic.code == "E0201"
    assert "docs/layers.md" in diagnostic.help and "cnndsl explain E0201" in diagnostic.help
    assert main(["explain", "E0201"]) == 0
    listed = capsys.readouterr().out.split("Layer words:")[1]
    assert set(re.findall(r"[A-Za-z0-9]+", listed)) == set(layer_words())


# ---- the Pygments lexer ----------------------------------------------------------------

needs_pygments = pytest.mark.skipif(importlib.util.find_spec("pygments") is None,
                                    reason="pygments is not installed (it is in the dev extra)")


def _tokens(text: str) -> list[tuple[object, str]]:
    from cnndsl.front.highlight import CnnLexer

    return [(kind, value) for kind, value in CnnLexer().get_tokens(text) if value.strip()]


@needs_pygments
def test_the_lexer_is_registered_under_cnn():
    from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name("cnn")
    except ClassNotFound:
        pytest.fail("no Pygments lexer `cnn`: the entry point in pyproject.toml is registered "
                    "at install time; run pip install -e . again")
    assert type(lexer).__name__ == "CnnLexer"
    assert type(get_lexer_for_filename("lenet.cnn")).__name__ == "CnnLexer"


@needs_pygments
@pytest.mark.parametrize("word", layer_words())
def test_every_layer_word_is_highlighted_as_a_builtin(word):
    from pygments.token import Name

    assert (Name.Builtin, word) in _tokens(f"input 3x8x8\n{word} 2 -> relu\n")


@needs_pygments
def test_keywords_and_merges_are_keywords():
    from pygments.token import Keyword

    text = "model M\ninput x 3x8x8\nlet c = 4\nblock B(n) { conv n k1 }\n"
    text += "B(c) as b -> " + " -> ".join(f"{w}(identity, identity)" for w in COMBINATORS)
    text += "\noutput @b\nassert params > 1\ntrain { epochs 1 }\n"
    found = {value for kind, value in _tokens(text) if kind in Keyword}
    assert found == (set(KEYWORDS) - {"in"}) | set(COMBINATORS)


@needs_pygments
@pytest.mark.parametrize("spec", SPECS, ids=[p.name for p in SPECS])
def test_every_spec_lexes_without_an_error_token(spec):
    from pygments.token import Error

    tokens = _tokens(spec.read_text(encoding="utf-8"))
    assert [t for t in tokens if t[0] in Error] == []


@needs_pygments
@pytest.mark.parametrize("where, text", _cnn_blocks(), ids=[w for w, _ in _cnn_blocks()])
def test_every_cnn_example_lexes_without_an_error_token(where, text):
    from pygments.token import Error

    assert [t for t in _tokens(text) if t[0] in Error] == []


def test_importing_cnndsl_needs_no_pygments():
    code = ("import sys, cnndsl; cnndsl.check('input 1x8x8\\nrelu'); "
            "print('pygments' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"
