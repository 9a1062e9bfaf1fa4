#!/usr/bin/env bash
# The main job (README): builds pinfer, checks its kernels on this machine, then runs private
# inference of the shipped digits model under both protocols over loopback TCP and prints the
# private and plaintext predictions and the cost tables.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
pinfer="${PINFER_BUILD_DIR:-$root/build}/src/cli/pinfer"
"$pinfer" version
"$pinfer" selfcheck
"$pinfer" demo "$@"
