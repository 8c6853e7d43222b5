#!/usr/bin/env bash
# Everything cnndsl needs on a fresh Debian/Ubuntu machine with Python 3.10+:
# Graphviz's `dot` (for diagrams), Chromium (the playground's browser tests drive
# it with Playwright), a project virtual environment `.venv` (stock
# Debian and Ubuntu refuse `pip install` into the system Python), a CPU build of
# PyTorch in it, and cnndsl itself with its test tools. Safe to run again: it
# skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
APT_UPDATED=""
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        return 1
    fi
    if [ -z "$APT_UPDATED" ]; then
        $SUDO apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if ! command -v dot >/dev/null 2>&1; then
    apt_install graphviz \
        || echo "install Graphviz for diagrams: brew install graphviz | conda install graphviz" >&2
fi

# Debian's package is `chromium`; Ubuntu's `chromium-browser` is a snap shim, so
# there the tests find whichever binary exists (or CNNDSL_CHROMIUM) or skip.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    apt_install chromium \
        || echo "install Chromium for the playground's browser tests (apt-get install chromium)" >&2
fi

if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c "import ensurepip" 2>/dev/null; then
        # Debian and Ubuntu ship venv's pip bootstrap separately
        version=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        apt_install python3-venv "python${version}-venv" || apt_install python3-venv
    fi
    "$PYTHON" -m venv "$VENV"
fi

PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
# A pinned CPU build of torch first: an unpinned one would pull the multi-GB CUDA build.
"${PIP[@]}" "torch==${TORCH_VERSION:-2.13.0}"
"${PIP[@]}" -e ".[dev]"

# `--figures`: TeX for LaTeX figures and tables (`cnndsl diagram -o NAME.tex`, `check
# --format latex`) and their tests: pdflatex, TikZ and booktabs.
for arg in "$@"; do
    if [ "$arg" = "--figures" ] && ! command -v pdflatex >/dev/null 2>&1; then
        apt_install texlive-latex-base texlive-pictures \
            || echo "install TeX with TikZ for LaTeX figures (apt-get install texlive-latex-base texlive-pictures)" >&2
    fi
done
