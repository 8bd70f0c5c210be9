#!/usr/bin/env bash
# One hostile participant against real processes on 127.0.0.1: fedra-server and four
# fedra-client processes train logistic regression on Fashion-MNIST (IID), and a fifth
# participant (hostile_client, speaking the protocol by hand) answers every round with
#   count:  a claim of 2^63 - 1 examples and an update of +-10 per coordinate, or
#   values: an update of +-1e30 per coordinate.
# With the server's default influence bound each attacked run must end within 2 points of
# the clean run's test accuracy; with --influence-bound off the count attack must wreck it
# (so the test shows the attack is real).
# Usage: influence_e2e_test.sh BIN_DIR HOSTILE_CLIENT WORK_DIR
set -euo pipefail
bin=$1
hostile=$2
work=$3
source "$(dirname "$0")/e2e_lib.sh"
e2e_begin "$work"
fail() { e2e_fail "INFLUENCE E2E" "$*" 8 */*.log; }
rounds=4

# run NAME ATTACK(none|count|values) [server flags...]: prints the final test accuracy.
run() {
  local name=$1 attack=$2
  shift 2
  mkdir -p "$name"
  local clients=4
  [[ $attack != none ]] && clients=5
  "$bin/fedra-server" --insecure --address 127.0.0.1:0 --port-file "$name/port" \
    --run-dir "$name/run" --rounds $rounds --model logreg --data fashion-mnist \
    --min-clients $clients --fraction-evaluate 0 --round-deadline 120 --poll-seconds 1 \
    --wait-seconds 60 \
    --epochs 1 --batch-size 32 --lr 0.05 "$@" > "$name/server.log" 2>&1 &
  local server=$!
  pids+=($server)
  for _ in $(seq 100); do [[ -s $name/port ]] && break; sleep 0.1; done
  [[ -s $name/port ]] || fail "$name: server did not start"
  local port
  port=$(cat "$name/port")
  local i
  for i in 0 1 2 3; do
    "$bin/fedra-client" --insecure --server "127.0.0.1:$port" --name "client-$i" --model logreg \
      --num-partitions 4 --partition-index $i --partition iid --train-seed $((i + 1)) \
      --give-up-seconds 60 > "$name/c$i.log" 2>&1 &
    pids+=($!)
  done
  if [[ $attack != none ]]; then
    "$hostile" "$port" mallory "$attack" > "$name/hostile.log" 2>&1 &
    pids+=($!)
  fi
  wait "$server" || fail "$name: the server failed"
  grep -q "final test accuracy" "$name/server.log" || fail "$name: no final accuracy"
  sed -n 's/.*final test accuracy \([0-9.]*\).*/\1/p' "$name/server.log"
}

clean=$(run clean none)
echo "clean run: test accuracy $clean"
unbounded=$(run unbounded count --influence-bound off)
echo "count attack, influence bound off: $unbounded"
grep -q "accepted" unbounded/hostile.log || fail "the attacker's results were not accepted"
awk -v a="$unbounded" -v c="$clean" 'BEGIN { exit !(a < c - 0.2) }' ||
  fail "the unbounded attack did not hurt ($unbounded vs $clean): the test proves nothing"
for attack in count values; do
  acc=$(run "bounded_$attack" "$attack")
  echo "$attack attack, default influence bound: $acc"
  grep -q "accepted" "bounded_$attack/hostile.log" || fail "$attack: the attack was not accepted"
  grep -q '"influence_norm_clipped"' "bounded_$attack/run/metrics.jsonl" ||
    fail "$attack: no bounded result counted in the metrics"
  grep -q '"polls_refused":0' "bounded_$attack/run/metrics.jsonl" ||
    fail "$attack: the server's refusal counters are not in the metrics"
  awk -v a="$acc" -v c="$clean" 'BEGIN { exit !(a >= c - 0.02) }' ||
    fail "$attack attack: accuracy $acc is more than 2 points below the clean $clean"
done
echo "INFLUENCE E2E OK"
