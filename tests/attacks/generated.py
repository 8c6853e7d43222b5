"""What a generated module may contain, checked on its text without running it.

A compiled spec `ast.parse`s; at the top level it holds only a docstring,
imports of torch (and `__future__`, `typing`, `math`), the model class and
block classes, literal constants in capitals (a `SPEC` text, say), and one
`if __name__ == "__main__":`. No character in it is a control, bidi or line
separator character (every piece of user text is escaped, `repr()`'d or left
out), and the hostile marker word is never a name in the code.
"""

from __future__ import annotations

import ast

from cnndsl.backends.pytorch.helpers import HELPERS  # the helper classes cnndsl may write

IMPORTABLE = {"torch", "__future__", "typing", "math"}


def check_module(code: str, *, model: str, blocks: set[str],
                 marker: str | None = None) -> list[str]:
    """Every way `code` breaks the rules above, in words (empty when it holds)."""
    problems = [f"raw {c!r} at offset {code.index(c)}" for c in sorted(set(code))
                if not (c in "\t\n" or c.isprintable())]
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [*problems, f"does not parse: {exc}"]
    classes = []
    for n, node in enumerate(tree.body):
        problem = _top_level(node, n, classes)
        if problem:
            problems.append(problem)
    problems += _classes(classes, model, blocks)
    if marker is not None:
        problems += [f"`{marker}` became code: {name}" for name in _identifiers(tree)
                     if marker in name]
    return problems


def _top_level(node: ast.stmt, index: int, classes: list[str]) -> str:
    if isinstance(node, ast.ClassDef):
        classes.append(node.name)
        return ""
    if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
            and isinstance(node.value.value, str):
        return ""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        roots = {(alias.name if isinstance(node, ast.Import) else node.module or "")
                 .split(".")[0] for alias in node.names}
        return "" if roots <= IMPORTABLE else f"imports {sorted(roots)} (line {node.lineno})"
    if _is_main_guard(node) or _is_literal_constant(node):
        return ""
    return f"unexpected top-level {type(node).__name__} at line {node.lineno}: " \
           f"{ast.unparse(node)[:120]!r}"


def _is_main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in (
        "__name__ == '__main__'", "'__main__' == __name__")


def _is_literal_constant(node: ast.stmt) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else \
        [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else []
    if not targets or not all(isinstance(t, ast.Name) and t.id.isupper() for t in targets):
        return False
    try:
        ast.literal_eval(node.value)
    except ValueError:
        return False
    return True


def _classes(classes: list[str], model: str, blocks: set[str]) -> list[str]:
    problems = [f"class `{name}` defined twice" for name in sorted(set(classes))
                if classes.count(name) > 1]
    if model not in classes:
        problems.append(f"no model class `{model}` (classes: {classes})")
    others = [name for name in classes if name != model]
    problems += [f"class `{name}` is neither the model nor a block" for name in others
                 if not _of_block(name, blocks) and name not in HELPERS]
    return problems


def _of_block(name: str, blocks: set[str]) -> bool:
    """A block's class: its name, possibly with a suffix for another variant."""
    return any(name == b or (name.startswith(b) and not name[len(b):][:1].islower())
               for b in blocks)


def _identifiers(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, ast.arg):
            yield node.arg
        elif isinstance(node, ast.alias):
            yield node.name
