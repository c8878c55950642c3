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
tail -5 "$out/ctest.log"
grep -E "FAILED|failed|Skipped" "$out/ctest.log" | head -20

step "fusion compare tests on the GPU"
for unfused in "$root"/.gpu/plans/*.unfused.json; do
  fused=${unfused%.unfused.json}.fused.json
  name=$(basename "${unfused%.unfused.json}")
  for fn in $(python3 -c "import json,sys; print(' '.join(f['name'] for f in json.load(open(sys.argv[1]))['functions']))" "$unfused"); do
    for dim in 1 64 4099; do
      # unfused vs fused, both on the GPU; then the fused GPU run vs the CPU reference.
      if "$build/bin/fusion-run" "$unfused" --function "$fn" --dim $dim --device cuda \
           --compare "$fused" > "$out/cmp-$name-$fn-$dim.log" 2>&1 &&
         "$build/bin/fusion-run" "$fused" --function "$fn" --dim $dim --device cpu \
           --compare "$fused" --compare-device cuda >> "$out/cmp-$name-$fn-$dim.log" 2>&1; then
        echo "PASS $name/$fn dim $dim"
      else
        echo "FAIL $name/$fn dim $dim"; tail -15 "$out/cmp-$name-$fn-$dim.log"; status=1
      fi
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
exit $status
