#!/usr/bin/env bash
# The importer's tests (pytest, importer/tests): creates or reuses the pinned
# virtual environment (scripts/python-env.sh), then exports pieces of real
# transformers layers, fuses them with the built tools and compares with
# PyTorch. Run by ctest (importer).
#   scripts/test-importer.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD_DIR:-$root/build}}
python=$("$root/scripts/python-env.sh")
cd "$root"
LLM_FUSION_BIN="$build/bin" PYTHONDONTWRITEBYTECODE=1 \
  "$python" -m pytest -q -p no:cacheprovider importer/tests
