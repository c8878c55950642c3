#!/usr/bin/env bash
# On a GPU machine with Nsight Compute (ncu works on the H100 machines, not
# on the gVisor H200 ones): profiles each fused kernel of the benchmark once
# (bench/profile_kernels.py) and prints, per kernel, the speed-of-light
# throughputs, occupancy, and where warps stall. Full report: $OUT/kernels.ncu-rep.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-gpu}
out=${OUT:-.}
if [[ ! -f "$build/lib/libllmf_bench.so" ]]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DLLM_FUSION_ENABLE_MLIR=OFF -DLLM_FUSION_ENABLE_CUDA=ON \
    -DCMAKE_PREFIX_PATH="$root/.deps" > /dev/null
  cmake --build "$build" --target llmf_bench > /dev/null
fi
ncu=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
"$ncu" --target-processes all --nvtx \
  --kernel-name regex:"route|gatedQuant|normKernel" \
  --section SpeedOfLight --section Occupancy --section WarpStateStats \
  --section LaunchStats --section SchedulerStats --section ComputeWorkloadAnalysis \
  -o "$out/kernels" -f \
  python3 "$root/bench/profile_kernels.py" --lib "$build/lib/libllmf_bench.so" "$@" > "$out/ncu.log" 2>&1 ||
  { tail -20 "$out/ncu.log"; exit 1; }
"$ncu" -i "$out/kernels.ncu-rep" --page details --print-units base \
  --print-kernel-base function > "$out/ncu-details.txt"
grep -E "^  [a-zA-Z_]+.*\(|Memory Throughput|DRAM Throughput|Compute \(SM\) Throughput|Duration|Achieved Occupancy|Registers Per Thread|Issue Slots Busy|Executed Ipc Active|Warp Cycles Per Issued Instruction|No Eligible|One or More Eligible|Stall" \
  "$out/ncu-details.txt" | head -150
