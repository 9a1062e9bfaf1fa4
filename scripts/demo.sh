#!/usr/bin/env bash
# The main job (README): builds pinfer and runs the demo on this machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
pinfer="${PINFER_BUILD_DIR:-$root/build}/src/cli/pinfer"
"$pinfer" --help
"$pinfer" version
"$pinfer" selfcheck
