#!/usr/bin/env bash
# The test command (README): installs dependencies, builds, runs every GoogleTest suite via ctest.
# Exits non-zero if the build or any test fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" "$@"
build=${PINFER_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 900
