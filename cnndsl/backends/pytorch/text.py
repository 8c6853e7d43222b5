"""User text made safe in generated code (docstrings, comments, string literals:
every character a string or a line could end on escaped), and the page it is laid
out on."""

from __future__ import annotations

import re
import textwrap

from cnndsl.files import printable

INDENT = "    "
WIDTH = 100


def _basename(name: str) -> str:
    return re.split(r"[\\/]", name)[-1] or name


def _doc(text: str) -> str:
    """User text made safe inside a docstring: control and invisible characters
    escaped (`printable`), then every backslash and quote escaped, so nothing
    can end the string or the line."""
    return printable(text).replace("\\", "\\\\").replace('"', '\\"')


def _comment(text: str) -> str:
    """User text made safe in a `#` comment: one line, nothing invisible."""
    return printable(text)


def _docstring(paragraphs: list[str], indent: str) -> str:
    """A docstring of user-derived text: the first paragraph, then the others
    one per line, each wrapped to the page and made safe with `_doc`."""
    width = WIDTH - len(indent)
    lines = []
    for index, text in enumerate(p for p in paragraphs if p):
        wrapped = textwrap.wrap(_doc(text), width - (6 if index == 0 else 0),
                                break_long_words=False, break_on_hyphens=False)
        lines += wrapped + ([""] if index == 0 else [])
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) == 1 and len(indent) + len(lines[0]) + 6 <= WIDTH:
        return f'{indent}"""{lines[0]}"""'
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines)
    return f'{indent}"""{body.lstrip()}\n{indent}"""'


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    return _ESCAPES.get(char) or printable(char)


def _literal(text: str) -> str:
    """A double-quoted Python string literal of `text`, every special character escaped."""
    return '"' + "".join(_escape(c) for c in text) + '"'


def _string_lines(text: str, indent: str) -> str:
    """`text` as adjacent string literals of at most ~80 characters each, one per
    line, that concatenate to exactly `text` (line ends included)."""
    out = []
    for line in text.splitlines(keepends=True):
        chunk, size = [], 0
        for char in line:
            piece = _escape(char)
            if chunk and size + len(piece) > 78:
                out.append('"' + "".join(chunk) + '"')
                chunk, size = [], 0
            chunk.append(piece)
            size += len(piece)
        if chunk:
            out.append('"' + "".join(chunk) + '"')
    return "\n".join(indent + piece for piece in out) if out else f'{indent}""'
