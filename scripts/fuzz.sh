#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [TARGET...]: builds the libFuzzer targets (clang, ASan + UBSan, in
# the test command's sanitizer build) and runs each for SECONDS (default 300) on its corpus
# in build/sanitize/fuzz/corpus/<target> (kept between runs), seeded by make_seeds. Targets:
# payload_reader proto_messages safetensors datasets paillier_json secagg_messages checkpoint
# config (default: all). A crash stops the script; the input is in corpus/<target>.crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(payload_reader proto_messages safetensors datasets
  paillier_json secagg_messages checkpoint config)
scripts/install-deps.sh
CC=clang-14 CXX=clang++-14 scripts/build.sh build/sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFEDRA_SANITIZE=ON -DFEDRA_FUZZ=ON -DFEDRA_BUILD_TESTS=ON -DFEDRA_BUILD_BENCH=OFF \
  -DFEDRA_BUILD_APPS=OFF -DFEDRA_BUILD_EXAMPLES=OFF
out=build/sanitize/fuzz
"$out/make_seeds" "$out/seeds"
for t in "${targets[@]}"; do
  echo "== $t for $seconds s" >&2
  fuzz/run_fuzzer.sh "$out/${t}_fuzz" "$out/corpus/$t" "$out/seeds/$t" "$seconds"
  echo "   corpus: $(ls "$out/corpus/$t" | wc -l) inputs" >&2
done
