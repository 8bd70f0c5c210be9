#!/usr/bin/env bash
# End to end with real processes on 127.0.0.1, TLS with client certificates and tokens:
# fedra-server and three fedra-client processes train an MLP on Fashion-MNIST. A client is
# killed with SIGKILL mid-run (the round completes with the others), then the server is
# killed with SIGKILL and restarted on the same run directory: it resumes after the last
# checkpointed round, the clients reconnect by themselves, and every round 1..N is recorded
# exactly once. Unauthenticated clients are refused.
# Usage: e2e_test.sh BIN_DIR WORK_DIR
set -euo pipefail
bin=$1
work=$2
source "$(dirname "$0")/e2e_lib.sh"
e2e_begin "$work"
fail() { e2e_fail "E2E" "$*" 15 *.log; }
lines() { [[ -f run/metrics.jsonl ]] && wc -l < run/metrics.jsonl || echo 0; }
wait_for_lines() {  # wait_for_lines N TIMEOUT_SECONDS
  for _ in $(seq $(($2 * 10))); do (($(lines) >= $1)) && return 0; sleep 0.1; done
  fail "fewer than $1 rounds after $2 s"
}

"$bin/fedra-keygen" tls --out tls --clients 3 > keygen.log 2>&1 || fail "keygen"
rounds=8
server_args=(--cert tls/server.pem --key tls/server.key --client-ca tls/ca.pem
  --tokens tls/tokens.txt --run-dir run --rounds $rounds --model logreg --data fashion-mnist
  --min-clients 2 --round-deadline 60 --liveness 4 --poll-seconds 1 --epochs 1
  --batch-size 32 --lr 0.05)
"$bin/fedra-server" --address 127.0.0.1:0 --port-file port "${server_args[@]}" > server1.log 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.1; done
[[ -s port ]] || fail "server did not start"
port=$(cat port)
client() {  # client INDEX [extra flags]
  local i=$1 n=$(($1 + 1))
  shift
  exec "$bin/fedra-client" --server "127.0.0.1:$port" --ca tls/ca.pem --cert "tls/client-client-$n.pem" \
    --key "tls/client-client-$n.key" --token-file tls/tokens.txt --name "client-$n" --model logreg \
    --num-partitions 3 --partition-index "$i" --partition dirichlet --alpha 0.5 \
    --give-up-seconds 60 "$@"
}

# Refused: a wrong token, and no client certificate.
echo "client-1 0000000000000000000000000000000000000000000000000000000000000000" > bad-token
if "$bin/fedra-client" --server "127.0.0.1:$port" --ca tls/ca.pem --cert tls/client-client-1.pem \
    --key tls/client-client-1.key --token-file bad-token --name client-1 --data synthetic --model logreg \
    --give-up-seconds 5 > refused1.log 2>&1; then fail "a wrong token was accepted"; fi
grep -q "UNAUTHENTICATED\|unknown token" refused1.log || fail "no clear message for a wrong token"
if "$bin/fedra-client" --server "127.0.0.1:$port" --ca tls/ca.pem --token-file tls/tokens.txt \
    --name client-1 --data synthetic --model logreg --give-up-seconds 3 > refused2.log 2>&1; then
  fail "a client without certificate was accepted"
fi

for i in 0 1 2; do
  client $i > "c$i.log" 2>&1 &
  pids+=($!)
  eval "client_pid_$i=$!"
done

# Kill one client mid-run: later rounds go on with the other two.
wait_for_lines 2 240
kill -9 "$client_pid_2"
# Kill the server mid-run and start it again on the same directory and port.
wait_for_lines 4 240
kill -9 "$server"
wait "$server" 2>/dev/null || true
checkpointed=$(lines)
"$bin/fedra-server" --address "127.0.0.1:$port" "${server_args[@]}" > server2.log 2>&1 &
server=$!
pids+=($server)
wait "$client_pid_0" || fail "client 0 did not finish cleanly"
wait "$client_pid_1" || fail "client 1 did not finish cleanly"
wait "$server" || fail "the restarted server failed"

grep -q "resuming run" server2.log || fail "the server did not resume"
[[ $(lines) -eq $rounds ]] || fail "metrics has $(lines) rounds, expected $rounds"
for r in $(seq $rounds); do
  grep -c "\"round\":$r," run/metrics.jsonl | grep -qx 1 || fail "round $r not recorded exactly once"
done
# The round after the client was killed completed without it.
grep -q '"fit_failures":1' run/metrics.jsonl || fail "no round completed with a failed client"
[[ -s run/model.safetensors && -s run/metrics.svg ]] || fail "final model or plot missing"
grep -q "final test accuracy" server2.log || fail "no final accuracy"
acc=$(sed -n 's/.*final test accuracy \([0-9.]*\).*/\1/p' server2.log)
awk -v a="$acc" 'BEGIN { exit !(a > 0.6) }' || fail "accuracy $acc too low"
echo "E2E OK: resumed after round $checkpointed, final test accuracy $acc"
