#!/usr/bin/env bash
# The simulation demo: installs what is missing, builds, and runs a federated training on
# Fashion-MNIST in simulation: 10 clients with Dirichlet(0.5) label skew, the LeNet-style CNN,
# FedAvg, 20 rounds of 1 local epoch, evaluated on the test set after every round.
# Writes out/demo.jsonl (metrics per round), out/demo.svg (plot) and out/demo.safetensors.
# Extra arguments go to fedra-sim (see `build/release/src/apps/fedra-sim --help`), e.g.
# `scripts/demo-sim.sh --strategy fedprox --rounds 5`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release -DFEDRA_BUILD_TESTS=OFF -DFEDRA_BUILD_BENCH=OFF
mkdir -p out
exec build/release/src/apps/fedra-sim --model cnn --clients 10 --partition dirichlet --alpha 0.5 \
  --strategy fedavg --rounds 20 --epochs 1 --batch-size 64 --lr 0.01 --momentum 0.9 \
  --metrics-out out/demo.jsonl --plot-out out/demo.svg --save out/demo.safetensors "$@"
