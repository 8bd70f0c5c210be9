#!/usr/bin/env bash
# The NIID-Bench setting in fedra-sim (Li et al., ICDE 2022; Flower's baseline): Fashion-MNIST,
# 10 clients all training every round, simple-cnn, 50 rounds x 10 local epochs, batch 64,
# SGD lr 0.01 momentum 0.9; Dirichlet(0.5) label skew for FedAvg, FedProx (mu 0.01), SCAFFOLD
# and FedNova, IID for FedAvg; seeds 1-3.
#
#   nice -n 19 bench/niid_bench.sh [build/release/src/apps/fedra-sim]
#
# Every run checkpoints after each round into docs/results/niid-bench/checkpoints/<run>/ and
# picks up where it stopped when started again (so the budget can be finished over several
# sessions; commit the checkpoints with the metrics); a finished run is skipped. Per-round
# metrics: docs/results/niid-bench/<dir0.5|iid>_<strategy>_seed<N>.jsonl. RUNS= limits the
# list (e.g. RUNS="dir0.5_fedavg_seed1 iid_fedavg_seed1").
set -euo pipefail
cd "$(dirname "$0")/.."
sim=${1:-build/release/src/apps/fedra-sim}
out=docs/results/niid-bench
mkdir -p "$out/checkpoints"
# Every row with seed 1 first, then FedAvg Dir(0.5) seeds 2-3, then the other seeds.
default_runs="dir0.5_fedavg_seed1 dir0.5_fedprox_seed1 dir0.5_scaffold_seed1 dir0.5_fednova_seed1
  iid_fedavg_seed1 dir0.5_fedavg_seed2 dir0.5_fedavg_seed3 iid_fedavg_seed2 iid_fedavg_seed3
  dir0.5_fedprox_seed2 dir0.5_scaffold_seed2 dir0.5_fednova_seed2
  dir0.5_fedprox_seed3 dir0.5_scaffold_seed3 dir0.5_fednova_seed3"
for run in ${RUNS:-$default_runs}; do
  IFS=_ read -r split strategy seed <<<"$run"
  seed=${seed#seed}
  metrics="$out/$run.jsonl"
  if [[ -f "$metrics" && $(wc -l <"$metrics") -ge 50 ]]; then
    echo "== $run: done" >&2
    continue
  fi
  partition=(--partition iid)
  [[ $split == dir0.5 ]] && partition=(--partition dirichlet --alpha 0.5)
  echo "== $run" >&2
  "$sim" --model simple-cnn --clients 10 "${partition[@]}" --strategy "$strategy" --mu 0.01 \
    --rounds 50 --epochs 10 --batch-size 64 --lr 0.01 --momentum 0.9 --seed "$seed" \
    --threads 2 --run-dir "$out/checkpoints/$run" --metrics-out "$metrics"
done
