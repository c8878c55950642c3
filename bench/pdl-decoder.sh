#!/usr/bin/env bash
# On a GPU machine: the example decoder layer's functions, unfused and
# fused, each captured in one CUDA graph and replayed, with and without
# programmatic dependent launch; prints median microseconds per replay.
# Needs the MLIR-free build (scripts/gpu-check.sh or run-gpu-bench.sh made
# it) and the staged plans in .gpu/plans (scripts/stage-gpu-inputs.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run=${BUILD_DIR:-$root/build-gpu}/bin/fusion-run
plans=$root/.gpu/plans
printf "%-22s %5s %9s %12s %12s\n" function T plan "graph (us)" "graph+pdl"
for fn in attention_in attention_out_moe gated_delta_net_out; do
  for dim in 1 16 64; do
    [[ $fn == gated_delta_net_out && $dim == 1 ]] && continue # needs a multiple of the heads
    for kind in unfused fused; do
      cells=()
      for pdl in "" --pdl; do
        ms=$("$run" "$plans/decoder-layer.$kind.json" --function $fn --dim $dim --device cuda \
               --cuda-graph --bench --repeat 30 --warmup 3 $pdl | sed -n 's/^bench: median \([0-9.e+-]*\) ms.*/\1/p')
        cells+=("$(python3 -c "print(f'{float(\"$ms\") * 1000:.1f}')")")
      done
      printf "%-22s %5s %9s %12s %12s\n" $fn $dim $kind "${cells[0]}" "${cells[1]}"
    done
  done
done
