#!/usr/bin/env bash
# A strategy and a trainer from a plugin (examples/plugin) in the stock programs:
# fedra-sim with both; fedra-server with the strategy and three fedra-client processes with
# the trainer on 127.0.0.1; fedra-sim with the plugin strategy under secure aggregation. The
# plugin strategy sends an open round config the trainer needs (without it every fit fails)
# and reports its own metric; the trainer reports evaluation metrics. Bad plugins are refused
# at start-up with a message naming the file.
# Usage: plugin_e2e_test.sh BIN_DIR PLUGIN.so WRONG_VERSION.so WORK_DIR
set -euo pipefail
bin=$1
plugin=$2
wrong=$3
source "$(dirname "$0")/e2e_lib.sh"
e2e_begin "$4"
fail() { e2e_fail "PLUGIN E2E" "$1" 20 server.log sim.log client0.log; }

# Bad plugins: each is refused before any round, naming the file.
expect_refusal() {  # expect_refusal PATTERN PROGRAM ARGS...
  local pattern=$1
  shift
  if "$@" > refusal.log 2>&1; then fail "$* started"; fi
  grep -q -- "$pattern" refusal.log || { cat refusal.log >&2; fail "no '$pattern' for $*"; }
}
sim=("$bin/fedra-sim" --data synthetic --clients 4 --model logreg --threads 2)
expect_refusal "plugin /nonexistent.so does not load" "${sim[@]}" --strategy-plugin /nonexistent.so
expect_refusal "plugin $wrong was built for fedra 0.0.1-other" "${sim[@]}" --strategy-plugin "$wrong"
zlib=$(ls /usr/lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1 2>/dev/null | head -1)
expect_refusal "has no fedra entry point" "${sim[@]}" --trainer-plugin "$zlib"
expect_refusal "new_strategy threw: asked to throw" "${sim[@]}" --strategy-plugin "$plugin" \
  --plugin-args throw

# fedra-sim: both halves from the plugin.
"${sim[@]}" --rounds 3 --strategy-plugin "$plugin" --plugin-args server_lr=0.5 \
  --trainer-plugin "$plugin" --metrics-out sim.jsonl > sim.log 2>&1 || fail "fedra-sim failed"
grep -q "strategy scaled-fedavg" sim.log || fail "fedra-sim did not run the plugin strategy"
[[ $(grep -c '"aggregated":true' sim.jsonl) -eq 3 ]] || fail "fedra-sim rounds failed"
grep -q '"server_lr":0.5' sim.jsonl || fail "the strategy's report is not in the metrics"
grep -q '"eval_seen_round":3' sim.jsonl || fail "the evaluation config did not reach the trainer"
grep -q '"eval_top2_accuracy"' sim.jsonl || fail "the trainer's metrics are not in the metrics"
# Learning happened: the last round's federated accuracy beats chance (10 classes).
acc=$(tail -1 sim.jsonl | sed 's/.*"eval_accuracy":\([0-9.e+-]*\).*/\1/')
awk -v a="$acc" 'BEGIN { exit !(a > 0.3) }' || fail "fedra-sim accuracy $acc"

# The same strategy in the simulation under secure aggregation (its inherited fold).
"${sim[@]}" --rounds 2 --strategy-plugin "$plugin" --secure-sum secagg --metrics-out secagg.jsonl \
  > sim_secagg.log 2>&1 || fail "fedra-sim --secure-sum secagg failed"
[[ $(grep -c '"aggregated":true' secagg.jsonl) -eq 2 ]] || fail "secure plugin rounds failed"

# fedra-server with the strategy, three fedra-client processes with the trainer: plaintext,
# then under secure aggregation (clients fold by the fold spec the server announces).
run_server() {  # run_server RUN_DIR EXTRA_SERVER_ARGS...
  local dir=$1
  shift
  rm -f port
  "$bin/fedra-server" --insecure --address 127.0.0.1:0 --port-file port --data none \
    --input-shape 60 --classes 10 --model logreg --rounds 3 --min-clients 3 --run-dir "$dir" \
    --poll-seconds 1 --fraction-evaluate 1 --strategy-plugin "$plugin" --plugin-args server_lr=0.5 "$@" \
    > server.log 2>&1 &
  local server=$!
  pids+=("$server")
  for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.1; done
  [[ -s port ]] || fail "server did not start"
  for i in 0 1 2; do
    "$bin/fedra-client" --insecure --server "127.0.0.1:$(cat port)" --data synthetic \
      --num-partitions 3 --partition-index $i --model logreg --give-up-seconds 20 \
      --trainer-plugin "$plugin" > "client$i.log" 2>&1 &
    pids+=($!)
  done
  wait "$server" || fail "server exited with an error"
  grep -q "training with example-plugin" client0.log || fail "the client did not load the trainer"
  [[ $(grep -c '"aggregated":true' "$dir/metrics.jsonl") -eq 3 ]] || fail "server rounds failed"
  grep -q '"server_lr":0.5' "$dir/metrics.jsonl" || fail "no strategy report over gRPC"
  grep -q '"eval_seen_round":3' "$dir/metrics.jsonl" || fail "evaluation config lost over gRPC"
  grep -q '"eval_top2_accuracy"' "$dir/metrics.jsonl" || fail "trainer metrics lost over gRPC"
}
run_server run
run_server run_secagg --secure-sum secagg
[[ $(grep -c "secure aggregation summed 3 of 3 clients" server.log) -eq 3 ]] ||
  fail "the plugin strategy's rounds were not securely summed"
echo "PLUGIN E2E OK"
