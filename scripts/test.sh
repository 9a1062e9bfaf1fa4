#!/usr/bin/env bash
# The test command (README): installs dependencies, builds, runs every GoogleTest suite and the
# Python module's pytest suite (tests/python) via ctest.
# Exits non-zero if the build or any test fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" "$@"
build=${PINFER_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 900
# ctest shows a passing test's output only in its log: print pytest's summary line from there.
grep -hE '^=+ .*(passed|failed|skipped|error).* in [0-9.]+s' Testing/Temporary/LastTest.log || true
