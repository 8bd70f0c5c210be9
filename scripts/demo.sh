#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs a real federated training on
# Fashion-MNIST over gRPC on 127.0.0.1 — one fedra-server and 5 fedra-client processes, each
# client holding a Dirichlet(0.5) label-skewed share of the training set, TLS with client
# certificates and tokens (made by fedra-keygen), the LeNet-style CNN, FedAvg, 20 rounds of one
# local epoch. The server prints one line per round (test accuracy on the held-out test set)
# and the final accuracy, and leaves out/run/metrics.jsonl, out/run/metrics.svg and
# out/run/model.safetensors; client logs go to out/logs/.
# Environment: CLIENTS (5), ROUNDS (20), MODEL (cnn), SECURE (none; secagg: secure aggregation,
# paillier: Paillier-encrypted updates with keys from fedra-keygen, the secret key only in the
# clients' directory). Extra arguments go to fedra-server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release -DFEDRA_BUILD_TESTS=OFF -DFEDRA_BUILD_BENCH=OFF
bin=build/release/src/apps
clients=${CLIENTS:-5}
rounds=${ROUNDS:-20}
model=${MODEL:-cnn}
secure=${SECURE:-none}
rm -rf out/run out/logs out/tls out/port out/paillier
mkdir -p out/logs
"$bin/fedra-keygen" tls --out out/tls --clients "$clients" > out/logs/keygen.log
server_secure=() client_secure=()
case $secure in
  none) ;;
  secagg) server_secure=(--secure-sum secagg) ;;
  paillier)
    mkdir -p out/paillier/server out/paillier/clients
    "$bin/fedra-keygen" paillier --public-out out/paillier/server/paillier.pub.json \
      --secret-out out/paillier/clients/paillier.key.json >> out/logs/keygen.log
    server_secure=(--secure-sum paillier --paillier-public-key out/paillier/server/paillier.pub.json)
    client_secure=(--paillier-secret-key out/paillier/clients/paillier.key.json) ;;
  *) echo "demo: SECURE must be none, secagg or paillier" >&2; exit 2 ;;
esac
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
"$bin/fedra-server" --address 127.0.0.1:0 --port-file out/port --run-dir out/run \
  --cert out/tls/server.pem --key out/tls/server.key --client-ca out/tls/ca.pem \
  --tokens out/tls/tokens.txt --model "$model" --min-clients "$clients" --rounds "$rounds" \
  --strategy fedavg --epochs 1 --batch-size 64 --lr 0.01 --momentum 0.9 \
  ${server_secure[@]+"${server_secure[@]}"} "$@" &
server=$!
pids+=("$server")
for _ in $(seq 300); do [[ -s out/port ]] && break; sleep 0.1; done
[[ -s out/port ]] || { echo "demo: the server did not start" >&2; exit 1; }
port=$(cat out/port)
for i in $(seq 0 $((clients - 1))); do
  n=$((i + 1))
  "$bin/fedra-client" --server "127.0.0.1:$port" --ca out/tls/ca.pem \
    --cert "out/tls/client-client-$n.pem" --key "out/tls/client-client-$n.key" \
    --token-file out/tls/tokens.txt --name "client-$n" --model "$model" \
    --num-partitions "$clients" --partition-index "$i" --partition dirichlet --alpha 0.5 \
    --threads 1 \
    ${client_secure[@]+"${client_secure[@]}"} > "out/logs/client-$n.log" 2>&1 &
  pids+=("$!")
done
wait "$server"
echo "demo: metrics out/run/metrics.jsonl, plot out/run/metrics.svg, model out/run/model.safetensors"
