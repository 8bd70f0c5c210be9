# Sourced by the text bench scripts (bench/spam_federated.sh, bench/text_federated.sh), which
# set $bin (the programs) and $out (where logs go) first.

# The corpus (scripts/fetch_spam_assassin.sh) and the pre-trained encoder + tokenizer in
# data/text (fedra-text-pretrain, 30 MLM epochs; skipped when present, log in $out).
prepare_text_encoder() {
  scripts/fetch_spam_assassin.sh >&2
  if [[ ! -f data/text/encoder.safetensors ]]; then
    "$bin/fedra-text-pretrain" --epochs 30 --lr 1e-3 --threads 2 --out-dir data/text \
      | tee "$out/pretrain.log"
  fi
}

# `run NAME COMMAND...` runs COMMAND with its output shown and kept in $out/NAME.log, followed
# by "done in N s"; a job whose log already says "done" is skipped, and RUNS="a b" limits the
# jobs to those names.
run() {
  local name=$1; shift
  if [[ -f $out/$name.log ]] && grep -q '^done' "$out/$name.log"; then
    echo "== $name: done" >&2
    return
  fi
  [[ -n ${RUNS:-} && " $RUNS " != *" $name "* ]] && return
  echo "== $name" >&2
  local start=$SECONDS
  "$@" 2>&1 | tee "$out/$name.log"
  echo "done in $((SECONDS - start)) s" | tee -a "$out/$name.log"
}
