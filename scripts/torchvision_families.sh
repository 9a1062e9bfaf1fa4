#!/usr/bin/env bash
# torchvision's families end to end (issue 13, docs/MODELS.md "torchvision"): each network is
# exported by scripts/export_torchvision.py (random weights, fixed seed; BatchNorm statistics
# re-estimated on the calibration inputs), described by `pinfer model info --json`, and run
# privately by `pinfer characterize MODEL --protocol P` for each protocol: one offline and one
# online phase, client and server in one process over loopback TLS, the private logits checked
# bit for bit against the fixed-point engine (characterize fails otherwise).
#
#   bash scripts/torchvision_families.sh [--input 3x32x32] [--models "resnet18 ..."]
#        [--protocols "server-garbler client-garbler"] [--skip NAME:PROTOCOL]...
#        [--classes N] [--calibration N] [--out DIR] [--keep DIR]
#        [--characterize-flags "--weight-cache 2GB ..."]
#
# Needs python3-torch and python3-torchvision (scripts/install-deps.sh --torch) and a built
# pinfer (scripts/build.sh; PINFER_BUILD_DIR or PINFER=path/to/pinfer say where). Raw outputs go
# to DIR (default docs/perf/raw/torchvision): NAME.export.txt, NAME.info.json, NAME.PROTOCOL.txt
# (characterize's output with /usr/bin/time -v: wall time, peak resident memory of the process,
# which holds both parties), NAME.PROTOCOL.report.json, and summary.txt.
# Heavy: resnet50 / densenet121 take minutes per protocol; run on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

input=3x32x32
models=(resnet18 mobilenet_v2 squeezenet1_1 resnet50 densenet121)
protocols=(server-garbler client-garbler)
skips=()
classes=1000
calibration=8
out="$root/docs/perf/raw/torchvision"
keep=""
characterize_flags=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --input) input=$2; shift 2 ;;
    --models) read -r -a models <<<"$2"; shift 2 ;;
    --protocols) read -r -a protocols <<<"$2"; shift 2 ;;
    --skip) skips+=("$2"); shift 2 ;;
    --classes) classes=$2; shift 2 ;;
    --calibration) calibration=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --characterize-flags) read -r -a characterize_flags <<<"$2"; shift 2 ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "torchvision_families: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

pinfer=${PINFER:-${PINFER_BUILD_DIR:-$root/build}/src/cli/pinfer}
[[ -x "$pinfer" ]] || { echo "torchvision_families: no pinfer at $pinfer (run scripts/build.sh)" >&2; exit 2; }
/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || {
  echo "torchvision_families: python3-torch / python3-torchvision missing: scripts/install-deps.sh --torch" >&2
  exit 2
}
[[ -x /usr/bin/time ]] || { echo "torchvision_families: /usr/bin/time missing (Debian package time)" >&2; exit 2; }

mkdir -p "$out"
work=${keep:-$(mktemp -d /tmp/pinfer-torchvision.XXXXXX)}
mkdir -p "$work"
[[ -n "$keep" ]] || trap 'rm -rf "$work"' EXIT

# summary.txt: one row per model and protocol, replaced when that pair is run again (so runs of
# a few models at a time add up to one table).
summary="$out/summary.txt"
row_format='%-14s %-15s %10s %10s %6s %8s %10s %9s  %-17s %s\n'
if [[ ! -f "$summary" ]]; then
  {
    echo "# scripts/torchvision_families.sh: torchvision at --input, random weights (seed 0), $(nproc) cores"
    echo "# relus: pinfer model info --json 'relus'; gc_elems: elements of every garbled-circuit stage"
    echo "# (ReLU, clip, rescale); wall_s / peak_MiB: /usr/bin/time -v of pinfer characterize (both parties)"
    # shellcheck disable=SC2059
    printf "$row_format" model protocol relus gc_elems stages l/f wall_s peak_MiB run_utc "result (input)"
  } >"$summary"
fi
add_row() {  # model protocol fields...
  local tmp
  tmp=$(mktemp)
  awk -v m="$1" -v p="$2" '!($1 == m && $2 == p)' "$summary" >"$tmp"
  # shellcheck disable=SC2059
  printf "$row_format" "$@" | tee -a "$tmp"
  mv "$tmp" "$summary"
}

skipped() {
  local s
  for s in "${skips[@]+"${skips[@]}"}"; do [[ "$s" == "$1:$2" ]] && return 0; done
  return 1
}

status=0
for m in "${models[@]}"; do
  onnx="$work/$m.onnx"
  echo "== $m: export at $input"
  /usr/bin/python3 "$root/scripts/export_torchvision.py" "$m" --input "$input" --out "$onnx" \
    --classes "$classes" --calibration-from-random "$calibration" --seed 0 >"$out/$m.export.txt"
  cat "$out/$m.export.txt"
  echo "== $m: pinfer model info"
  "$pinfer" model info "$onnx" --json >"$out/$m.info.json"
  read -r relus gc stages lf < <(/usr/bin/python3 - "$out/$m.info.json" <<'EOF'
import json, math, sys
j = json.load(open(sys.argv[1]))
gc = sum(math.prod(int(d) for d in s["pre_shape"].split("x"))
         for s in j["stages"] if s["nonlinear"] not in ("output", "argmax"))
print(j["relus"], gc, len(j["stages"]), f'{j["l"]}/{j["f"]}')
EOF
  )
  for p in "${protocols[@]}"; do
    if skipped "$m" "$p"; then
      add_row "$m" "$p" "$relus" "$gc" "$stages" "$lf" - - "$(date -u +%H:%MZ)" "skipped ($input)"
      continue
    fi
    echo "== $m: pinfer characterize --protocol $p"
    raw="$out/$m.$p.txt"
    rm -rf "$work/stores" "$work/reports"
    if /usr/bin/time -v "$pinfer" characterize "$onnx" --protocol "$p" \
      --store-dir "$work/stores" --report-dir "$work/reports" \
      "${characterize_flags[@]+"${characterize_flags[@]}"}" >"$raw" 2>&1; then
      result=$(grep -q "bit-exact with the fixed-point engine" "$raw" && echo "bit-exact" || echo "?")
      cp "$work/reports/$p.json" "$out/$m.$p.report.json" 2>/dev/null || true
    else
      result="FAILED (see $(basename "$raw"))"
      status=1
    fi
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$raw" |
      awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
    peak=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$raw")
    add_row "$m" "$p" "$relus" "$gc" "$stages" "$lf" "${wall:--}" "${peak:--}" \
      "$(date -u +%Y-%m-%dT%H:%MZ)" "$result ($input)"
    rm -rf "$work/stores"
  done
done
echo "summary: $summary"
cat "$summary"
exit $status
