#!/usr/bin/env bash
# The test suite: installs what is missing, checks formatting, builds and runs every test
# (release build), installs fedra and builds an outside project against it with
# find_package(fedra), then builds and runs the tests again under ASan + UBSan (clang), with
# a short run of every libFuzzer target.
# FEDRA_SKIP_SANITIZE=1 skips the last step (for a quick local run).
# Every build option is passed each time (scripts/demo.sh configures the same build/release
# without tests), and a pass that runs no test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
scripts/install-deps.sh

echo "== clang-format" >&2
git ls-files '*.h' '*.cc' | xargs clang-format --dry-run --Werror

echo "== release build and tests" >&2
# run_ctest DIR: every test of DIR; fails when a test fails or none is registered.
run_ctest() {
  local dir=$1 count
  count=$(ctest --test-dir "$dir" -N | sed -n 's/^Total Tests: //p')
  if [[ -z $count || $count -eq 0 ]]; then
    echo "no test is registered in $dir: the test build is misconfigured" >&2
    return 1
  fi
  echo "== running $count tests in $dir" >&2
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$jobs"
}

scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release -DFEDRA_BUILD_TESTS=ON \
  -DFEDRA_BUILD_BENCH=ON -DFEDRA_BUILD_APPS=ON -DFEDRA_BUILD_EXAMPLES=ON -DFEDRA_SANITIZE=OFF
run_ctest build/release

echo "== install and find_package(fedra) from an outside project" >&2
rm -rf build/stage build/consumer
cmake --install build/release --prefix "$PWD/build/stage" >/dev/null
cmake -S examples/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$PWD/build/stage" >/dev/null
cmake --build build/consumer
build/consumer/fedra_consumer
GRPC_VERBOSITY=NONE build/consumer/fedra_embedded_federation
if [[ -n $(find build/stage -name fedraTorchTargets.cmake) ]]; then  # built with libtorch
  /usr/bin/python3 examples/torch/export_mlp.py build/consumer/tiny.pt --input 4 --hidden 8 \
    --classes 2 >/dev/null
  build/consumer/fedra_torch_consumer build/consumer/tiny.pt
fi

if [[ ${FEDRA_SKIP_SANITIZE:-0} != 1 ]]; then
  echo "== ASan + UBSan build (clang), tests and fuzz targets" >&2
  # clang, so the same build also holds the libFuzzer targets (fuzz/): each fuzz.* test runs
  # one for FEDRA_FUZZ_SECONDS under ASan + UBSan; scripts/fuzz.sh runs them for longer.
  CC=clang-14 CXX=clang++-14 scripts/build.sh build/sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFEDRA_SANITIZE=ON -DFEDRA_FUZZ=ON -DFEDRA_FUZZ_SECONDS=3 -DFEDRA_BUILD_TESTS=ON \
    -DFEDRA_BUILD_BENCH=OFF -DFEDRA_BUILD_APPS=OFF -DFEDRA_BUILD_EXAMPLES=OFF -DFEDRA_WITH_TORCH=OFF \
    -DFEDRA_WITH_MPI=OFF
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build/sanitize
fi
echo "== all tests passed" >&2
