#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test (ctest:
# the lit suite and the Catch2 unit tests). GPU tests report skipped without a GPU.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "${JOBS:-$(nproc)}"
