#!/usr/bin/env bash
# On the GPU machine, from the project's checkout root, with this folder's
# fetched sources (bench/peers/prepare.sh, run here) and .deps/
# (scripts/stage-gpu-inputs.sh) carried:
#   bash bench/peers/run.sh [peers_bench.py options, e.g. --no-compile --only qk]
# Builds the project's MLIR-free bench library (as bench/run-gpu-bench.sh does)
# and libpeers.so (FlashInfer's JIT flags) side by side, then times ours, the
# peers and torch.compile in one process. Results: $OUT/peers.{md,json,log}.
set -euo pipefail
proj=$(pwd)
peers=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-/tmp/llmf-peers/proj-gpu}
pbuild=/tmp/llmf-peers/peers
out=${OUT:-$proj/peers-out}
mkdir -p "$out" "$pbuild"
t0=$(date +%s)
(OUT_DIR=$pbuild OBJ_DIR=$pbuild/obj bash "$peers/build.sh" > "$out/build-peers.log" 2>&1) &
ppid=$!
bash "$proj/bench/build-gpu-target.sh" "$build" llmf_bench "$out/build-proj.log"
wait "$ppid" || { tail -30 "$out/build-peers.log"; exit 1; }
echo "builds done in $(( $(date +%s) - t0 )) s"
PYTHONUNBUFFERED=1 python3 "$peers/peers_bench.py" --lib "$build/lib/libllmf_bench.so" \
  --peers "$pbuild/libpeers.so" --triton-dir "$peers" --project "$proj" --out "$out" "$@" 2>&1 |
  tee "$out/peers.log"
echo "total $(( $(date +%s) - t0 )) s"
