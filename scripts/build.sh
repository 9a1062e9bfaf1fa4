#!/usr/bin/env bash
# Configures and builds pinfer (Release, -O3) into ${PINFER_BUILD_DIR:-build}.
# Extra arguments go to cmake's configure step, e.g. -DPINFER_SANITIZE=ON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build=${PINFER_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
# Progress lines are filtered out; with pipefail the pipeline fails (and set -e stops the script)
# when the build fails, whatever grep finds.
cmake --build "$build" -j"$(nproc)" -- --no-print-directory 2>&1 |
  { grep -vE '^\[|^(Consolidate|Scanning|Built target)' || true; }
