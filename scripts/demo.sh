#!/usr/bin/env bash
# The main job: installs what is missing, builds, and trains the LeNet-style CNN on
# Fashion-MNIST, printing loss and accuracy after every epoch. Extra arguments go to
# fedra-train (see `build/release/src/apps/fedra-train --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release -DFEDRA_BUILD_TESTS=OFF -DFEDRA_BUILD_BENCH=OFF
exec build/release/src/apps/fedra-train --model cnn --epochs 10 --optimizer sgd --lr 0.01 --momentum 0.9 \
  --batch-size 64 "$@"
