#!/usr/bin/env bash
# Set up everything, then run the whole test suite against the installed package,
# one pytest-xdist worker per core (`-n auto`); tests that share one expensive
# fixture carry an `xdist_group` mark and run in one worker (`--dist loadgroup`).
# Arguments go to pytest after these: `-n 0` runs everything in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# The package's bytecode, compiled once: where PYTHONDONTWRITEBYTECODE is set (as on the
# machines CI runs on), every process compiled it again, each worker and each `cnndsl`
# a test starts (~70 ms of CPU a process; test_cli.py and test_foundation.py took
# 15.5 s without, 10.8 s with). A stale .pyc is never used: Python recompiles it.
"${VENV:-.venv}/bin/python" -m compileall -q -j 0 cnndsl
exec "${VENV:-.venv}/bin/python" -m pytest -n auto --dist loadgroup "$@"
