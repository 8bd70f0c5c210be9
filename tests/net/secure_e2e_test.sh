#!/usr/bin/env bash
# Secure rounds through fedra-server and fedra-client processes on 127.0.0.1:
#  1. SecAgg with 10 clients, one SIGKILLed at each of the four stages: round 1 sums the 7
#     inputs that arrived (the stage-3 victim's included) and rounds 2-3 go on with the 6 others.
#  2. SecAgg below its threshold aborts the round and leaves the global model unchanged.
#  3. Paillier: the server adds ciphertexts and never opens the secret key (inotify watch); the
#     result matches the same run in plaintext. A secret key given to the server, and a
#     strategy that needs individual updates, are refused at start-up.
#  4. SecAgg's result matches the same run in plaintext.
# Usage: secure_e2e_test.sh BIN_DIR WORK_DIR [WATCH_BIN]
#   WATCH_BIN: tests/net/watch_opens (without it the never-opened check is skipped).
set -euo pipefail
bin=$(cd "$1" && pwd)
work=$2
watch_bin=${3:+$(realpath "$3")}
for b in "$bin/fedra-server" "$bin/fedra-client" "$bin/fedra-keygen" $watch_bin; do
  [[ -x $b ]] || { echo "SECURE E2E FAILED: no program $b" >&2; exit 1; }
done
source "$(dirname "$0")/e2e_lib.sh"
e2e_begin "$work"
phase=.
fail() { e2e_fail "SECURE E2E" "$*" 12 "$work/$phase"/*.log; }
# True while PID runs (an exited, not yet reaped child is a zombie: not running).
running() {
  local s
  s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $s != Z* ]]
}
# wait_exit PID SECONDS: waits for PID to end and returns its exit status (124: still running).
wait_exit() {
  for _ in $(seq $(($2 * 10))); do running "$1" || break; sleep 0.1; done
  running "$1" && return 124
  local rc=0
  wait "$1" || rc=$?
  return $rc
}
wait_file() {  # wait_file PATH SECONDS
  for _ in $(seq $(($2 * 10))); do [[ -s $1 ]] && return 0; sleep 0.1; done
  return 1
}

# Small helpers in Python (standard library only): metrics.jsonl checks and model comparison.
cat > tools.py << 'EOF'
import json, struct, sys

def metrics(path, *expected):
    """expected: ROUND:AGGREGATED:FIT_CLIENTS:FIT_FAILURES, one per line of the file, in order;
    a field given as * is not checked."""
    lines = [json.loads(l) for l in open(path) if l.strip()]
    got = ["%d:%s:%d:%d" % (m["round"], str(m["aggregated"]).lower(), m["fit_clients"],
                            m["fit_failures"]) for m in lines]
    def match(g, e):
        return all(y in ("*", x) for x, y in zip(g.split(":"), e.split(":")))
    if len(got) != len(expected) or not all(map(match, got, expected)):
        sys.exit("%s: rounds (round:aggregated:fit_clients:fit_failures) %s, expected %s"
                 % (path, " ".join(got), " ".join(expected)))

def tensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            sys.exit("%s: tensor %s is %s, expected F32" % (path, name, t["dtype"]))
        begin, end = t["data_offsets"]
        out[name] = (t["shape"], struct.unpack("<%df" % ((end - begin) // 4), body[begin:end]))
    return out

def maxdiff(a, b):
    """Prints the largest absolute difference between two models' parameters."""
    ta, tb = tensors(a), tensors(b)
    if sorted(ta) != sorted(tb):
        sys.exit("%s and %s hold other tensors: %s vs %s" % (a, b, sorted(ta), sorted(tb)))
    worst, count = 0.0, 0
    for name in ta:
        (sa, va), (sb, vb) = ta[name], tb[name]
        if sa != sb:
            sys.exit("tensor %s: shape %s vs %s" % (name, sa, sb))
        for x, y in zip(va, vb):
            if x != x or y != y:
                sys.exit("tensor %s holds NaN" % name)
            worst = max(worst, abs(x - y))
        count += len(va)
    if count == 0:
        sys.exit("no parameters in %s" % a)
    print("%.3g" % worst)

globals()[sys.argv[1]](*sys.argv[2:])
EOF
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

common=(--insecure --data none --input-shape 60 --classes 10 --model logreg --poll-seconds 1)
port=
server=
clients=()
# start_server NAME [flags]: a server with run directory NAME and log NAME.log in the phase's
# directory, on $port if set (a restart), else on a free port.
start_server() {
  local name=$1
  shift
  rm -f "$name.port"
  "$bin/fedra-server" --address "127.0.0.1:${port:-0}" --port-file "$name.port" "${common[@]}" \
    --run-dir "$name" "$@" > "$name.log" 2>&1 &
  server=$!
  pids+=("$server")
  wait_file "$name.port" 20 || fail "server $name did not start"
  port=$(cat "$name.port")
}
# start_client LOG INDEX PARTITIONS [flags]
start_client() {
  local log=$1 i=$2 n=$3
  shift 3
  "$bin/fedra-client" --insecure --server "127.0.0.1:$port" --data synthetic --num-partitions "$n" \
    --partition-index "$i" --model logreg --give-up-seconds 20 "$@" > "$log" 2>&1 &
  clients+=("$!")
  pids+=("$!")
}
# finish_run SECONDS: the server exits 0 within SECONDS and then every client exits 0.
finish_run() {
  local rc=0
  wait_exit "$server" "$1" || rc=$?
  ((rc != 124)) || fail "the server did not finish within $1 s"
  ((rc == 0)) || fail "the server exited with status $rc"
  local c
  for c in "${clients[@]}"; do
    rc=0
    wait_exit "$c" 15 || rc=$?
    ((rc == 0)) || fail "client pid $c exited with status $rc after the run"
  done
  clients=()
}
times=()

# ---- 1. SecAgg, a client killed at each stage -------------------------------------------------
# The server waits for --min-clients live clients before EACH round and then trains all of them
# (fraction-fit 1), so to have all 10 in round 1 it runs with --min-clients 10. After round 1
# only 6 are alive: the server waits for 10 in vain, and is killed once round 1 is checkpointed,
# then restarted on the same port and run directory with --min-clients 6: it resumes at round 2
# and the 6 surviving client processes reconnect by themselves.
SECONDS=0
phase=secagg_kill && mkdir -p $phase && cd $phase
p1=(--rounds 3 --liveness 3 --stage-deadline 10 --max-failure-fraction 0.5 --secure-sum secagg
  --seed 7)
start_server run "${p1[@]}" --min-clients 10 --wait-seconds 60
victims=()
for i in $(seq 0 9); do
  if ((i >= 1 && i <= 4)); then
    start_client "client$i.log" "$i" 10 --train-seed $((31 + i)) --kill-at-stage "secagg/$((i - 1))"
    victims+=("$!")
  else
    start_client "client$i.log" "$i" 10 --train-seed $((31 + i))
  fi
done
survivors=("${clients[@]:0:1}" "${clients[@]:5}")
wait_file run/checkpoint.safetensors 60 || fail "round 1 did not complete within 60 s"
running "$server" || fail "the first server exited before it was stopped"
kill -9 "$server"
wait "$server" 2>/dev/null || true
grep -q "round 1: secure aggregation summed 7 of 10 clients" run.log ||
  fail "round 1 did not sum 7 of 10 clients"
# Partition index s+1 (client-(s+2)) dies at stage s, and no other client drops.
for s in 0 1 2 3; do
  grep -q "round 1: secure aggregation stage $s: client [0-9]* dropped: .*client-$((s + 2)) " \
    run.log || fail "client-$((s + 2)) was not dropped at stage $s of round 1"
done
(($(grep -c "secure aggregation stage [0-9]: client [0-9]* dropped" run.log) == 4)) ||
  fail "other clients than the 4 killed ones dropped"
for k in 0 1 2 3; do
  rc=0
  wait_exit "${victims[$k]}" 5 || rc=$?
  ((rc == 137)) || fail "the client killed at secagg/$k ended with status $rc, not SIGKILL"
  grep -q -- "--kill-at-stage secagg/$k: killing this process" "client$((k + 1)).log" ||
    fail "client $((k + 1)) did not die at stage $k"
done
clients=("${survivors[@]}")
mv run.log run-first.log
start_server run "${p1[@]}" --min-clients 6 --wait-seconds 30
finish_run 60
grep -q "resuming run .* after round 1" run.log || fail "the restarted server did not resume"
for r in 2 3; do
  grep -q "round $r: secure aggregation summed 6 of 6 clients" run.log ||
    fail "round $r did not sum the 6 remaining clients"
done
python3 ../tools.py metrics run/metrics.jsonl 1:true:10:3 2:true:6:0 3:true:6:0 ||
  fail "unexpected metrics"
[[ -s run/model.safetensors ]] || fail "no final model"
cd ..
times+=("kill at each stage ${SECONDS}s")

# ---- 2. SecAgg below threshold ---------------------------------------------------------------
# 4 clients (threshold 3), 2 of them killed before sending their masked input: the round must
# abort and leave the model as initialised. The same run aborted at stage 0 instead must leave
# the same model, byte for byte (the initial model of --seed 7).
SECONDS=0
phase=secagg_abort && mkdir -p $phase && cd $phase
for stage in 2 0; do
  port=
  start_server "run$stage" --rounds 1 --min-clients 4 --liveness 3 --stage-deadline 10 \
    --secure-sum secagg --seed 7
  for i in 0 1 2 3; do
    if ((i == 1 || i == 2)); then
      start_client "client$stage-$i.log" "$i" 4 --train-seed $((41 + i)) \
        --kill-at-stage "secagg/$stage"
    else
      start_client "client$stage-$i.log" "$i" 4 --train-seed $((41 + i))
    fi
  done
  victims=("${clients[1]}" "${clients[2]}")
  clients=("${clients[0]}" "${clients[3]}")
  # The server finishes its only round (failed, but the server itself did not) and exits 0.
  finish_run 60
  for v in "${victims[@]}"; do
    rc=0
    wait_exit "$v" 5 || rc=$?
    ((rc == 137)) || fail "a client killed at secagg/$stage ended with status $rc, not SIGKILL"
  done
  # fit_failures unchecked: the round failed as a whole (today it reports 0, not the 2 dropped).
  python3 ../tools.py metrics "run$stage/metrics.jsonl" '1:false:4:*' || fail "unexpected metrics"
  [[ -s run$stage/model.safetensors ]] || fail "no model saved after the aborted round"
done
failed="round 1 failed, global model unchanged: .*secagg round aborted"
why2="$failed: only 2 clients sent masked inputs, 3 needed"
why0="$failed: only 2 clients advertised keys, 3 needed"
grep -q "$why2" run2.log || fail "no abort message for the stage-2 dropouts (expected '$why2')"
grep -q "$why0" run0.log || fail "no abort message for the stage-0 dropouts (expected '$why0')"
cmp -s run2/model.safetensors run0/model.safetensors ||
  fail "the aborted runs saved different models: the global model changed"
cd ..
times+=("below threshold ${SECONDS}s")

# ---- 3. Paillier ---------------------------------------------------------------------------
SECONDS=0
phase=paillier && mkdir -p $phase && cd $phase
mkdir -p keys clientkeys
"$bin/fedra-keygen" paillier --public-out keys/paillier.pub.json \
  --secret-out keys/paillier.key.json > keygen.log 2>&1 || fail "fedra-keygen paillier failed"
[[ $(stat -c %a keys/paillier.key.json) == 600 ]] || fail "the secret key file is not mode 0600"
install -m 600 keys/paillier.key.json clientkeys/paillier.key.json
# watch_opens WATCH_LOG: counts opens of keys/paillier.key.json from now on.
watcher=
start_watch() {
  "$watch_bin" keys/paillier.key.json > "$1" 2> "$1.err" &
  watcher=$!
  pids+=("$watcher")
  for _ in $(seq 100); do grep -qx ready "$1" && return 0; sleep 0.1; done
  fail "the watcher did not start: $(cat "$1.err")"
}
stop_watch() {  # stop_watch WATCH_LOG: sets opens and accesses
  kill -TERM "$watcher"
  local rc=0
  wait_exit "$watcher" 10 || rc=$?
  ((rc == 0)) || fail "the watcher ended with status $rc: $(cat "$1.err")"
  opens=$(sed -n 's/^opens //p' "$1")
  accesses=$(sed -n 's/^accesses //p' "$1")
  [[ -n $opens && -n $accesses ]] || fail "the watcher printed no counts"
}
if [[ -n $watch_bin ]]; then start_watch watch.out; fi
secure=(--secure-sum paillier --paillier-public-key keys/paillier.pub.json)
paillier_run() {  # paillier_run NAME [server flags]: 3 clients, 3 rounds, fixed seeds
  local name=$1
  shift
  port=
  start_server "$name" --rounds 3 --min-clients 3 --seed 7 "$@"
  for i in 0 1 2; do
    start_client "$name-client$i.log" "$i" 3 --train-seed $((11 + i)) \
      --paillier-secret-key clientkeys/paillier.key.json
  done
  finish_run 90
  python3 ../tools.py metrics "$name/metrics.jsonl" 1:true:3:0 2:true:3:0 3:true:3:0 ||
    fail "unexpected metrics in $name"
}
paillier_run encrypted "${secure[@]}"
for r in 1 2 3; do
  grep -q "round $r: client [0-9]* decrypted the total of 3 encrypted updates" encrypted.log ||
    fail "round $r: no client decrypted the total of 3 updates"
done
watched="not watched (no WATCH_BIN)"
if [[ -n $watch_bin ]]; then
  stop_watch watch.out
  [[ $opens == 0 && $accesses == 0 ]] ||
    fail "keys/paillier.key.json was opened $opens and read $accesses times during the run"
  watched="0 opens of the secret key file"
fi
# A secure round cannot bound single results (the server sees only the sum): compare with the
# plaintext run without the influence bound.
paillier_run plaintext --influence-bound off
diff3=$(python3 ../tools.py maxdiff encrypted/model.safetensors plaintext/model.safetensors) ||
  fail "cannot compare the models"
lt "$diff3" 1e-3 || fail "Paillier and plaintext models differ by $diff3"
# Refused at start-up: the secret key as the server's key (this opens the secret key file,
# which the watcher must see: it shows the watch works), and a non-sum strategy.
if [[ -n $watch_bin ]]; then start_watch watch2.out; fi
rc=0
timeout 30 "$bin/fedra-server" --address 127.0.0.1:0 "${common[@]}" --run-dir refused1 \
  --secure-sum paillier --paillier-public-key keys/paillier.key.json > refused1.log 2>&1 || rc=$?
((rc == 1)) || fail "a server given the secret key exited with status $rc, expected 1"
grep -q "holds a Paillier SECRET key" refused1.log || fail "no clear message for a secret key"
if [[ -n $watch_bin ]]; then
  stop_watch watch2.out
  ((opens >= 1)) || fail "the watcher saw no open of the secret key by the refused server"
fi
rc=0
timeout 30 "$bin/fedra-server" --address 127.0.0.1:0 "${common[@]}" --run-dir refused2 \
  --secure-sum secagg --strategy fedmedian > refused2.log 2>&1 || rc=$?
((rc == 1)) || fail "secagg with fedmedian: the server exited with status $rc, expected 1"
grep -q "strategy fedmedian needs every client's update, but --secure-sum secagg only reveals their sum" \
  refused2.log || fail "no clear message for secagg with fedmedian"
cd ..
times+=("paillier ${SECONDS}s")

# ---- 4. SecAgg equals plaintext --------------------------------------------------------------
SECONDS=0
phase=secagg_vs_plain && mkdir -p $phase && cd $phase
secagg_run() {  # secagg_run NAME [server flags]: 4 clients, 3 rounds, fixed seeds
  local name=$1
  shift
  port=
  start_server "$name" --rounds 3 --min-clients 4 --seed 7 "$@"
  for i in 0 1 2 3; do start_client "$name-client$i.log" "$i" 4 --train-seed $((21 + i)); done
  finish_run 90
  python3 ../tools.py metrics "$name/metrics.jsonl" 1:true:4:0 2:true:4:0 3:true:4:0 ||
    fail "unexpected metrics in $name"
}
secagg_run masked --secure-sum secagg
for r in 1 2 3; do
  grep -q "round $r: secure aggregation summed 4 of 4 clients" masked.log ||
    fail "round $r did not sum 4 of 4 clients"
done
secagg_run plaintext --influence-bound off
diff4=$(python3 ../tools.py maxdiff masked/model.safetensors plaintext/model.safetensors) ||
  fail "cannot compare the models"
lt "$diff4" 1e-3 || fail "SecAgg and plaintext models differ by $diff4"
# The model the aborted rounds of phase 2 left (same --seed) is not a trained one.
moved=$(python3 ../tools.py maxdiff ../secagg_abort/run2/model.safetensors plaintext/model.safetensors)
lt 1e-2 "$moved" || fail "training moved the model by only $moved: phase 2 proves nothing"
cd ..
times+=("secagg vs plaintext ${SECONDS}s")

IFS=,
echo "SECURE E2E OK: secagg summed 7 of 10 with a client killed at each stage, then 6 of 6;" \
  "below threshold the round aborted and the model stayed the initial one;" \
  "Paillier decrypted by a client every round, $watched, max diff to plaintext $diff3;" \
  "SecAgg max diff to plaintext $diff4 (${times[*]})"
