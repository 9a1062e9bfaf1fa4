#!/usr/bin/env bash
# The installed-prefix test (ctest `installed_prefix`): `cmake --install` of this build into a
# fresh prefix, then, from outside the source tree:
#  1. a consumer project that knows pinfer only through find_package(pinfer) compiles
#     examples/private_inference.cpp (which includes only <pinfer/pinfer.hpp>) against the
#     prefix and runs it: a private inference over loopback, checked bit-exact;
#  2. the installed `pinfer`, after the whole prefix is moved elsewhere, finds its shipped data
#     relative to itself (share/pinfer) with no source tree compiled in.
# Usage: installed_prefix_test.sh BUILD_DIR SOURCE_DIR CXX_COMPILER [CXX_FLAGS]
set -euo pipefail
build=$1 source=$2 cxx=$3 cxxflags=${4:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pinfer-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/pinfer/pinfer.hpp"
test -f "$tmp/prefix/lib/cmake/pinfer/pinfer-config.cmake" ||
  test -f "$tmp/prefix/lib64/cmake/pinfer/pinfer-config.cmake"

mkdir "$tmp/consumer"
cp "$source/examples/private_inference.cpp" "$tmp/consumer/main.cpp"
cat >"$tmp/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(pinfer_consumer LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(pinfer 0.1 REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE pinfer::pinfer)
CMAKE
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="$cxxflags" -DCMAKE_EXE_LINKER_FLAGS="$cxxflags" >/dev/null
cmake --build "$tmp/consumer/build" -j2 >/dev/null
# The consumer must not have found headers in the source tree.
if grep -rq -- "$source/include" "$tmp/consumer/build/CMakeFiles"; then
  echo "installed_prefix: the consumer was compiled against $source/include" >&2
  exit 1
fi
(cd "$tmp" && ./consumer/build/consumer "$tmp/prefix/share/pinfer/models/digits.onnx" \
  "$tmp/prefix/share/pinfer/models/digits_test_images.npy") | tee "$tmp/consumer.out"
grep -q "logits bit-exact: yes" "$tmp/consumer.out"

# Relocatable: move the prefix, then the binary still finds models/ and profiles/.
mv "$tmp/prefix" "$tmp/moved"
(cd "$tmp" && env -u PINFER_DATA_DIR -u PINFER_PROFILE_DIR ./moved/bin/pinfer simulate \
  --profile paper:cifar10/resnet32 --rates 0.01 --runs 1 --sim-hours 0.5 >"$tmp/simulate.out")
grep -q "resnet32" "$tmp/simulate.out"
(cd "$tmp" && env -u PINFER_DATA_DIR ./moved/bin/pinfer demo --count 1 --insecure >"$tmp/demo.out")
grep -q "logits bit-exact: yes" "$tmp/demo.out"
# The installed Python module (when built) finds them the same way, above its own file.
module=$(find "$tmp/moved" -name '_pinfer*.so' -print -quit)
if [[ -n $module ]]; then
  (cd "$tmp" && env -u PINFER_DATA_DIR -u PINFER_PROFILE_DIR \
    PYTHONPATH="$(dirname "$(dirname "$module")")" /usr/bin/python3 -c '
import pinfer
r = pinfer.simulate("paper:cifar10/resnet32", protocol="server-garbler", rates="0.01", runs=1,
                    sim_hours=0.5)
assert r["profile"] == "paper:cifar10/resnet32", r["profile"]
print("python simulate:", r["profile"])' >"$tmp/python.out")
  grep -q "python simulate: paper:cifar10/resnet32" "$tmp/python.out"
fi
echo "installed_prefix: consumer and relocated pinfer OK"
