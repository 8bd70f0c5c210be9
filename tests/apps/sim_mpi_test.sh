#!/usr/bin/env bash
# mpirun -n R fedra-sim: the model after 3 rounds is bit-identical to the one-process run with
# the same seed for R = 2 and 4 (FedAvg with sampling, SCAFFOLD with its client state, FedNova
# with momentum), and so are the metrics (time aside); a SCAFFOLD run over 2 ranks resumes from
# its per-rank checkpoints bit for bit; 3 ranks and a strategy that needs every update are
# refused with a message; a rank killed mid-run makes mpirun fail.
set -euo pipefail
sim=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpi=(mpirun --oversubscribe)
if [[ $(id -u) -eq 0 ]]; then mpi+=(--allow-run-as-root); fi
# Shared-memory transport only: these tests run on one machine (and in containers without
# a usable network interface).
mpi+=(--mca btl self,vader)
base=(--data synthetic --model mlp --epochs 1 --threads 1 --seed 4)
common=("${base[@]}" --clients 13 --rounds 3)
strip_time() { sed -E 's/"seconds":[^,}]*//' "$1"; }
# Each mpirun start can cost seconds on a machine without /etc/hosts (a fresh Debian root), so
# the cases are spread: FedAvg over 2 and 4 ranks, SCAFFOLD over 4 (and over 2 by the resume
# below), FedNova over 2.
for case in "2 4:fedavg --fraction-fit 0.5" "4:scaffold" "2:fednova --momentum 0.9"; do
  read -ra s <<<"${case#*:}"
  strategy=${case#*:}
  "$sim" "${common[@]}" --strategy "${s[@]}" --save "$dir/one.st" --metrics-out "$dir/one.jsonl" \
    >/dev/null 2>&1
  for n in ${case%%:*}; do
    "${mpi[@]}" -n $n "$sim" "${common[@]}" --strategy "${s[@]}" --save "$dir/n$n.st" \
      --metrics-out "$dir/n$n.jsonl" >"$dir/n$n.log" 2>&1 || { cat "$dir/n$n.log"; exit 1; }
    cmp "$dir/one.st" "$dir/n$n.st" || { echo "$strategy: -n $n differs from one process" >&2; exit 1; }
    cmp <(strip_time "$dir/one.jsonl") <(strip_time "$dir/n$n.jsonl") ||
      { echo "$strategy: -n $n metrics differ" >&2; exit 1; }
    grep -q "spread over $n MPI ranks" "$dir/n$n.log"
  done
done
# Resume over 2 ranks: rank 1's clients' SCAFFOLD variates come back from run/rank-1.
args=("${base[@]}" --strategy scaffold --clients 6)
"$sim" "${args[@]}" --rounds 4 --save "$dir/full.st" >/dev/null 2>&1
"${mpi[@]}" -n 2 "$sim" "${args[@]}" --rounds 2 --run-dir "$dir/run" >/dev/null 2>&1
[[ -d $dir/run/rank-1 ]]
"${mpi[@]}" -n 2 "$sim" "${args[@]}" --rounds 4 --run-dir "$dir/run" --save "$dir/resumed.st" \
  >"$dir/resumed.log" 2>&1
grep -q "resuming from $dir/run after round 2 of 4" "$dir/resumed.log"
cmp "$dir/full.st" "$dir/resumed.st"
# Refusals, before any data is loaded; mpirun fails with the message.
if "${mpi[@]}" -n 3 "$sim" "${common[@]}" >"$dir/three.log" 2>&1; then exit 1; fi
grep -q "runs on 1, 2, 4, ... or 64 ranks, not 3" "$dir/three.log"
if "${mpi[@]}" -n 2 "$sim" "${common[@]}" --strategy fedmedian >"$dir/median.log" 2>&1; then exit 1; fi
grep -q -- "--strategy fedmedian cannot run over MPI ranks" "$dir/median.log"
# A rank that dies mid-run (rank 1 killed after 2 s of a long run) fails the whole job.
cat >"$dir/die.sh" <<'SH'
#!/usr/bin/env bash
if [[ $OMPI_COMM_WORLD_RANK == 1 ]]; then exec timeout -s KILL 2 "$@"; fi
exec "$@"
SH
chmod +x "$dir/die.sh"
rc=0
timeout 120 "${mpi[@]}" -n 2 "$dir/die.sh" "$sim" "${base[@]}" --rounds 100000 --clients 40 \
  >"$dir/die.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || { echo "mpirun succeeded although rank 1 was killed" >&2; exit 1; }
[[ $rc -ne 124 ]] || { echo "mpirun hung after rank 1 was killed" >&2; exit 1; }
grep -q "exited on signal 9" "$dir/die.log" || { cat "$dir/die.log"; exit 1; }
echo "sim mpi: bit-identical to one process over 2 and 4 ranks"
