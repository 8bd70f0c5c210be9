#!/usr/bin/env bash
# A hierarchy of aggregators with real processes on 127.0.0.1: a root fedra-server whose only
# clients are two edge fedra-servers (--upstream, token-authenticated, listed in the root's
# --aggregators), each serving two fedra-client processes. The root's FedAvg over the edges'
# folded sums must equal FedAvg over the same four clients connected to the root directly
# (the flat run), to float tolerance, after 3 rounds. An edge SIGKILLed after its first round
# is one failed client at the root, whose next round goes on with the other edge's clients.
# Central DP across tiers (seeded noise) equals central DP over the four clients directly,
# epsilon included. A root with aggregators but no authentication, and an edge with its own
# --dp-mode, are refused; SIGINT ends an edge.
# Usage: hierarchy_e2e_test.sh BIN_DIR WORK_DIR
set -euo pipefail
declare -A edge_pid
bin=$1
work=$2
source "$(dirname "$0")/e2e_lib.sh"
e2e_begin "$work"
fail() { e2e_fail "HIERARCHY E2E" "$*" 12 */*.log; }
rounds=3
training=(--model logreg --data fashion-mnist --epochs 1 --batch-size 32 --lr 0.05
  --fraction-evaluate 0 --influence-bound off --poll-seconds 1 --wait-seconds 60)
common=(--rounds $rounds "${training[@]}")

wait_port() {  # FILE: waits for a server's port file and prints the port
  for _ in $(seq 200); do [[ -s $1 ]] && break; sleep 0.1; done
  [[ -s $1 ]] || fail "no server wrote $1"
  cat "$1"
}
client() {  # PORT INDEX LOG
  "$bin/fedra-client" --insecure --server "127.0.0.1:$1" --name "client-$2" --model logreg \
    --num-partitions 4 --partition-index "$2" --partition iid --train-seed $(($2 + 1)) \
    --give-up-seconds 60 >"$3" 2>&1 &
  pids+=($!)
}

edge_extra=() # more flags for the edges
per_edge=2    # clients each edge asks per round
edges_and_clients() {  # DIR ROOT_PORT: edge-a (clients 0, 1) and edge-b (clients 2, 3)
  local e
  for e in a b; do
    "$bin/fedra-server" --insecure --address 127.0.0.1:0 --port-file "$1/edge-$e.port" \
      --run-dir "$1/edge-$e" --min-clients 2 --model logreg --data none --input-shape 1 28 28 \
      --influence-bound off --poll-seconds 1 --upstream "127.0.0.1:$2" --upstream-insecure \
      --upstream-name "edge-$e" --upstream-token-file tokens.txt \
      ${edge_extra[@]+"${edge_extra[@]}"} >"$1/edge-$e.log" 2>&1 &
    pids+=($!)
    edge_pid[$e]=$!
  done
  client "$(wait_port "$1/edge-a.port")" 0 "$1/c0.log"
  client "$(wait_port "$1/edge-a.port")" 1 "$1/c1.log"
  client "$(wait_port "$1/edge-b.port")" 2 "$1/c2.log"
  client "$(wait_port "$1/edge-b.port")" 3 "$1/c3.log"
}

flat_run() {  # DIR EXTRA_ROOT_FLAGS...: the four clients on the root directly
  local dir=$1 root port i
  shift
  mkdir "$dir"
  "$bin/fedra-server" --insecure --address 127.0.0.1:0 --port-file "$dir/port" \
    --run-dir "$dir/run" --min-clients 4 "${common[@]}" "$@" >"$dir/server.log" 2>&1 &
  root=$!
  pids+=($root)
  port=$(wait_port "$dir/port")
  for i in 0 1 2 3; do client "$port" $i "$dir/c$i.log"; done
  wait $root || fail "the flat root of $dir failed"
}
tiers_run() {  # DIR EXTRA_ROOT_FLAGS...: root <- edge-a (clients 0, 1), edge-b (clients 2, 3)
  local dir=$1 root port
  shift
  mkdir "$dir"
  "$bin/fedra-server" --insecure --tokens tokens.txt --aggregators edge-a,edge-b \
    --address 127.0.0.1:0 --port-file "$dir/port" --run-dir "$dir/run" --min-clients 2 \
    "${common[@]}" "$@" >"$dir/root.log" 2>&1 &
  root=$!
  pids+=($root)
  port=$(wait_port "$dir/port")
  edges_and_clients "$dir" "$port"
  wait $root || fail "the two-tier root of $dir failed"
  grep -q "edge round $rounds  clients $per_edge (0 failed)" "$dir/edge-a.log" ||
    fail "edge-a ran no rounds"
  grep -q "round   $rounds/$rounds  clients 2 (0 failed)  \[at the edges $((2 * per_edge)) (0 failed)\]" \
    "$dir/root.log" || fail "root rounds"
}
same_model() {  # FLAT_DIR TIERS_DIR: the two final models agree to float tolerance
  /usr/bin/python3 - "$1/run/model.safetensors" "$2/run/model.safetensors" <<'PY' ||
import json, struct, sys
import numpy as np
def load(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    return {k: np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
                             dtype=np.float32) for k, v in head.items() if k != "__metadata__"}
flat, tiers = load(sys.argv[1]), load(sys.argv[2])
assert flat.keys() == tiers.keys()
worst = max(float(np.max(np.abs(flat[k] - tiers[k]))) for k in flat)
scale = max(float(np.max(np.abs(flat[k]))) for k in flat)
print(f"{sys.argv[1]} vs {sys.argv[2]}: max abs difference {worst:.3g} (largest weight {scale:.3g})")
sys.exit(0 if worst <= 1e-5 * max(1.0, scale) else 1)
PY
    fail "the models of $1 and $2 differ"
  local flat_acc tier_acc
  flat_acc=$(sed -n 's/.*final test accuracy \([0-9.]*\).*/\1/p' "$1/server.log")
  tier_acc=$(sed -n 's/.*final test accuracy \([0-9.]*\).*/\1/p' "$2/root.log")
  echo "test accuracy flat $flat_acc, two tiers $tier_acc"
  [[ -n $flat_acc && $flat_acc == "$tier_acc" ]] || fail "accuracy differs: $flat_acc vs $tier_acc"
}

printf 'edge-a %s\nedge-b %s\n' "$(openssl rand -hex 16)" "$(openssl rand -hex 16)" >tokens.txt
flat_run flat
tiers_run tiers
same_model flat tiers
grep -q '"edge_clients":4' tiers/run/metrics.jsonl || fail "the root's metrics miss the edges' clients"

# Central DP across tiers: the root sends the edges C; they clip each client and weigh it 1;
# the root adds the noise (seeded here, so the flat run draws the same) to the sum and
# divides by the 4 clients the edges planned, not by 2 edges, and accounts at q = 4 / 4.
dp=(--dp-mode central --dp-clip 0.05 --dp-noise-multiplier 0.5 --dp-seed 11)
flat_run flat-dp "${dp[@]}"
tiers_run tiers-dp "${dp[@]}"
same_model flat-dp tiers-dp
eps() { tail -1 "$1/run/metrics.jsonl" | sed 's/.*"dp_epsilon":\([0-9.e+-]*\).*/\1/'; }
echo "DP across tiers: epsilon flat $(eps flat-dp), two tiers $(eps tiers-dp)"
[[ -n $(eps flat-dp) && $(eps flat-dp) == "$(eps tiers-dp)" ]] || fail "epsilon differs"
# The edges sample: each asks 1 of its 2 clients. Every edge answered, so the root accounts at
# the largest share an edge asked, 1/2, as a flat root asking 2 of its 4 clients does.
flat_run flat-dp-half "${dp[@]}" --fraction-fit 0.5
edge_extra=(--fraction-fit 0.5)
per_edge=1
tiers_run tiers-dp-half "${dp[@]}"
edge_extra=()
per_edge=2
echo "DP across sampling edges: epsilon flat $(eps flat-dp-half), two tiers $(eps tiers-dp-half)"
[[ -n $(eps flat-dp-half) && $(eps flat-dp-half) == "$(eps tiers-dp-half)" ]] ||
  fail "epsilon differs when the edges sample"
awk -v a="$(eps flat-dp-half)" -v b="$(eps flat-dp)" 'BEGIN { exit !(a < b) }' ||
  fail "sampling half the clients did not lower epsilon"

# An edge dies: after round 1, edge-b is SIGKILLed. The root's round 2 counts it as one failed
# client (its task fails when its heartbeats stop), and with one of two failed (the tolerated
# fraction) it aggregates edge-a's clients alone.
mkdir fault
"$bin/fedra-server" --insecure --tokens tokens.txt --aggregators edge-a,edge-b \
  --address 127.0.0.1:0 --port-file fault/port --run-dir fault/run --min-clients 2 \
  --liveness 3 --max-failure-fraction 0.5 --rounds 2 "${training[@]}" >fault/root.log 2>&1 &
root=$!
pids+=($root)
port=$(wait_port fault/port)
edges_and_clients fault "$port"
for _ in $(seq 600); do grep -q "edge round 1 " fault/edge-b.log && break; sleep 0.1; done
grep -q "edge round 1 " fault/edge-b.log || fail "edge-b finished no round"
kill -9 "${edge_pid[b]}"
wait $root || fail "the root did not survive an edge's death"
grep -q "round   2/2  clients 2 (1 failed)" fault/root.log || fail "the dead edge was not one failure"
grep -q "final test accuracy" fault/root.log || fail "no final model after the edge died"
echo "an edge SIGKILLed mid-run: $(grep -m1 "round   2/2" fault/root.log)"

# Refusals at start-up: aggregators without authentication.
if "$bin/fedra-server" --insecure --aggregators edge-a --model logreg --data none \
  --input-shape 1 28 28 >refused.log 2>&1; then
  fail "a root with aggregators but no authentication started"
fi
grep -q "aggregators need authenticated identities" refused.log || fail "no reason given"
if "$bin/fedra-server" --insecure --address 127.0.0.1:0 --model logreg --data none \
  --input-shape 1 28 28 --upstream 127.0.0.1:1 --upstream-insecure --upstream-name edge-a \
  --dp-mode central >refused_dp.log 2>&1; then
  fail "an edge with its own --dp-mode started"
fi
grep -q "DP across tiers is set at the root" refused_dp.log || fail "no reason given for DP"
# Ctrl-C on an edge (here one whose upper server is not there) ends it, as on a root.
"$bin/fedra-server" --insecure --address 127.0.0.1:0 --port-file sigint.port --min-clients 1 \
  --model logreg --data none --input-shape 1 28 28 --upstream 127.0.0.1:1 --upstream-insecure \
  --upstream-name edge-a >sigint.log 2>&1 &
edge=$!
pids+=($edge)
wait_port sigint.port >/dev/null
kill -INT $edge
for _ in $(seq 100); do kill -0 $edge 2>/dev/null || break; sleep 0.1; done
if kill -0 $edge 2>/dev/null; then fail "an edge ignored SIGINT"; fi
grep -q "stopped by a signal" sigint.log || fail "the edge did not say why it stopped"
echo "HIERARCHY E2E OK"
