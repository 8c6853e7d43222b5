"""What the importer raises for a module it cannot express in the language."""

from __future__ import annotations

import traceback
from types import TracebackType

from cnndsl.files import printable


class Unsupported(Exception):
    """A construct the language has no word for, or that cannot be traced.

    `str(exc)` is one paragraph; `module_path` is the offending submodule
    (`layer1.0.conv1`, or '' for the root), `filename` and `line` locate its
    forward when known, `hint` names the nearest supported rewrite.
    """

    def __init__(self, what: str, *, module_path: str = "", filename: str | None = None,
                 line: int | None = None, hint: str = "") -> None:
        self.what = printable(what)
        self.module_path = printable(module_path)
        self.filename = filename
        self.line = line
        self.hint = printable(hint)
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"in `{self.module_path}`" if self.module_path else "in the root module"
        if self.filename:
            where += f" ({printable(self.filename)}" + (f":{self.line}" if self.line else "") + ")"
        text = f"cannot import: {self.what} {where}"
        return text + (f"; {self.hint}" if self.hint else "")

    def at(self, module_path: str, filename: str | None = None,
           line: int | None = None) -> Unsupported:
        """The same problem, placed in a module (the innermost place wins)."""
        if self.module_path or self.filename:
            return self
        return Unsupported(self.what, module_path=module_path, filename=filename or self.filename,
                           line=line or self.line, hint=self.hint)


def user_frame(tb: TracebackType | None) -> tuple[str | None, int | None]:
    """The innermost frame of a traceback that is the user's code, not torch's or ours."""
    found: tuple[str | None, int | None] = (None, None)
    for frame in traceback.extract_tb(tb):
        name = frame.filename.replace("\\", "/")
        if "/torch/" in name or "/cnndsl/importer/" in name or name.startswith("<"):
            continue
        found = (frame.filename, frame.lineno)
    return found
