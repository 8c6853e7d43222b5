"""Lines of output: code and the comment ending it, indented, joined and
rendered with trailing comments aligned (the layout and line breaking)."""

from __future__ import annotations

from dataclasses import dataclass, field

#: A chain is broken at `->` when its line would pass this many columns.
WIDTH = 100
INDENT = "    "


# ---- lines ---------------------------------------------------------------------------

@dataclass
class _Line:
    code: str
    comment: str | None = None   # a trailing comment, `#` included

    @property
    def closed(self) -> bool:
        """Whether a comment ends the line (or is all of it): nothing may follow."""
        return self.comment is not None or self.code.lstrip().startswith("#")


@dataclass
class _Text:
    """A node's rendering: its first line continues whatever is before it; the others
    carry their own indentation."""

    lines: list[_Line] = field(default_factory=list)

    @property
    def flat(self) -> bool:
        return len(self.lines) == 1 and not self.lines[0].closed

    def width(self) -> int:
        return len(self.lines[0].code) if len(self.lines) == 1 else WIDTH + 1


def _one(code: str) -> _Text:
    return _Text([_Line(code)])


def _indent_of(code: str) -> str:
    return code[:len(code) - len(code.lstrip(" "))]


def _indented(text: _Text, depth: int) -> list[_Line]:
    """`text` as lines of their own: the first gets the indentation of `depth`."""
    first = text.lines[0]
    return [_Line(INDENT * depth + first.code, first.comment), *text.lines[1:]]


def _comma(text: _Text) -> _Text:
    """`text` with `,` after its code (before any comment ending its last line)."""
    last = text.lines[-1]
    return _Text([*text.lines[:-1], _Line(last.code + ",", last.comment)])


def _suffix(text: _Text, suffix: str, depth: int) -> _Text:
    """`text` then `suffix` (` as x`, ` * 3`) on its last line of code, before the comment
    ending that line: a newline before `*` or `as` would end the statement."""
    lines = list(text.lines)
    at = max(i for i, line in enumerate(lines) if i == 0 or not _comment_only(line))
    lines[at] = _Line(lines[at].code + suffix, lines[at].comment)
    return _Text(lines)


def _comment_only(line: _Line) -> bool:
    return line.comment is None and line.code.lstrip().startswith("#")


def _render(lines: list[_Line]) -> str:
    """The lines as text, trailing comments of consecutive lines aligned (gofmt's way):
    two spaces after the longest code of the run, unless that passes WIDTH."""
    out: list[str] = []
    run: list[_Line] = []

    def flush() -> None:
        if not run:
            return
        column = max(len(line.code) for line in run) + 2
        for line in run:
            pad = column if column <= WIDTH else len(line.code) + 2
            code = line.code.rstrip()
            out.append(f"{code}{' ' * (pad - len(code))}{line.comment}" if code
                       else line.comment)
        run.clear()

    for line in lines:
        if line.comment is not None and line.code.strip():
            run.append(line)
            continue
        flush()
        out.append((line.code + ("  " + line.comment if line.comment else "")).rstrip())
    flush()
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n" if out else ""
