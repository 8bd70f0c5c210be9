#!/usr/bin/env bash
# fedra-sim --run-dir: a run stopped after round 2 and resumed to round 4 ends with the same
# model, bit for bit, as an uninterrupted 4-round run (SCAFFOLD, so the clients' control
# variates must come back from the checkpoint too), and a checkpoint of another run is refused.
set -euo pipefail
sim=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
common=(--data synthetic --model logreg --strategy scaffold --epochs 2 --threads 2)
args=("${common[@]}" --clients 6)
"$sim" "${args[@]}" --rounds 4 --save "$dir/full.safetensors" >/dev/null 2>&1
"$sim" "${args[@]}" --rounds 2 --run-dir "$dir/run" >/dev/null 2>&1
"$sim" "${args[@]}" --rounds 4 --run-dir "$dir/run" --save "$dir/resumed.safetensors" \
  --metrics-out "$dir/m.jsonl" >"$dir/resumed.log" 2>&1
grep -q "resuming from $dir/run after round 2 of 4" "$dir/resumed.log"
cmp "$dir/full.safetensors" "$dir/resumed.safetensors"
[[ $(wc -l <"$dir/m.jsonl") -eq 4 ]]  # the metrics file holds every round, not only the resumed
if "$sim" "${common[@]}" --clients 5 --rounds 4 --run-dir "$dir/run" >"$dir/other.log" 2>&1; then
  echo "a checkpoint of a 6-client run was resumed by a 5-client run" >&2
  exit 1
fi
grep -q "holds a checkpoint of another run" "$dir/other.log"
echo "sim resume: identical model after resuming"
