#!/usr/bin/env bash
# Everything cnndsl needs on a fresh Debian/Ubuntu machine with Python 3.10+:
# Graphviz's `dot` (for diagrams), Chromium (the playground's browser tests drive
# it with Playwright), a project virtual environment `.venv` (stock
# Debian and Ubuntu refuse `pip install` into the system Python), PyTorch in it
# (the CPU build from PyTorch's index unless the machine has an NVIDIA GPU), and
# cnndsl itself with its test tools. Safe to run again: it skips what is already
# there. TORCH_VERSION, TORCH_CPU_INDEX, PYTHON and VENV override the defaults.
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

# The front ends' build tools, from npm, where Node is installed: esbuild for the
# playground's bundle (its rebuild test), vsce and vscode-tmgrammar-test for the VS Code
# extension's tests. Optional: without them those tests say why they skipped. Started
# here, in the background, and waited for after pip: mostly waiting on the network and
# the disk, it overlapped PyTorch's and cnndsl's installs (~45 s of a fresh install).
NPM_JOBS=()
trap wait EXIT    # an install that fails leaves no npm writing on behind it
if command -v npm >/dev/null 2>&1; then
    for dir in web editors/vscode; do
        if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
            (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
                || echo "npm ci in $dir failed: its tests will be skipped" >&2 &
            NPM_JOBS+=($!)
        fi
    done
fi

PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
# uv (from PyPI, into the venv) installs the same wheels as pip, several at a time: torch
# and the test tools took 47 s with pip and 17 s with uv on a fresh 2-core machine. It is
# given pip's settings (scripts/pip_to_uv.py: config files and PIP_* variables); where it
# cannot be had or an install fails, pip does that install. CNNDSL_PIP=1: pip only.
UV=""
if [ -z "${CNNDSL_PIP:-}" ] && { [ -x "$VENV/bin/uv" ] || "${PIP[@]}" uv >/dev/null 2>&1; }; then
    UV="$VENV/bin/uv"
fi

# install_packages [--without-index-url] PIP-ARGUMENT...: with uv, else with pip
install_packages() {
    local only=""
    if [ "${1:-}" = "--without-index-url" ]; then
        only=$1
        shift
    fi
    if [ -n "$UV" ]; then
        local flags=() environment=() line
        while IFS= read -r line; do
            case "$line" in
                --*) flags+=("$line") ;;
                ?*) environment+=("$line") ;;
            esac
        done < <("$VENV/bin/python" -m pip config list 2>/dev/null \
                 | "$VENV/bin/python" scripts/pip_to_uv.py $only)
        if env ${environment[@]+"${environment[@]}"} "$UV" pip install -q \
                --python "$VENV/bin/python" --compile-bytecode "${flags[@]}" "$@"; then
            return 0
        fi
        echo "uv could not install $*: trying pip" >&2
    fi
    "${PIP[@]}" "$@"
}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
# PyTorch's CPU-only wheels; PyPI's `torch` is the CUDA build (GBs of libraries)
TORCH_CPU_INDEX=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}

has_nvidia_gpu() {
    [ -e /proc/driver/nvidia/version ] \
        || { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }
}

# The index answers within 5 s, once (an unreachable one must not stall the install)
cpu_index_reachable() {
    "$VENV/bin/python" - "$TORCH_CPU_INDEX/torch/" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5).close()
PY
}

torch_installed() {
    "$VENV/bin/python" - "$TORCH_VERSION" <<'PY' 2>/dev/null
import importlib.metadata, sys
sys.exit(importlib.metadata.version("torch").split("+")[0] != sys.argv[1])
PY
}

install_torch() {
    if torch_installed; then
        return 0    # this version is there already, whichever build
    fi
    # Pinning a version does not choose a build: without an NVIDIA GPU, take the
    # CPU build from PyTorch's index; where that cannot be reached, the default
    # index (and PIP_FIND_LINKS, PIP_INDEX_URL) decide.
    if [ "$(uname -s)" = Linux ] && ! has_nvidia_gpu; then
        if cpu_index_reachable && PIP_TIMEOUT=15 PIP_RETRIES=1 install_packages --without-index-url \
                --index-url "$TORCH_CPU_INDEX" "torch==$TORCH_VERSION"; then
            return 0
        fi
        echo "torch $TORCH_VERSION could not be installed from PyTorch's CPU index" \
             "($TORCH_CPU_INDEX): installing it from the default index" >&2
    fi
    install_packages "torch==$TORCH_VERSION"
}

install_torch
install_packages -e ".[dev]"
for job in ${NPM_JOBS[@]+"${NPM_JOBS[@]}"}; do
    wait "$job" || true     # each job says itself what failed
done

# `--figures`: TeX for LaTeX figures and tables (`cnndsl diagram -o NAME.tex`, `check
# --format latex`) and their tests: pdflatex, TikZ and booktabs.
for arg in "$@"; do
    if [ "$arg" = "--figures" ] && ! command -v pdflatex >/dev/null 2>&1; then
        apt_install texlive-latex-base texlive-pictures \
            || echo "install TeX with TikZ for LaTeX figures (apt-get install texlive-latex-base texlive-pictures)" >&2
    fi
done
