"""One step of a child's batch, run as a process runs it: for the children that run
many cases with one interpreter (`commands.py`, `compiled.py`).

`captured(action, *args)` gives (exit status, stdout, stderr): the status is what
`action` returns (0 for None) or its `SystemExit`'s code, or 1 with the traceback on
stderr for an uncaught exception, as the interpreter gives; stdout is strict UTF-8
(an unencodable character is an error, as in a process's UTF-8 locale) and stderr
escapes with backslashes, as a process's streams do.
"""

from __future__ import annotations

import contextlib
import io
import traceback


def _stream(errors: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors, write_through=True)


def captured(action, *args) -> tuple[int, bytes, bytes]:
    out, err = _stream("strict"), _stream("backslashreplace")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = action(*args) or 0
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except Exception:  # what the interpreter does with it
            traceback.print_exc()
            status = 1
    return status, out.buffer.getvalue(), err.buffer.getvalue()
