#!/usr/bin/env bash
# Compile-time benchmark of the fusion pipeline (CPU, not a test): generates
# 100- and 1000-layer decoder graphs and reports the median of 5 runs of the
# pipeline alone (fusion-opt -mlir-timing, pass execution only; parsing and
# printing excluded) and of the whole command.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD_DIR:-$root/build}/bin
tmp=$(mktemp -d)
# "100x8" is 100 layers as 8 functions (pieces), which fuse in parallel.
for shape in 100 1000 100x8 1000x8; do
  layers=${shape%x*}
  functions=1
  [[ $shape == *x* ]] && functions=${shape#*x}
  python3 "$root/bench/gen_decoder_graph.py" --layers "$layers" --functions "$functions" > "$tmp/g.mlir"
  ops=$(grep -c " = llm\." "$tmp/g.mlir")
  pipe=(); total=()
  for _ in 1 2 3 4 5; do
    start=$(date +%s.%N)
    "$bin/fusion-opt" "$tmp/g.mlir" --llm-fusion-pipeline -mlir-timing \
      -mlir-timing-display=list -o "$tmp/out.mlir" 2> "$tmp/timing.txt"
    end=$(date +%s.%N)
    total+=("$(echo "$end - $start" | bc)")
    pipe+=("$(awk '/llm-fus|LLMFus/ {s += $1} END {print s}' "$tmp/timing.txt")")
  done
  med() { printf '%s\n' "$@" | sort -g | sed -n 3p; }
  fused=$(grep -c "llm.fused_" "$tmp/out.mlir")
  echo "layers=$layers functions=$functions ops=$ops fused_ops=$fused pipeline_s=$(med "${pipe[@]}") command_s=$(med "${total[@]}")"
done
rm -rf "$tmp"
