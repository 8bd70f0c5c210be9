#!/usr/bin/env bash
# DP-FedAvg through fedra-server and fedra-client processes on 127.0.0.1 (and, last, composed
# with secure aggregation and with Paillier): central noise with a
# privacy budget that runs out before the last round. The server must stop before a round
# that would exceed the budget,
# record epsilon per round in the metrics file, keep the accountant in its checkpoint, and —
# started again on the same run directory — resume the count and stop at once instead of
# spending more.
# Usage: dp_e2e_test.sh BIN_DIR WORK_DIR
set -euo pipefail
bin=$1
work=$2
rm -rf "$work" && mkdir -p "$work"
cd "$work"
fail() { echo "DP E2E FAILED: $*" >&2; tail -20 server*.log >&2; exit 1; }
export GRPC_VERBOSITY=NONE
client_args=()
server_args=(--insecure --data none --input-shape 60 --classes 10 --model logreg --rounds 10
  --min-clients 3 --run-dir run --poll-seconds 1 --dp-mode central --dp-clip 0.5
  --dp-noise-multiplier 1.0 --dp-target-epsilon 8 --dp-delta 1e-5 --dp-budget-action stop)
run_once() {  # run_once LOG
  rm -f port
  "$bin/fedra-server" --address 127.0.0.1:0 --port-file port "${server_args[@]}" > "$1" 2>&1 &
  local server=$!
  for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.1; done
  local pids=()
  for i in 0 1 2; do
    "$bin/fedra-client" --insecure --server "127.0.0.1:$(cat port)" --data synthetic \
      --num-partitions 3 --partition-index $i --model logreg --give-up-seconds 20 \
      ${client_args[@]+"${client_args[@]}"} > "client$i.log" 2>&1 &
    pids+=($!)
  done
  wait "$server" || fail "server exited with an error"
  for p in "${pids[@]}"; do wait "$p" || true; done
}
run_once server1.log
grep -q "the strategy ended the run before round" server1.log || fail "no budget stop"
rounds=$(wc -l < run/metrics.jsonl)
((rounds >= 2 && rounds < 10)) || fail "$rounds rounds before the stop"
grep -q '"dp_epsilon"' run/metrics.jsonl || fail "epsilon not in the metrics"
last_eps=$(tail -1 run/metrics.jsonl | sed 's/.*"dp_epsilon":\([0-9.e+-]*\).*/\1/')
awk -v e="$last_eps" 'BEGIN { exit !(e <= 8) }' || fail "spent epsilon $last_eps beyond the budget of 8"
[[ -s run/model.safetensors ]] || fail "no final model"
# Again on the same directory: the accountant comes back from the checkpoint.
run_once server2.log
grep -q "resuming run" server2.log || fail "did not resume"
grep -q "the strategy ended the run before round $((rounds + 1))" server2.log ||
  fail "the resumed run did not stop at once"
[[ $(wc -l < run/metrics.jsonl) -eq $rounds ]] || fail "the resumed run trained more rounds"
# DP composed with secure aggregation: clients clip and add their share of the noise
# (distributed DP), the server only ever sees the masked sum.
rm -rf run
server_args=(--insecure --data none --input-shape 60 --classes 10 --model logreg --rounds 2
  --min-clients 3 --run-dir run --poll-seconds 1 --dp-mode distributed --dp-clip 0.5
  --dp-noise-multiplier 1.0 --dp-delta 1e-5 --secure-sum secagg)
run_once server3.log
[[ $(grep -c "secure aggregation summed 3 of 3 clients" server3.log) -eq 2 ]] ||
  fail "DP + secure aggregation did not sum every round"
[[ $(grep -c '"aggregated":true' run/metrics.jsonl) -eq 2 ]] || fail "DP + SecAgg rounds failed"
grep -q '"dp_epsilon"' run/metrics.jsonl || fail "no epsilon with DP + SecAgg"
# DP with clipping on the clients and central noise, the sums under Paillier encryption.
rm -rf run keys && mkdir -p keys
"$bin/fedra-keygen" paillier --public-out keys/p.pub.json --secret-out keys/p.key.json > /dev/null
server_args=(--insecure --data none --input-shape 60 --classes 10 --model logreg --rounds 2
  --min-clients 3 --run-dir run --poll-seconds 1 --dp-mode central --dp-clip-on-client
  --dp-clip 0.5 --dp-noise-multiplier 1.0 --dp-delta 1e-5 --secure-sum paillier
  --paillier-public-key keys/p.pub.json)
client_args=(--paillier-secret-key keys/p.key.json)
run_once server4.log
[[ $(grep -c "decrypted the total of 3 encrypted updates" server4.log) -eq 2 ]] ||
  fail "DP + Paillier did not decrypt a total every round"
[[ $(grep -c '"aggregated":true' run/metrics.jsonl) -eq 2 ]] || fail "DP + Paillier rounds failed"
echo "DP E2E OK: stopped after $rounds rounds at epsilon $last_eps, resumed run stopped at once; DP + SecAgg and DP + Paillier rounds aggregated"
