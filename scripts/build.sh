#!/usr/bin/env bash
# Configures (once) and builds llm-fusion into ${BUILD_DIR:-build}.
# Extra arguments go to CMake at configure time, e.g. -DLLM_FUSION_ENABLE_MLIR=OFF.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
if [[ ! -f "$build/build.ninja" || $# -gt 0 ]]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} "$@"
fi
# MLIR translation units need about 1.5 GiB each: one job per 2 cores' worth.
cmake --build "$build" -j "${JOBS:-$(nproc)}"
