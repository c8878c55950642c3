#!/usr/bin/env bash
# Stages what a GPU machine (CUDA, no MLIR, no apt) needs to build and test
# the MLIR-free tree, in two ignored folders the device tool carries:
#   .deps/  the nlohmann-json and Catch2 headers and CMake packages from
#           this machine's Debian packages (use -DCMAKE_PREFIX_PATH=.deps);
#   .gpu/   plans of the end-to-end tests, unfused and fused, translated
#           here (fusion-opt + fusion-translate need MLIR).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD_DIR:-$root/build}/bin
rm -rf "$root/.deps" "$root/.gpu"
mkdir -p "$root/.deps/include" "$root/.deps/share/cmake" "$root/.deps/lib/cmake" "$root/.gpu/plans"
cp -r /usr/include/nlohmann /usr/include/catch2 "$root/.deps/include/"
cp -r /usr/share/cmake/nlohmann_json "$root/.deps/share/cmake/"
cp -r /usr/lib/cmake/Catch2 "$root/.deps/lib/cmake/"
cp /usr/lib/libCatch2WithMain.a "$root/.deps/lib/"

# One rank per GPU here: the all-reduce families run at world size 1.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed 's/llm.world_size = 2/llm.world_size = 1/' "$root/test/Run/allreduce-norm.mlir" > "$work/allreduce-norm.mlir"
sed 's/llm.world_size = 2/llm.world_size = 1/' "$root/examples/decoder_layer.mlir" > "$work/decoder-layer.mlir"
cp "$root/test/Run/moe-router.mlir" "$root/test/Run/gated-norm-quant.mlir" \
   "$root/test/Run/qk-norm.mlir" "$work/"
for src in "$work"/*.mlir; do
  name=$(basename "$src" .mlir)
  "$bin/fusion-translate" --llm-to-plan "$src" -o "$root/.gpu/plans/$name.unfused.json"
  "$bin/fusion-opt" "$src" --llm-fusion-pipeline | \
    "$bin/fusion-translate" --llm-to-plan -o "$root/.gpu/plans/$name.fused.json"
done
du -sh "$root/.deps" "$root/.gpu"
