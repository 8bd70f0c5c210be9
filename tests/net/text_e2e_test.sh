#!/usr/bin/env bash
# Federated LoRA fine-tuning of a transformer spam filter through fedra-server and three
# fedra-client processes on 127.0.0.1, with distributed DP and secure aggregation: a small mail
# corpus is written here (named by MD5 as the SpamAssassin package is), fedra-text-pretrain
# learns a vocabulary and pre-trains a tiny encoder on it, and two rounds fine-tune adapters and
# head. Checks: both rounds aggregated under SecAgg, and only adapters and head travel (the
# server's model and the saved model hold nothing else).
# Usage: text_e2e_test.sh BIN_DIR WORK_DIR
set -euo pipefail
bin=$1
source "$(dirname "$0")/e2e_lib.sh"
e2e_begin "$2"
fail() { e2e_fail "TEXT E2E" "$1" 20 pretrain.log server.log client0.log; }
words_ham=(meeting report schedule kernel patch release notes lunch project review)
words_spam=(free money winner offer click viagra cash prize urgent credit)
write_group() {  # write_group DIR COUNT WORD_ARRAY_NAME
  local dir=corpus/$1 n=$2 i k sum body
  local -n words=$3
  mkdir -p "$dir"
  for ((i = 1; i <= n; i++)); do
    body="Subject: message $i"$'\n\n'
    for ((k = 0; k < 12; k++)); do body+="${words[(i * 7 + k * 3) % 10]} "; done
    printf '%s\n' "$body" > tmp.txt
    sum=$(md5sum tmp.txt | cut -c1-32)
    mv tmp.txt "$dir/$(printf %05d "$i").$sum.txt"
  done
}
write_group easy-ham-1 40 words_ham
write_group spam-1 40 words_spam
"$bin/fedra-text-pretrain" --data-dir corpus --out-dir model --vocab 300 --length 16 --dim 16 \
  --heads 2 --layers 1 --ff-dim 32 --epochs 2 --batch-size 8 > pretrain.log 2>&1 ||
  fail "pre-training failed"
text=(--data spam-assassin --data-dir corpus --model text --encoder model/encoder.safetensors
  --tokenizer model/tokenizer.bpe --tuning lora --lora-rank 2 --lora-embedding-rank 1)
"$bin/fedra-server" --insecure --address 127.0.0.1:0 --port-file port "${text[@]}" --rounds 2 \
  --min-clients 3 --run-dir run --poll-seconds 1 --batch-size 8 --local-steps 3 --local-optimizer adamw \
  --lr 0.005 --max-grad-norm 1 --dp-mode distributed --dp-clip 1 --dp-noise-multiplier 0.5 \
  --dp-delta 1e-5 --secure-sum secagg > server.log 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.1; done
[[ -s port ]] || fail "the server did not start"
for i in 0 1 2; do
  "$bin/fedra-client" --insecure --server "127.0.0.1:$(cat port)" "${text[@]}" \
    --num-partitions 3 --partition-index $i --partition iid --give-up-seconds 30 \
    > "client$i.log" 2>&1 &
  pids+=($!)
done
wait "$server" || fail "server exited with an error"
[[ $(grep -c "secure aggregation summed 3 of 3 clients" server.log) -eq 2 ]] ||
  fail "SecAgg did not sum every round"
[[ $(grep -c '"aggregated":true' run/metrics.jsonl) -eq 2 ]] || fail "a round failed"
# lora rank 2 on in_proj (2x16 + 48x2) and out_proj (2x16 + 16x2), head 16x2 + 2, rank 1 on
# the word table (1x16 + V x 1).
vocab=$(grep -o "vocabulary [0-9]*" pretrain.log | cut -d' ' -f2)
[[ -n $vocab ]] || fail "pre-training did not report its vocabulary"
expected=$((226 + 16 + vocab))
grep -q "($expected parameters)" server.log || fail "the server's model is not adapters + head"
header=$(head -c 4096 run/model.safetensors | tr -c '[:print:]' ' ')
grep -q "lora_A" <<<"$header" || fail "no adapters in the saved model"
grep -q "word_embeddings.lora_B" <<<"$header" || fail "no word-table adapter in the saved model"
! grep -q "word_embeddings.weight\|linear1.weight" <<<"$header" || fail "the frozen base travelled"
echo "TEXT E2E OK: 2 LoRA rounds (3 local steps) with DP + SecAgg over 3 clients, $expected parameters travel"
