#!/usr/bin/env bash
# Installs what llm-fusion needs on Debian 12, and nothing when it is all there.
#   scripts/install-deps.sh            full build (LLVM/MLIR 22 and the rest)
#   LLM_FUSION_MLIR=OFF scripts/...    MLIR-free build (runtime and kernels)
# The CUDA Toolkit (/usr/local/cuda) is optional and never installed here.
set -euo pipefail

pkgs=(cmake ninja-build g++ python3 python3-venv nlohmann-json3-dev catch2)
if [[ "${LLM_FUSION_MLIR:-ON}" != "OFF" ]]; then
  pkgs+=(llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all dependencies present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
