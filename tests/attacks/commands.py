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

import json
import os
import sys
from pathlib import Path

from captured import captured  # this folder: the script's own


def main(batch_file: str, results_file: str) -> None:
    from cnndsl.cli import main as cli_main

    batch = json.loads(Path(batch_file).read_text(encoding="utf-8"))
    home = Path.cwd()
    with open(results_file, "a", encoding="utf-8") as results:
        for entry in batch:
            os.chdir(home / entry["dir"])
            try:
                status, out, err = captured(cli_main, entry["argv"])
            finally:
                os.chdir(home)
            results.write(json.dumps(dict(entry, status=status, out=out.decode("latin-1"),
                                          err=err.decode("latin-1"))) + "\n")
            results.flush()


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    main(sys.argv[1], sys.argv[2])
