"""The package's layout: its import graph (module-level imports, read from the
source) has no cycle, and nothing inside imports the package root (`cnndsl`)
for a name, `__version__` included: that is a leaf module's."""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "cnndsl"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


@functools.cache
def _tree(path: Path) -> ast.Module:
    """The module's syntax tree, parsed once for all the tests here (none changes it)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def _top_level(tree: ast.Module):
    """The module's own statements, into `if`/`try` blocks but not `if TYPE_CHECKING:`
    ones, nor functions or classes (imported when called, not when imported)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                stack += node.body + node.orelse
        elif isinstance(node, ast.Try):
            stack += node.body + node.orelse + node.finalbody + \
                [n for h in node.handlers for n in h.body]
        else:
            yield node


def imports(name: str) -> set[tuple[str, str | None]]:
    """(module imported, the name taken from it or None) for each module-level import."""
    tree = _tree(MODULES[name])
    found = set()
    for node in _top_level(tree):
        if isinstance(node, ast.Import):
            found |= {(a.name, None) for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add((sub, None) if sub in MODULES else (node.module, alias.name))
    return {(m, n) for m, n in found if m.split(".")[0] == "cnndsl"}


def graph() -> dict[str, set[str]]:
    return {name: {m for m, _ in imports(name) if m in MODULES} for name in MODULES}


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_walk_finds_a_cycle_when_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_walk_reads_the_package():
    edges = graph()
    assert "cnndsl.passes.bind" in edges["cnndsl.passes.construct"]
    assert "cnndsl.ir.layers" in edges["cnndsl.passes.bind"]


def test_the_import_graph_has_no_cycle():
    assert _cycle(graph()) is None


def test_nothing_inside_imports_a_name_from_the_package_root():
    taken = {name: sorted(n for m, n in imports(name) if m == "cnndsl" and n is not None)
             for name in MODULES if name != "cnndsl"}
    assert {name: names for name, names in taken.items() if names} == {}


def test_nothing_inside_takes_a_root_name_even_when_called():
    """Not at module level, nor inside a function (imported when called): a name
    the root re-exports (`__version__`, `check`) comes from the module that defines it."""
    taken = {}
    for name, path in MODULES.items():
        if name == "cnndsl":
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module == "cnndsl" and node.level == 0:
                names = [a.name for a in node.names if f"cnndsl.{a.name}" not in MODULES]
                if names:
                    taken.setdefault(name, []).extend(names)
    assert taken == {}


def test_the_version_lives_in_a_leaf_module():
    import cnndsl
    from cnndsl.version import __version__

    assert cnndsl.__version__ == __version__
    assert imports("cnndsl.version") == set()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{__version__}"' in pyproject


def test_drawing_and_compiling_keep_to_their_own_layers():
    """draw takes no private name of codegen; codegen's API does not reach into train/."""
    drawing = [n for n in MODULES if n.partition(".")[2].startswith("backends.diagram")]
    pairs = [(n, "cnndsl.backends.pytorch") for n in drawing] + \
        [("cnndsl.backends.pytorch.build", "cnndsl.train")]
    assert len(drawing) > 1     # the package, and the modules it is made of
    for name, other in pairs:
        tree = _tree(MODULES[name])
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not node.module.startswith("cnndsl.backends.pytorch") or not private, \
                    f"{name} imports {node.module}.{private}"
                reaches = name == "cnndsl.backends.pytorch.build" and node.module.startswith(other)
                assert not reaches, f"{name} imports {node.module}"


#: the most lines a module of `cnndsl/` may have, and a function (decorators aside)
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 50
#: modules another change is splitting at the same time; emptied when it lands
PENDING: set[str] = set()


def _sizes():
    """(path, lines of the module, {function: lines}) for each module of `cnndsl/`."""
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        functions = {f"{node.name}:{node.lineno}": node.end_lineno - node.lineno + 1
                     for node in ast.walk(_tree(path))
                     if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
        yield path.relative_to(ROOT).as_posix(), len(text.splitlines()), functions


def test_modules_and_functions_stay_small():
    """Small modules named after what they hold: none over MAX_MODULE_LINES lines, no
    function over MAX_FUNCTION_LINES (counted from its `def`, decorators aside)."""
    too_long = {}
    for path, lines, functions in _sizes():
        if path in PENDING:
            continue
        if lines > MAX_MODULE_LINES:
            too_long[path] = lines
        too_long |= {f"{path}:{name}": n for name, n in functions.items()
                     if n > MAX_FUNCTION_LINES}
    assert too_long == {}


def test_the_pending_modules_are_still_there_and_still_pending():
    """PENDING names only files that exist and are still over a limit, so it is
    emptied as they are split, not left to excuse new ones."""
    sizes = {path: (lines, functions) for path, lines, functions in _sizes()}
    for path in PENDING:
        assert path in sizes, f"{path} is gone: take it out of PENDING"
        lines, functions = sizes[path]
        assert lines > MAX_MODULE_LINES or max(functions.values()) > MAX_FUNCTION_LINES, \
            f"{path} is within the limits now: take it out of PENDING"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is Python 3.11+")
def test_every_package_folder_ships_in_the_wheel():
    """pyproject lists the packages by name: a folder left out is missing from the
    wheel (and from CI's installed copy), though a checkout imports it fine."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(project["tool"]["setuptools"]["packages"])
    folders = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert folders - listed == set()


def test_the_diagram_needs_nothing_of_the_torch_back_end():
    """draw raises the checker's SpecError (cnndsl.api); it imports nothing of codegen,
    when imported or when called."""
    found = set()
    for name in [n for n in MODULES if n.partition(".")[2].startswith("backends.diagram")]:
        tree = _tree(MODULES[name])
        found |= {node.module for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        found |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                  for a in node.names}
    assert not {m for m in found if m.startswith("cnndsl.backends.pytorch")}


def test_the_commands_import_only_their_own_modules_and_leaves_when_imported():
    """`cnndsl --help` imports every command module: at module level they take only
    cli's own modules and the leaves (files, version); the library is imported when
    a command runs."""
    leaves = {"cnndsl.files", "cnndsl.version"}
    found = {name: sorted(m for m, _ in imports(name)
                          if not m.startswith("cnndsl.cli") and m not in leaves)
             for name in MODULES if name.startswith("cnndsl.cli")}
    assert {name: taken for name, taken in found.items() if taken} == {}


# ---- the folders (written by relayout.py) ------------------------------------------------------
# Every module lives in one of the folders that show the pipeline, or is one of a few
# named top-level modules; the names the old layout let collide stay apart.
FOLDERS = {"front", "importer", "ir", "passes", "diagnostics", "backends",
           "cli", "serve", "train", "lsp"}
TOP_LEVEL = {"cnndsl", "cnndsl.__main__", "cnndsl.version", "cnndsl.api",
             "cnndsl.files", "cnndsl.memory"}
ALIKE = {"server"}


def test_every_module_lives_in_a_named_folder_or_is_a_named_top_level_module():
    stray = sorted(name for name in MODULES
                   if name not in TOP_LEVEL and name.split(".")[1] not in FOLDERS)
    assert stray == []
    assert {name.split(".")[1] for name in MODULES if name.count(".") >= 2} <= FOLDERS


def test_no_module_is_named_like_a_package_beside_it():
    """`training.py` beside `train/`, `api.py` and `codegen/api.py`, `evaluate.py` where
    `train/evaluation.py` means something else: a module's name does not begin with a
    sibling package's name, and outside cli/ (named after its commands) no two modules'
    names begin alike (their first seven letters; the two servers are each their shell's)."""
    packages = {p.parent for p in PACKAGE.rglob("__init__.py")}
    for path in PACKAGE.rglob("*.py"):
        siblings = {p.name for p in packages if p.parent == path.parent}
        assert not [s for s in siblings if path.stem != s and path.stem.startswith(s)], path
    stems: dict[str, list[str]] = {}
    for name in MODULES:
        if not name.startswith("cnndsl.cli") and not MODULES[name].name.startswith("__"):
            stems.setdefault(name.rsplit(".", 1)[-1].rstrip("s")[:7], []).append(name)
    alike = {stem: names for stem, names in stems.items() if len(names) > 1}
    assert {stem: names for stem, names in alike.items() if stem not in ALIKE} == {}


def test_the_front_end_the_ir_and_the_diagnostics_import_nothing_later_when_imported():
    """The pipeline's direction: the front end, the IR and the diagnostics come first; the
    passes, the API, the back ends and the shells after them. Nothing early imports
    anything later at module level."""
    early = ("cnndsl.front", "cnndsl.ir", "cnndsl.diagnostics")
    later = ("cnndsl.passes", "cnndsl.api", "cnndsl.backends", "cnndsl.cli", "cnndsl.serve",
             "cnndsl.train", "cnndsl.lsp", "cnndsl.importer")
    found = {name: sorted(m for m, _ in imports(name) if m.startswith(later))
              for name in MODULES if name.startswith(early)}
    assert {name: taken for name, taken in found.items() if taken} == {}


def test_the_back_ends_import_no_shell_when_imported():
    shells = ("cnndsl.cli", "cnndsl.serve", "cnndsl.train", "cnndsl.lsp")
    found = {name: sorted(m for m, _ in imports(name) if m.startswith(shells))
              for name in MODULES if name.startswith("cnndsl.backends")}
    assert {name: taken for name, taken in found.items() if taken} == {}
