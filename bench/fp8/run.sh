#!/usr/bin/env bash
# The FP8 chains against FlashInfer and torch.compile, in one process (issue
# 14's benchmark). On the GPU machine, from the checkout root, with the
# peers' fetched sources (bench/peers/prepare.sh: carry bench/peers/fi,
# bench/peers/noaux_tc.cu, bench/peers/fetched) and .deps/ carried:
#   bash bench/fp8/run.sh [fp8_bench.py options: --quick, --only NAME, --no-compile]
# Builds the project's bench library, libpeers.so (bench/peers/build.sh) and
# libpeers_fp8.so (peers_fp8.cu, FlashInfer's JIT flags for its norm module),
# then times them. Results: $OUT/fp8.{md,json,log}.
set -euo pipefail
proj=$(pwd)
here=$(cd "$(dirname "$0")" && pwd)
peers=$proj/bench/peers
build=${BUILD_DIR:-/tmp/llmf-peers/proj-gpu}
pbuild=/tmp/llmf-peers/peers
out=${OUT:-$proj/fp8-out}
mkdir -p "$out" "$pbuild"
t0=$(date +%s)
nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
(OUT_DIR=$pbuild OBJ_DIR=$pbuild/obj bash "$peers/build.sh" > "$out/build-peers.log" 2>&1 &&
 cccl=$pbuild/obj/cccl &&
 "$nvcc" -std=c++17 -O3 -DNDEBUG -gencode=arch=compute_90a,code=sm_90a -use_fast_math \
   --expt-relaxed-constexpr -static-global-template-stub=false --compiler-options=-fPIC \
   -DFLASHINFER_ENABLE_F16 -DFLASHINFER_ENABLE_BF16 -DFLASHINFER_ENABLE_FP8_E4M3 \
   -DFLASHINFER_ENABLE_FP8_E5M2 -DENABLE_BF16 -DENABLE_FP8 \
   -I"$cccl/cub" -I"$cccl/libcudacxx/include" -I"$cccl/thrust" \
   -isystem "$peers/fi/include" -isystem "$peers/fi/csrc" \
   -shared "$here/peers_fp8.cu" -o "$pbuild/libpeers_fp8.so" -lcudart \
   >> "$out/build-peers.log" 2>&1) &
ppid=$!
bash "$proj/bench/build-gpu-target.sh" "$build" llmf_bench "$out/build-proj.log"
wait "$ppid" || { tail -30 "$out/build-peers.log"; exit 1; }
echo "builds done in $(( $(date +%s) - t0 )) s"
PYTHONUNBUFFERED=1 python3 "$here/fp8_bench.py" --lib "$build/lib/libllmf_bench.so" \
  --peers "$pbuild/libpeers.so" --peers-fp8 "$pbuild/libpeers_fp8.so" --project "$proj" \
  --out "$out" "$@" 2>&1 | tee "$out/fp8.log"
echo "total $(( $(date +%s) - t0 )) s"
