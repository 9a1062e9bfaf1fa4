#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan + UBSan) and runs each for a fixed budget.
#   scripts/fuzz.sh [-t SECONDS] [--corpus] [TARGET...]
#     -t SECONDS   budget per target (default ${PINFER_FUZZ_SECONDS:-20})
#     --corpus     regenerate the checked-in seeds fuzz/corpus/<target>/ first
#                  (pinfer_fuzz_make_corpus: valid messages from pinfer's own encoders)
#     TARGET       names from fuzz/CMakeLists.txt (default: all)
# Build directory: ${PINFER_FUZZ_BUILD_DIR:-build-fuzz}. New inputs the fuzzer finds go to
# <build>/fuzz-corpus/<target>/ (the checked-in seeds are only read); a crash, leak, timeout or
# out-of-memory writes its input to <build>/fuzz-artifacts/ and makes the script exit non-zero.
# Prints executions and exec/s per target.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PINFER_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${PINFER_FUZZ_SECONDS:-20}
regen=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -t) seconds=$2; shift 2 ;;
    --corpus) regen=1; shift ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all=$(sed -n '/^set(PINFER_FUZZ_TARGETS/,/)/p' "$root/fuzz/CMakeLists.txt" |
      tr -d '()' | sed 's/set//; s/PINFER_FUZZ_TARGETS//' | tr -s ' \n' ' ')
if [ ${#targets[@]} -eq 0 ]; then read -r -a targets <<< "$all"; fi

cc=${CC:-clang-14}
cxx=${CXX:-clang++-14}
if [ ! -f "$build/CMakeCache.txt" ]; then
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  CC=$cc CXX=$cxx cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPINFER_SANITIZE=ON -DPINFER_BUILD_FUZZ=ON -DPINFER_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
fi
set +e
cmake --build "$build" --target pinfer_fuzz_all -j"$(nproc)" -- --no-print-directory \
  >"$build/fuzz-build.log" 2>&1
rc=$?
set -e
grep -vE '^\[|^(Consolidate|Scanning|Built target)' "$build/fuzz-build.log" || true
if [ $rc -ne 0 ]; then
  echo "fuzz build failed (exit $rc); log: $build/fuzz-build.log" >&2
  exit 1
fi

if [ $regen -eq 1 ]; then
  rm -rf "$root/fuzz/corpus"
  "$build/fuzz/pinfer_fuzz_make_corpus" "$root/fuzz/corpus" "$root"
fi

mkdir -p "$build/fuzz-artifacts"
summary=()
failed=0
for t in "${targets[@]}"; do
  bin="$build/fuzz/pinfer_fuzz_$t"
  seeds="$root/fuzz/corpus/$t"
  work="$build/fuzz-corpus/$t"
  mkdir -p "$work"
  [ -x "$bin" ] || { echo "unknown fuzz target: $t" >&2; exit 2; }
  # Inputs up to twice the largest seed (at least 4 KiB): room to grow every length field.
  largest=$(find "$seeds" -type f -printf '%s\n' 2>/dev/null | sort -n | tail -1)
  max_len=$(( ${largest:-0} * 2 > 4096 ? ${largest:-0} * 2 : 4096 ))
  log="$build/fuzz-artifacts/$t.log"
  echo "== fuzz $t: ${seconds}s, max_len $max_len =="
  set +e
  # -malloc_limit_mb: the fuzzed sessions are small, so one allocation of 256 MiB means a length
  # was trusted beyond what the negotiated model allows.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$bin" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10 -max_len="$max_len" \
    -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" "$work" "$seeds" \
    >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(find "$work" -type f | wc -l)
  if [ $rc -ne 0 ]; then
    failed=1
    echo "FAILED (exit $rc); log: $log"
    grep -E 'ERROR|SUMMARY|Test unit written|terminate|what\(\)' "$log" | head -20 || true
  fi
  summary+=("$(printf '%-14s %12s %10s %8s  %s' "$t" "${execs:-?}" "${rate:-?}" "$corpus" \
    "$([ $rc -eq 0 ] && echo ok || echo FAIL)")")
done
printf '%-14s %12s %10s %8s  %s\n' target executions exec/s corpus result
printf '%s\n' "${summary[@]}"
exit $failed
