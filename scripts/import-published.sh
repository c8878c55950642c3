#!/usr/bin/env bash
# The documentation run of docs/real-models.md: one layer of each of the
# seven families at its published sizes (models.py says what MoE layers drop
# to fit), TP 1 and TP 2, imported, fused and checked against PyTorch on
# the CPU. About 10 minutes and 12 GB of memory at most (DeepSeek-V3 TP 2).
#   scripts/import-published.sh [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD_DIR:-$root/build}/bin
python=$("$root/scripts/python-env.sh")
out=${1:-/tmp/llm-fusion-published}
mkdir -p "$out"
status=0
for spec in llama qwen3 qwen3-moe gemma3 glm4-moe qwen3-next:linear_attention \
            qwen3-next:full_attention deepseek-v3; do
  model=${spec%%:*}
  kind=$([[ $spec == *:* ]] && echo "--layer-type ${spec#*:}" || true)
  for tp in 1 2; do
    dir="$out/${spec/:/-}-tp$tp"
    if PYTHONPATH="$root/importer" "$python" -m llm_fusion_import --model "$model" $kind \
        --tp "$tp" --size published --tokens 5 --out "$dir" --check --bin "$bin" > "$dir.log" 2>&1; then
      echo "ok       ${spec/:/-} tp $tp"
    else
      echo "MISMATCH ${spec/:/-} tp $tp (see $dir.log)"
      status=1
    fi
    grep "fused {" "$dir.log" | sed 's/.*piece/  piece/'
    rm -f "$dir"/piece*/*.npy "$dir"/piece*/out-*/*.npy # the weights: gigabytes
  done
done
exit $status
