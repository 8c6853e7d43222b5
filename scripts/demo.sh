#!/usr/bin/env bash
# The main job on the built-in default: check, compile, draw and briefly train
# the seed notes' MNIST network on scikit-learn's bundled digits.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
SPEC=${1:-specs/mnist_net.cnn}
NAME=$(basename "$SPEC" .cnn)
mkdir -p out
set -x
cnndsl check "$SPEC"
cnndsl compile "$SPEC" -o "out/$NAME.py"
cnndsl diagram "$SPEC" -o "out/$NAME.svg"
cnndsl train "$SPEC" --epochs "${EPOCHS:-5}"
