#!/usr/bin/env bash
# Set up everything, then run the whole test suite against the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec "${VENV:-.venv}/bin/python" -m pytest "$@"
