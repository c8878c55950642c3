#!/usr/bin/env bash
# Here (MLIR and the importer's venv): imports a whole layer of each of the
# seven model families at TP 1 (cut at attention and the opaque regions),
# (QUANT=fp8-block|fp8-token|fp8-static with SIZE=tiny-fp8: the FP8 serving
# form; SIZE=published NO_DATA=1 for the published sizes without their
# weights, for bench/pieces/run.sh --tokens N) translates each piece unfused
# and fused to plans, and
# stages them with their .npy inputs and PyTorch's outputs in .gpu/imported/
# (ignored; the device tool carries it). There (no MLIR, no torch):
#   python3 importer/llm_fusion_import/gpu_check.py build-gpu/bin/fusion-run .gpu/imported
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD_DIR:-$root/build}/bin
python=$("$root/scripts/python-env.sh")
out="$root/.gpu/imported"
rm -rf "$out" && mkdir -p "$out"
for spec in llama qwen3 qwen3-moe gemma3 deepseek-v3 glm4-moe \
            qwen3-next:linear_attention qwen3-next:full_attention; do
  model=${spec%%:*}
  kind=$([[ $spec == *:* ]] && echo "--layer-type ${spec#*:}" || true)
  name=${spec/:/-}
  quant=()
  [[ -n "${QUANT:-}" ]] && quant=(--quant "$QUANT")
  PYTHONPATH="$root/importer" "$python" -m llm_fusion_import --model "$model" $kind \
    --size "${SIZE:-tiny}" "${quant[@]}" --out "$out/$name" --tokens "${TOKENS:-37}" > /dev/null
  for piece in "$out/$name"/piece*; do
    "$bin/fusion-translate" --llm-to-plan "$piece/module.mlir" -o "$piece/unfused.json"
    "$bin/fusion-opt" "$piece/module.mlir" --llm-fusion-pipeline |
      "$bin/fusion-translate" --llm-to-plan -o "$piece/fused.json"
    # NO_DATA=1: plans, piece.pt and manifests only (bench/pieces/run.sh
    # --tokens N makes random arguments): published sizes fit the carry.
    if [[ -n "${NO_DATA:-}" ]]; then rm -f "$piece"/*.npy; fi
  done
done
du -sh "$out"
