"""Run a batch of `cnndsl` commands in one child, as the console script runs each.

    python tests/attacks/commands.py BATCH.json RESULTS.jsonl

For each entry (`{"dir", "argv"}`, `dir` relative to the working directory) it
runs `cnndsl ARGV...` from that folder by the command line's own entry point,
with stdout and stderr captured as a process's would be, and appends one JSON
line as soon as it is done: `{"dir", "argv", "status", "out", "err"}` (the
streams as latin-1 text, so every byte comes back). The exit status is the
process's: what `main` returns or exits with, or 1 and the traceback on stderr
for an uncaught exception, as the interpreter gives. Started by
`harness.commands` under the harness's limits, shared by the whole batch: one
interpreter start-up for many commands whose process is not what is tested.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback
from pathlib import Path


def main(batch_file: str, results_file: str) -> None:
    from cnndsl.cli import main as cli_main

    batch = json.loads(Path(batch_file).read_text(encoding="utf-8"))
    home = Path.cwd()
    with open(results_file, "a", encoding="utf-8") as results:
        for entry in batch:
            os.chdir(home / entry["dir"])
            try:
                status, out, err = _run(cli_main, entry["argv"])
            finally:
                os.chdir(home)
            results.write(json.dumps(dict(entry, status=status, out=out.decode("latin-1"),
                                          err=err.decode("latin-1"))) + "\n")
            results.flush()


def _stream(errors: str) -> io.TextIOWrapper:
    """A stream like a process's stdout (`strict`: an unencodable character is an
    error, as it is there in a UTF-8 locale) or stderr (`backslashreplace`)."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors, write_through=True)


def _run(cli_main, argv: list[str]) -> tuple[int, bytes, bytes]:
    out, err = _stream("strict"), _stream("backslashreplace")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli_main(argv)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except Exception:  # what the interpreter does with it
            traceback.print_exc()
            status = 1
    return status, out.buffer.getvalue(), err.buffer.getvalue()


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    main(sys.argv[1], sys.argv[2])
