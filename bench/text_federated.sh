#!/usr/bin/env bash
# Federated fine-tuning of a pre-trained transformer on the SpamAssassin corpus, with its
# centralized baselines, one run after another (issue #16; results in docs/benchmarks.md):
#
#   nice -n 19 bench/text_federated.sh [build/release/src/apps]
#
# 1. the corpus (scripts/fetch_spam_assassin.sh) and the pre-trained encoder + tokenizer in
#    data/text (fedra-text-pretrain, 30 MLM epochs; skipped when present);
# 2. centralized: softmax regression on hashed token counts, full fine-tuning and LoRA;
# 3. federated (fedra-sim, FedAvg, 20 rounds of one local epoch): LoRA over a Dirichlet(0.5)
#    split of 20 clients and by mail group (5 clients, one label each); full fine-tuning over
#    the Dirichlet split.
# Logs and per-round metrics land in docs/results/text/; a run whose log says "done" is skipped
# (RUNS= limits the list, e.g. RUNS="fed_lora_group5").
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/src/apps}
out=docs/results/text
mkdir -p "$out"
source bench/text_runs.sh
prepare_text_encoder
train=("$bin/fedra-train" --data spam-assassin --threads 2 --batch-size 32)
fine=(--optimizer adamw --weight-decay 0.01 --max-grad-norm 1 --warmup-fraction 0.1)
# Local SGD with momentum: local AdamW (moments restarted every round, steps of size lr in every
# coordinate) drove the label-skewed clients apart in 3-round trials (docs/text.md).
sim=("$bin/fedra-sim" --data spam-assassin --model text --threads 2 --batch-size 32
  --local-optimizer sgd --momentum 0.9 --max-grad-norm 1 --epochs 1 --rounds 20)
run central_bow "${train[@]}" --model logreg --optimizer adamw --lr 0.01 --epochs 10
run central_full "${train[@]}" --model text --tuning full "${fine[@]}" --lr 5e-4 --epochs 3
run central_lora "${train[@]}" --model text --tuning lora --lora-feed-forward "${fine[@]}" --lr 5e-3 \
  --epochs 3
run fed_lora_dir20 "${sim[@]}" --tuning lora --lora-feed-forward --lr 0.02 \
  --partition dirichlet --alpha 0.5 --clients 20 --metrics-out "$out/fed_lora_dir20.jsonl"
run fed_lora_group5 "${sim[@]}" --tuning lora --lora-feed-forward --lr 0.02 --partition group \
  --clients 5 --metrics-out "$out/fed_lora_group5.jsonl"
run fed_full_dir20 "${sim[@]}" --tuning full --lr 0.02 --partition dirichlet --alpha 0.5 \
  --clients 20 --metrics-out "$out/fed_full_dir20.jsonl"
# The same with the local learning rate decaying over the rounds (cosine): the constant rate
# oscillates between rounds.
run fed_lora_dir20_cos "${sim[@]}" --tuning lora --lora-feed-forward --lr 0.02 --lr-decay cosine \
  --partition dirichlet --alpha 0.5 --clients 20 --metrics-out "$out/fed_lora_dir20_cos.jsonl"
run fed_lora_group5_cos "${sim[@]}" --tuning lora --lora-feed-forward --lr 0.02 --lr-decay cosine \
  --partition group --clients 5 --metrics-out "$out/fed_lora_group5_cos.jsonl"
run fed_full_dir20_cos "${sim[@]}" --tuning full --lr 0.02 --lr-decay cosine --partition dirichlet \
  --alpha 0.5 --clients 20 --metrics-out "$out/fed_full_dir20_cos.jsonl"
