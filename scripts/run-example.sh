#!/usr/bin/env bash
# The main command: installs what is missing, builds, then parses, verifies and
# prints the example decoder-layer graph (examples/decoder_layer.mlir).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" >&2
"$root/scripts/build.sh" >&2
bin=${BUILD_DIR:-$root/build}/bin
echo "== examples/decoder_layer.mlir: parsed and verified =="
"$bin/fusion-opt" "$root/examples/decoder_layer.mlir"
