#!/usr/bin/env bash
# The main job on the built-in default: check, compile, draw and briefly train
# the seed notes' MNIST network on the built-in digits (shipped in the package).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
CNNDSL=${VENV:-.venv}/bin/cnndsl
SPEC=${1:-specs/mnist_net.cnn}
NAME=$(basename "$SPEC" .cnn)
mkdir -p out
set -x
"$CNNDSL" check "$SPEC"
"$CNNDSL" compile "$SPEC" -o "out/$NAME.py"
"$CNNDSL" diagram "$SPEC" -o "out/$NAME.svg"
"$CNNDSL" train "$SPEC" --epochs "${EPOCHS:-5}"
