#!/usr/bin/env bash
# Set up everything, then run the whole test suite against the installed package,
# one pytest-xdist worker per core (`-n auto`); tests that share one expensive
# fixture carry an `xdist_group` mark and run in one worker (`--dist loadgroup`).
# Arguments go to pytest after these: `-n 0` runs everything in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec "${VENV:-.venv}/bin/python" -m pytest -n auto --dist loadgroup "$@"
