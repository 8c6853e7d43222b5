#!/usr/bin/env bash
# scripts/install.sh's two ways side by side, in one run, each into a fresh virtual
# environment: pip alone (CNNDSL_PIP=1), then uv with an empty cache (as on a fresh
# CI machine). Prints both times and their ratio; removes what it made.
#
#     bash benchmarks/bench_install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seconds() {   # seconds NAME ENV...: run install.sh with these settings, print its time
    local name=$1 start
    shift
    start=$EPOCHREALTIME
    env "$@" VENV="$work/$name" bash scripts/install.sh >"$work/$name.log" 2>&1 \
        || { echo "install.sh ($name) failed:" >&2; cat "$work/$name.log" >&2; exit 1; }
    python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" \
        "$start" "$EPOCHREALTIME"
}
pip=$(seconds pip CNNDSL_PIP=1)
uv=$(seconds uv UV_CACHE_DIR="$work/uv-cache")
python3 -c "import sys; p, u = map(float, sys.argv[1:]); \
print(f'pip {p:.1f} s, uv (empty cache) {u:.1f} s: {p / u:.2f}x')" "$pip" "$uv"
