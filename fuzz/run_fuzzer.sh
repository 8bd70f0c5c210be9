#!/usr/bin/env bash
# run_fuzzer.sh FUZZER CORPUS_DIR SEED_DIR SECONDS: runs a libFuzzer target for SECONDS on its
# corpus (new inputs are kept there) plus the seeds, and fails on any crash, leak, sanitizer
# report or timeout; prints the run's executions and coverage.
set -euo pipefail
fuzzer=$1 corpus=$2 seeds=$3 seconds=$4
mkdir -p "$corpus" "$corpus.crashes"
[[ -d $seeds && -n $(ls -A "$seeds") ]] || { echo "no seeds in $seeds" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$corpus.crashes/" "$corpus" "$seeds" > "$log" 2>&1; then
  tail -60 "$log" >&2
  echo "FUZZ FAILED: $(basename "$fuzzer"); the input is in $corpus.crashes/" >&2
  exit 1
fi
grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: " "$log" | tail -3
echo "FUZZ OK: $(basename "$fuzzer")"
