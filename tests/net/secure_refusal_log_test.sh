#!/usr/bin/env bash
# A secure round's refusals reveal no client value (issue #17.3). The server picks the
# ranges a client must fit, so a curious server could set them tight and read the refused
# values in its own log: with --secagg-clip 5 every client's example count is out of range,
# with --paillier-max-abs 1e-6 every update is. The rounds fail (model unchanged); the server's
# log and metrics must say which flag to raise and hold no client's example count or values.
# Usage: secure_refusal_log_test.sh BIN_DIR WORK_DIR
set -euo pipefail
bin=$1
work=$2
source "$(dirname "$0")/e2e_lib.sh"
e2e_begin "$work"
fail() { e2e_fail "SECURE REFUSAL LOG" "$*" 8 *.log; }
"$bin/fedra-keygen" paillier --public-out pub.json --secret-out key.json > keygen.log 2>&1 ||
  fail "keygen"

# run NAME [server flags]: 3 clients, 1 round; the round must fail.
run() {
  local name=$1
  shift
  "$bin/fedra-server" --insecure --address 127.0.0.1:0 --port-file "$name.port" --data none \
    --input-shape 60 --classes 10 --model logreg --rounds 1 --min-clients 3 --poll-seconds 1 \
    --run-dir "$name" --round-deadline 30 "$@" > "$name.log" 2>&1 &
  local server=$!
  pids+=("$server")
  for _ in $(seq 100); do [[ -s $name.port ]] && break; sleep 0.1; done
  [[ -s $name.port ]] || fail "$name: server did not start"
  for i in 0 1 2; do
    "$bin/fedra-client" --insecure --server "127.0.0.1:$(cat "$name.port")" --data synthetic \
      --num-partitions 3 --partition-index $i --model logreg --give-up-seconds 20 \
      --paillier-secret-key key.json > "$name-c$i.log" 2>&1 &
    pids+=($!)
  done
  wait "$server" || fail "$name: server exited with an error"
  grep -q '"aggregated":false' "$name/metrics.jsonl" || fail "$name: the round aggregated"
}
# The example counts the clients report ("... N training ... examples" in their logs).
counts() { sed -n 's/.*: \([0-9][0-9]*\) training.*/\1/p' "$1"-c*.log | sort -u; }

run secagg --secure-sum secagg --secagg-clip 5
grep -q -- "--secagg-clip" secagg.log || fail "secagg: the server log does not name the flag"
n=0
for c in $(counts secagg); do
  n=$((n + 1))
  if grep -qw "$c" secagg.log secagg/metrics.jsonl; then
    fail "secagg: a client's example count ($c) is in the server's log or metrics"
  fi
done
((n > 0)) || fail "secagg: no client example count found in the client logs"

run paillier --secure-sum paillier --paillier-public-key pub.json --paillier-max-abs 0.000001
grep -q -- "--paillier-max-abs" paillier.log || fail "paillier: the server log does not name the flag"
grep -q "update value #\|value #[0-9]* =" paillier.log && fail "paillier: a client value is in the log"
echo "SECURE REFUSAL LOG OK ($n example counts checked)"
