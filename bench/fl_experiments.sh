#!/usr/bin/env bash
# Runs the federated experiments recorded in docs/benchmarks.md and writes per-round JSON lines
# and SVG plots to docs/results/. Budget (see docs/benchmarks.md): ROUNDS rounds x EPOCHS local
# epochs instead of NIID-Bench's 50 x 10, so the whole set fits a 2-core session.
set -euo pipefail
cd "$(dirname "$0")/.."
sim=${SIM:-build/release/src/apps/fedra-sim}
out=docs/results
ROUNDS=${ROUNDS:-20}
EPOCHS=${EPOCHS:-1}
common=(--model cnn --clients 10 --rounds "$ROUNDS" --epochs "$EPOCHS" --batch-size 64 --lr 0.01 --momentum 0.9
        --seed 1 --log-level warn)
run() {  # name, then fedra-sim flags
  local name=$1; shift
  echo "== $name" >&2
  "$sim" "$@" --metrics-out "$out/$name.jsonl" --plot-out "$out/$name.svg" | tail -1
}
case ${1:-all} in
  niid|all)
    run cnn_dir0.5_fedavg   "${common[@]}" --partition dirichlet --alpha 0.5 --strategy fedavg
    run cnn_dir0.5_fedprox  "${common[@]}" --partition dirichlet --alpha 0.5 --strategy fedprox --mu 0.01
    run cnn_dir0.5_scaffold "${common[@]}" --partition dirichlet --alpha 0.5 --strategy scaffold
    run cnn_dir0.5_fednova  "${common[@]}" --partition dirichlet --alpha 0.5 --strategy fednova
    run cnn_dir0.5_fedadam  "${common[@]}" --partition dirichlet --alpha 0.5 --strategy fedadam --eta 0.01
    ;;&
  iid|all)
    run cnn_iid_fedavg "${common[@]}" --partition iid --strategy fedavg
    ;;&
  mlp100|all)
    m=(--model mlp --clients 100 --fraction-fit 0.1 --rounds 100 --epochs 1 --batch-size 32 --lr 0.05
       --partition dirichlet --alpha 0.3 --seed 1 --log-level warn)
    run mlp100_dir0.3_fedavg  "${m[@]}" --strategy fedavg
    run mlp100_dir0.3_fedadam "${m[@]}" --strategy fedadam --eta 0.01
    run mlp100_dir0.3_fedprox "${m[@]}" --strategy fedprox --mu 0.01
    ;;&
  scale|all)
    # One round with 10,000 clients (6 Fashion-MNIST images each) of softmax regression.
    echo "== scale: 10,000 clients" >&2
    /usr/bin/time -v "$sim" --model logreg --clients 10000 --rounds 1 --partition iid --epochs 1 \
      --batch-size 8 --lr 0.05 --strategy fedavg --seed 1 --log-level warn 2>&1 |
      grep -E "^round|Maximum resident|Elapsed"
    ;;
esac
