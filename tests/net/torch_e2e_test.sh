#!/usr/bin/env bash
# A TorchScript model exported from PyTorch (examples/torch/export_mlp.py: the layout of
# fedra's `mlp`) trains federatedly on Fashion-MNIST between fedra-client processes on
# 127.0.0.1: two clients train it in libtorch through the TorchScript trainer plugin, a third
# trains fedra's own `mlp`, one fedra-server averages them all. A module of another shape is
# refused by the client with the names that differ.
# Usage: torch_e2e_test.sh BIN_DIR TORCH_PLUGIN.so EXPORT_SCRIPT WORK_DIR
set -euo pipefail
bin=$1
plugin=$2
export_script=$3
source "$(dirname "$0")/e2e_lib.sh"
e2e_begin "$4"
fail() { e2e_fail "TORCH E2E" "$1" 20 server.log client0.log client2.log client3.log; }

/usr/bin/python3 "$export_script" mlp.pt > export.log 2>&1 || fail "export failed"
/usr/bin/python3 "$export_script" small.pt --hidden 100,200 > /dev/null 2>&1 || fail "export failed"
"$bin/fedra-server" --insecure --address 127.0.0.1:0 --port-file port --model mlp \
  --rounds 2 --min-clients 4 --epochs 1 --lr 0.05 --momentum 0.9 --batch-size 64 \
  --run-dir run --poll-seconds 1 > server.log 2>&1 &
pids+=($!)
server=$!
for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.1; done
[[ -s port ]] || fail "server did not start"
client() {  # client INDEX EXTRA_ARGS...
  local i=$1
  shift
  "$bin/fedra-client" --insecure --server "127.0.0.1:$(cat port)" --model mlp \
    --num-partitions 4 --partition-index "$i" --give-up-seconds 30 "$@" > "client$i.log" 2>&1 &
  pids+=($!)
}
client 0 --trainer-plugin "$plugin" --plugin-args mlp.pt
client 1 --trainer-plugin "$plugin" --plugin-args mlp.pt
client 2
client 3 --trainer-plugin "$plugin" --plugin-args small.pt
wait "$server" || fail "server exited with an error"
grep -q "training with torchscript" client0.log || fail "client 0 did not train in libtorch"
grep -q "1.weight is {200, 784} on the server, {100, 784} in the module" client3.log ||
  fail "the mismatched module was not refused by name"
[[ $(grep -c '"aggregated":true' run/metrics.jsonl) -eq 2 ]] || fail "rounds failed"
acc=$(tail -1 run/metrics.jsonl | sed 's/.*"server_eval_accuracy":\([0-9.e+-]*\).*/\1/')
awk -v a="$acc" 'BEGIN { exit !(a > 0.75) }' || fail "test accuracy $acc after 2 rounds"
echo "TORCH E2E OK (test accuracy $acc)"
