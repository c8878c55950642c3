#!/usr/bin/env bash
# One command on a GPU machine: build the MLIR-free tree with the CUDA
# kernels, then time every chain (ours fused, ours unfused, PyTorch eager,
# torch.compile) and write bench.json and speedup.png to ${OUT:-.}.
# Needs .deps (scripts/stage-gpu-inputs.sh) where nlohmann-json and Catch2
# are not installed. Extra arguments go to gpu_bench.py (--quick,
# --no-compile, --replays N).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-gpu}
if [[ ! -f "$build/lib/libllmf_bench.so" ]]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DLLM_FUSION_ENABLE_MLIR=OFF -DLLM_FUSION_ENABLE_CUDA=ON \
    -DCMAKE_PREFIX_PATH="$root/.deps" > /dev/null
  cmake --build "$build" -j "$(nproc)" --target llmf_bench > /dev/null
fi
out=${OUT:-.}
mkdir -p "$out"
PYTHONUNBUFFERED=1 python3 "$root/bench/gpu_bench.py" --lib "$build/lib/libllmf_bench.so" \
  --out "$out" "$@"
