#!/usr/bin/env bash
# Everything cnndsl needs on a fresh Debian/Ubuntu machine with Python 3.10+:
# Graphviz's `dot` (for diagrams), a CPU build of PyTorch, and cnndsl itself
# with its test tools. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if ! command -v dot >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    if command -v apt-get >/dev/null 2>&1; then
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq graphviz >/dev/null
    else
        echo "install Graphviz for diagrams: brew install graphviz | conda install graphviz" >&2
    fi
fi

# A pinned CPU build of torch first: an unpinned one would pull the multi-GB CUDA build.
"$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore "torch==${TORCH_VERSION:-2.13.0}"
"$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore -e ".[dev]"
