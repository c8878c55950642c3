#!/usr/bin/env bash
# On the GPU machine: configures (once) the MLIR-free tree with the CUDA
# backend in BUILD and builds TARGET (llmf_bench, fusion-run, ...), logging
# to LOG; on failure prints the log's tail and exits nonzero. The bench
# runners (bench/peers, bench/fp8, bench/pieces) share it.
#   bench/build-gpu-target.sh BUILD TARGET LOG
set -euo pipefail
proj=$(cd "$(dirname "$0")/.." && pwd)
build=$1 target=$2 log=$3
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -G Ninja -S "$proj" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLLM_FUSION_ENABLE_MLIR=OFF \
    -DLLM_FUSION_ENABLE_CUDA=ON -DCMAKE_PREFIX_PATH="$proj/.deps" > "$log" 2>&1 ||
    { tail -30 "$log"; exit 1; }
fi
cmake --build "$build" -j "$(nproc)" --target "$target" >> "$log" 2>&1 ||
  { tail -30 "$log"; exit 1; }
