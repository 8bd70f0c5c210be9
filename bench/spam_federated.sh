#!/usr/bin/env bash
# Issue #16's results: federated fine-tuning of the pre-trained text encoder on SpamAssassin,
# LoRA against full fine-tuning, split by mail group (5 clients, one label each) and
# Dirichlet(0.5) over 20 clients, beside the centralized baselines of the same split:
#
#   nice -n 19 bench/spam_federated.sh [build/release]
#
# Writes docs/results/spam/: bow_baseline.json ({"accuracy", "spam_f1"} of softmax regression
# on hashed token counts), central_{full,lora}.log, <by-group|dir0.5>_<lora|full>.jsonl (the
# fedra-sim metrics, server_eval_accuracy every 10th round) with their logs, and curves.svg.
# The recipe (docs/text.md): FedSGD, i.e. one local step of plain SGD at lr 1, so the weighted
# average of the updates is the gradient of a batch of 32 per client, stepped by the server's
# Adam (FedAdam); --lr-decay cosine scales the clients' rate, hence those gradients, down over
# the rounds, which the server's Adam follows with a lag (its second moment averages ~100
# rounds). A finished run (its log says "done") is skipped; RUNS= limits the list (e.g.
# RUNS="by-group_lora").
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
bin=$build/src/apps
out=docs/results/spam
mkdir -p "$out"
source bench/text_runs.sh
prepare_text_encoder
train=("$bin/fedra-train" --data spam-assassin --threads 2 --batch-size 32)
fine=(--optimizer adamw --weight-decay 0.01 --max-grad-norm 1 --warmup-fraction 0.1)
# LoRA: rank 8 on the attention and feed-forward projections, rank 4 on the word embeddings
# (32,770 trained parameters with the head, 9 % of the model).
lora=(--tuning lora --lora-feed-forward --lora-embedding-rank 4)
run central_bow "${train[@]}" --model logreg --optimizer adamw --lr 0.01 --epochs 10
run central_full "${train[@]}" --model text --tuning full "${fine[@]}" --lr 5e-4 --epochs 3
run central_lora "${train[@]}" --model text "${lora[@]}" "${fine[@]}" --lr 5e-3 --epochs 3
# The last epoch's line of the baseline: "... test loss L acc A  spam F1 F ...".
awk '/^epoch/ { for (i = 1; i < NF; ++i) { if ($i == "acc") a = $(i + 1); if ($i == "F1") f = $(i + 1) } }
     END { printf "{\"accuracy\": %s, \"spam_f1\": %s}\n", a, f }' "$out/central_bow.log" \
  >"$out/bow_baseline.json"
sim=("$bin/fedra-sim" --data spam-assassin --model text --threads 2 --batch-size 32
  --local-optimizer sgd --lr 1 --momentum 0 --local-steps 1 --strategy fedadam --tau 1e-4
  --lr-decay cosine --evaluate-every 10)
by_group=(--partition group --clients 5 --rounds 300)
dirichlet=(--partition dirichlet --alpha 0.5 --clients 20 --rounds 150)
run by-group_lora "${sim[@]}" "${lora[@]}" --eta 0.005 "${by_group[@]}" \
  --metrics-out "$out/by-group_lora.jsonl"
run dir0.5_lora "${sim[@]}" "${lora[@]}" --eta 0.005 "${dirichlet[@]}" \
  --metrics-out "$out/dir0.5_lora.jsonl"
run by-group_full "${sim[@]}" --tuning full --eta 0.0005 "${by_group[@]}" \
  --metrics-out "$out/by-group_full.jsonl"
run dir0.5_full "${sim[@]}" --tuning full --eta 0.0005 "${dirichlet[@]}" \
  --metrics-out "$out/dir0.5_full.jsonl"
"$build/bench/compare_runs" "$out/curves.svg" \
  "LoRA by group=$out/by-group_lora.jsonl" "LoRA Dir(0.5)=$out/dir0.5_lora.jsonl" \
  "full by group=$out/by-group_full.jsonl" "full Dir(0.5)=$out/dir0.5_full.jsonl"
