#!/usr/bin/env bash
# scripts/build.sh DIR [cmake options...]: configure (once) and build fedra into DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1; shift
cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
cmake --build "$dir"
