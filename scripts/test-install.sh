#!/usr/bin/env bash
# Installs the built tree into a fresh prefix, then builds and runs the two
# outside consumers against the *installed* package: examples/embed (the
# pipeline, LLMFusion::Pipeline) and examples/embed-runtime (the MLIR-free
# runtime alone, LLMFusion::Runtime). Run by ctest (install-consumers).
#   scripts/test-install.sh BUILD_DIR WORK_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
work=${2:-$(mktemp -d)}
rm -rf "$work" && mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
test -f "$prefix/lib/cmake/LLMFusion/LLMFusionConfig.cmake"
test -x "$prefix/bin/fusion-opt"
for example in embed embed-runtime; do
  cmake -G Ninja -S "$root/examples/$example" -B "$work/$example" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release > "$work/$example.configure.log"
  cmake --build "$work/$example" > "$work/$example.build.log"
done
# The pipeline consumer fuses the example layer and lowers it.
"$work/embed/fuse-and-lower" "$root/examples/decoder_layer.mlir" > "$work/fused.txt"
grep -q '"fused": ' "$work/fused.txt"
grep -q "plan function 'attention_in'" "$work/fused.txt"
# The runtime consumer runs a plan the installed translator wrote.
"$prefix/bin/fusion-translate" --llm-to-plan "$root/examples/decoder_layer.mlir" -o "$work/layer.json"
"$work/embed-runtime/run-plan" "$work/layer.json" attention_in 4 > "$work/run.txt"
grep -q "out 0:" "$work/run.txt"
cat "$work/fused.txt" | head -3
cat "$work/run.txt"
echo "test-install: the installed package builds and runs both consumers"
