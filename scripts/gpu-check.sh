#!/usr/bin/env bash
# On a GPU machine (CUDA, no MLIR): build the MLIR-free tree with the CUDA
# backend, run every test (the GPU tests included), the fusion compare tests
# on the GPU (plans staged by scripts/stage-gpu-inputs.sh), and the GPU
# tests under compute-sanitizer memcheck and racecheck. Logs go to $OUT
# when set. Exits nonzero if anything failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-gpu}
out=${OUT:-$build/logs}
mkdir -p "$out"
status=0
step() { echo "== $*"; }

step "configure and build (MLIR off, CUDA on)"
cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DLLM_FUSION_ENABLE_MLIR=OFF -DLLM_FUSION_ENABLE_CUDA=ON \
  -DCMAKE_PREFIX_PATH="$root/.deps" > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" > "$out/build.log" 2>&1 || { grep -E "error" -A5 "$out/build.log" | head -60; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

# The three checks run side by side (the GPU suite's time is mostly the CPU
# reference, the sanitizers' mostly the GPU), each into its own log.
step "ctest (unit + GPU tests), fusion compares and sanitizers, in parallel"
(cd "$build" && ctest -j 8 --output-on-failure > "$out/ctest.log" 2>&1; echo "rc=$?" >> "$out/ctest.log") &
ctest_pid=$!

compare_all() {
  # Unfused vs fused, both on the GPU, for every family; the fused plan on
  # the GPU against the CPU reference where the graph has no matmul
  # (through a matmul, one-ulp input differences legitimately grow past a
  # per-element tolerance; the per-op GPU tests cover matmul itself); and
  # both plans captured in one CUDA graph at small token counts.
  local rc=0
  for unfused in "$root"/.gpu/plans/*.unfused.json; do
    fused=${unfused%.unfused.json}.fused.json
    name=$(basename "${unfused%.unfused.json}")
    case $name in
      gated-norm-quant) dims="32 64 4096" ;; # a multiple of the head count
      decoder-layer) dims="16 64" ;;         # CPU matmuls make larger dims slow
      *) dims="1 64 4099" ;;
    esac
    for fn in $(python3 -c "import json,sys; print(' '.join(f['name'] for f in json.load(open(sys.argv[1]))['functions']))" "$unfused"); do
      for dim in $dims; do
        [[ $name == decoder-layer && $fn == gated_delta_net_out && $dim == 16 ]] && continue
        log="$out/compare.log"
        ok=1
        "$build/bin/fusion-run" "$unfused" --function "$fn" --dim $dim --device cuda \
          --compare "$fused" >> "$log" 2>&1 || ok=0
        if [[ $name != decoder-layer ]]; then
          "$build/bin/fusion-run" "$fused" --function "$fn" --dim $dim --device cpu \
            --compare "$fused" --compare-device cuda >> "$log" 2>&1 || ok=0
        fi
        if [[ $dim -le 64 ]]; then
          "$build/bin/fusion-run" "$unfused" --function "$fn" --dim $dim --device cuda \
            --cuda-graph --repeat 3 --compare "$fused" >> "$log" 2>&1 || ok=0
        fi
        if [[ $ok == 1 ]]; then echo "PASS $name/$fn dim $dim"; else echo "FAIL $name/$fn dim $dim"; rc=1; fi
      done
    done
  done
  return $rc
}
compare_all > "$out/compare-summary.log" 2>&1 &
compare_pid=$!

sanitize_rc=0
if [[ "${SANITIZE:-1}" == 1 ]]; then
  # Quick mode (token counts <= 128): every kernel and code path, at a
  # speed the sanitizers can take.
  LLMF_GPU_TEST_QUICK=1 timeout 500 compute-sanitizer --tool memcheck --error-exitcode 3 \
    "$build/bin/cuda-tests" > "$out/memcheck.log" 2>&1 || sanitize_rc=1
  # Kernels with shared memory or team reductions.
  LLMF_GPU_TEST_QUICK=1 timeout 400 compute-sanitizer --tool racecheck --error-exitcode 3 \
    "$build/bin/cuda-tests" "[norm],[qk],[gated],[routing],[misc]" > "$out/racecheck.log" 2>&1 ||
    sanitize_rc=1
fi
wait $ctest_pid
wait $compare_pid || status=1
grep -q "^rc=0" "$out/ctest.log" || status=1

step "fusion compares"
cat "$out/compare-summary.log"
if [[ "${SANITIZE:-1}" == 1 ]]; then
  step "compute-sanitizer memcheck (quick GPU suite)"
  tail -3 "$out/memcheck.log"
  step "compute-sanitizer racecheck"
  tail -3 "$out/racecheck.log"
  [[ $sanitize_rc == 0 ]] || { echo "sanitizer failures"; status=1; }
fi
step "ctest summary"
grep -E "tests passed|Failed|Skipped|\*\*\*|sec$" "$out/ctest.log" | tail -25
grep -B2 -A12 "FAILED:" "$out/ctest.log" | head -80
exit $status
