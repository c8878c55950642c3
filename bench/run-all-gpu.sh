#!/usr/bin/env bash
# One device call for a session's GPU measurements (device time is scarce
# and a cold machine rebuilds, so build once and run everything in one go):
# the peers benchmark, the FP8 chains and the imported pieces, into $OUT/
# peers, $OUT/fp8, $OUT/pieces. Here first: bench/peers/prepare.sh,
# scripts/stage-gpu-inputs.sh, scripts/stage-imported-pieces.sh (NO_DATA=1
# with SIZE=published for the published sizes). Carry .deps, .gpu,
# bench/peers/fi, bench/peers/noaux_tc.cu, bench/peers/fetched; then:
#   bash bench/run-all-gpu.sh [--quick] [--tokens N]
# --quick: fewer token counts and no torch.compile; --tokens N: the pieces
# on random arguments with N tokens (pieces staged without data). Each part
# runs even if another failed; the exit status is nonzero if any did.
set -uo pipefail
proj=$(pwd)
out=${OUT:-$proj/gpu-out}
build=${BUILD_DIR:-/tmp/llmf-bench}
quick=() pieces=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=(--quick --no-compile) ;;
    --tokens) pieces+=(--tokens "$2"); shift ;;
    *) echo "run-all-gpu: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"
t0=$(date +%s)
status=0
part() { echo "== [$(( $(date +%s) - t0 )) s] $*"; }
part "build (llmf_bench, fusion-run)"
bash "$proj/bench/build-gpu-target.sh" "$build" llmf_bench "$out/build.log" &&
  bash "$proj/bench/build-gpu-target.sh" "$build" fusion-run "$out/build.log" || exit 1
part "peers"
BUILD_DIR=$build OUT=$out/peers bash "$proj/bench/peers/run.sh" "${quick[@]}" > /dev/null 2>&1 ||
  { echo "peers failed: $out/peers/peers.log"; status=1; }
grep "^|" "$out/peers/peers.md" 2>/dev/null | cut -d'|' -f2-9
part "fp8"
BUILD_DIR=$build OUT=$out/fp8 bash "$proj/bench/fp8/run.sh" "${quick[@]}" > /dev/null 2>&1 ||
  { echo "fp8 failed: $out/fp8/fp8.log"; status=1; }
grep "^|" "$out/fp8/fp8.md" 2>/dev/null | cut -d'|' -f2-9
if [[ -d "$proj/.gpu/imported" ]]; then
  part "pieces"
  BUILD_DIR=$build OUT=$out/pieces bash "$proj/bench/pieces/run.sh" \
    $([[ ${#quick[@]} -gt 0 ]] && echo --no-compile) "${pieces[@]}" > "$out/pieces.log" 2>&1 ||
    { echo "pieces failed: $out/pieces.log"; status=1; }
  cat "$out/pieces/pieces.md" 2>/dev/null
fi
part "done"
exit $status
