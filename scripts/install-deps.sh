#!/usr/bin/env bash
# Installs what pinfer needs to build, test and run, from Debian 12 packages.
# Idempotent and quiet when everything is present. Run as root (or with sudo available).
set -euo pipefail

packages=(
  g++ cmake make pkg-config git
  libssl-dev libsodium-dev
  libprotobuf-dev protobuf-compiler libonnx-dev libpng-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libtbb-dev
  gnuplot-nox
  clang-14 libclang-rt-14-dev clang-format-14
  python3 python3-dev pybind11-dev python3-numpy python3-pytest
  libpq-dev postgresql
)
# clang-14 + libclang-rt-14-dev build the libFuzzer targets (fuzz/, scripts/fuzz.sh);
# clang-format-14 is the formatting check CI runs first (scripts/check-format.sh).
# python3-dev + pybind11-dev build the `pinfer` Python module (python/, docs/PYTHON.md);
# python3-numpy and python3-pytest run it and its tests (tests/python).
# libpq-dev is the cluster layer's PostgreSQL client; postgresql brings the server binaries
# (initdb, pg_ctl) the cluster tests start a private database with, and the `postgres` user
# they run it as when the tests run as root (tests/cluster/private_postgres.hpp).
# Optional extras (opt-in; the test command needs neither):
#   --train  adds what models/train_digits.py needs;
#   --torch  adds what scripts/export_torchvision.py and scripts/torchvision_families.sh need.
for arg in "$@"; do
  case "$arg" in
    --train) packages+=(python3-torch python3-sklearn python3-onnx) ;;
    --torch) packages+=(python3-torch python3-torchvision) ;;
    *) echo "install-deps: unknown option $arg (known: --train, --torch)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
