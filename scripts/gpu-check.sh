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

step "ctest (unit + GPU tests)"
(cd "$build" && ctest --output-on-failure > "$out/ctest.log" 2>&1) || status=1

step "fusion compare tests on the GPU"
# Unfused vs fused, both on the GPU, for every family; and the fused plan on
# the GPU against the CPU reference where the graph has no matmul (through
# a matmul, one-ulp input differences legitimately grow past a per-element
# tolerance; the per-op GPU tests cover matmul itself).
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
      if [[ $ok == 1 ]]; then echo "PASS $name/$fn dim $dim"; else echo "FAIL $name/$fn dim $dim"; status=1; fi
    done
  done
done

if [[ "${SANITIZE:-1}" == 1 ]]; then
  step "compute-sanitizer memcheck (GPU tests but the 65536-token cases)"
  timeout 400 compute-sanitizer --tool memcheck --error-exitcode 3 "$build/bin/cuda-tests" "~[large]" \
    > "$out/memcheck.log" 2>&1; rc=$?
  tail -4 "$out/memcheck.log"; [[ $rc == 0 ]] || { echo "memcheck rc=$rc"; status=1; }
  step "compute-sanitizer racecheck (kernels with shared memory or team reductions)"
  timeout 400 compute-sanitizer --tool racecheck --error-exitcode 3 "$build/bin/cuda-tests" \
    "[qk],[gated],[routing]" > "$out/racecheck.log" 2>&1; rc=$?
  tail -4 "$out/racecheck.log"; [[ $rc == 0 ]] || { echo "racecheck rc=$rc"; status=1; }
fi
step "ctest summary"
grep -E "tests passed|Failed|Skipped|\*\*\*|sec$" "$out/ctest.log" | tail -25
grep -B2 -A12 "FAILED:" "$out/ctest.log" | head -80
exit $status
