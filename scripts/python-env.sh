#!/usr/bin/env bash
# Creates (once) and prints the path of the virtual environment the importer
# (fusion-import) and its tests use: pinned torch and transformers from PyPI,
# never a system-wide install. It lives outside the checkout, so every clone
# on the machine (CI's included) reuses it:
#   ${LLM_FUSION_VENV:-$HOME/.cache/llm-fusion/venv}
# The torch wheel is large (about 3 GB with its CUDA libraries): the first
# run takes minutes, later runs none. Prints the venv's python on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${LLM_FUSION_VENV:-$HOME/.cache/llm-fusion/venv}
requirements="$root/importer/requirements.txt"
stamp="$venv/.llm-fusion-requirements"
if [[ -x "$venv/bin/python" && -f "$stamp" ]] && cmp -s "$requirements" "$stamp"; then
  echo "$venv/bin/python"
  exit 0
fi
python=${PYTHON:-python3}
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "python-env: $python cannot create virtual environments (apt-get install python3-venv)" >&2
  exit 1
fi
echo "python-env: creating $venv (torch and transformers, pinned in importer/requirements.txt)" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >&2
"$venv/bin/python" -m pip install -q -r "$requirements" >&2
cp "$requirements" "$stamp"
echo "$venv/bin/python"
