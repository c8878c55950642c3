#!/usr/bin/env bash
# The main command: installs what is missing, builds, then runs the fusion
# pipeline on the example decoder layer (examples/decoder_layer.mlir), prints
# the fused graph, every missed-fusion remark and the fusion report.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" >&2
"$root/scripts/build.sh" >&2
bin=${BUILD_DIR:-$root/build}/bin
report=$(mktemp --suffix=.json)
trap 'rm -f "$report"' EXIT
echo "== examples/decoder_layer.mlir after --llm-fusion-pipeline =="
"$bin/fusion-opt" "$root/examples/decoder_layer.mlir" --llm-fusion-pipeline \
  --llm-fusion-remarks --llm-fusion-report="$report"
echo
echo "== fusion report =="
cat "$report"
