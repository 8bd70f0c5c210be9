#!/usr/bin/env bash
# Simulation throughput over MPI ranks (issue #15): the same fedra-sim run (Fashion-MNIST,
# local training dominates) in one process with 1 thread, over `mpirun -n 2` ranks of 1
# thread each, and in one process with 2 threads (the in-process baseline), alternated
# REPEATS times. Prints one JSON line per run: median round time after the first round and
# clients trained per second, and whether the final model is bit-identical to the
# one-process run's.
#   bench/mpi_sim_bench.sh build/release/src/apps/fedra-sim
# Environment: MODEL (cnn), CLIENTS (10), ROUNDS (4), REPEATS (2), EPOCHS (1).
set -euo pipefail
sim=$1
model=${MODEL:-cnn} clients=${CLIENTS:-10} rounds=${ROUNDS:-4} repeats=${REPEATS:-2}
epochs=${EPOCHS:-1}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpi=(mpirun --mca btl self,vader)
if [[ $(id -u) -eq 0 ]]; then mpi+=(--allow-run-as-root); fi
args=(--model "$model" --clients "$clients" --rounds "$rounds" --epochs "$epochs"
  --evaluate-every 0 --seed 1)
report() {  # name metrics-file model-file
  /usr/bin/python3 - "$1" "$2" "$3" "$dir/one.st" "$model" "$clients" <<'PY'
import json, statistics, sys, filecmp
name, metrics, model, reference, model_name, clients = sys.argv[1:]
rounds = [json.loads(l) for l in open(metrics)][1:]
sec = statistics.median(r["seconds"] for r in rounds)
print(json.dumps({"run": name, "model": model_name, "clients": int(clients),
                  "round_seconds_median": round(sec, 3),
                  "clients_per_second": round(rounds[0]["fit_clients"] / sec, 3),
                  "identical_to_one_process": filecmp.cmp(model, reference, shallow=False)}))
PY
}
for ((i = 0; i < repeats; ++i)); do
  "$sim" "${args[@]}" --threads 1 --metrics-out "$dir/one.jsonl" --save "$dir/one.st" >/dev/null 2>&1
  report one-process-1-thread "$dir/one.jsonl" "$dir/one.st"
  "${mpi[@]}" -n 2 "$sim" "${args[@]}" --threads 1 --metrics-out "$dir/mpi.jsonl" --save "$dir/mpi.st" \
    >/dev/null 2>&1
  report mpirun-n2-1-thread-each "$dir/mpi.jsonl" "$dir/mpi.st"
  "$sim" "${args[@]}" --threads 2 --metrics-out "$dir/two.jsonl" --save "$dir/two.st" \
    >/dev/null 2>&1
  report one-process-2-threads "$dir/two.jsonl" "$dir/two.st"
done
