#!/usr/bin/env bash
# Whole imported pieces on the GPU: ours fused and unfused against the same
# PyTorch code eager and under torch.compile (pieces_bench.py). Here first:
#   scripts/stage-gpu-inputs.sh && scripts/stage-imported-pieces.sh
# (SIZE=tiny-fp8 QUANT=fp8-block for the FP8 serving form; TOKENS=N), then on
# the GPU machine, carrying .deps and .gpu:
#   bash bench/pieces/run.sh [--no-compile] [--repeat N] [--tokens N]
# (--tokens N: random arguments with N tokens, for pieces staged with
# NO_DATA=1, e.g. SIZE=published).
# Results: $OUT/pieces.{md,json}.
set -euo pipefail
proj=$(pwd)
build=${BUILD_DIR:-/tmp/llmf-pieces}
out=${OUT:-$proj/pieces-out}
mkdir -p "$out"
bash "$proj/bench/build-gpu-target.sh" "$build" fusion-run "$out/build.log"
PYTHONUNBUFFERED=1 python3 "$proj/bench/pieces/pieces_bench.py" \
  --fusion-run "$build/bin/fusion-run" --pieces "$proj/.gpu/imported" --out "$out" "$@"
