#!/usr/bin/env bash
# Re-measures the headline figures of docs/PERFORMANCE.md and keeps the raw output of every
# command in docs/perf/raw/headlines/<name>.txt: first line the command, second the date and load
# average when it started, then exactly what the command printed. The headline table cites these
# files. Run it on an otherwise idle machine after `scripts/build.sh` (about 10 minutes on two
# idle cores, of which the three ResNet-18 TinyImageNet characterizations take half);
# `scripts/perf_headlines.sh NAME...` re-runs only the named entries.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PINFER_BUILD_DIR:-$root/build}
pinfer=$build/src/cli/pinfer
out=$root/docs/perf/raw/headlines
mkdir -p "$out"

# name | command (run from the repository root; PINFER and BUILD are expanded)
entries=(
  "prg|PINFER bench prg --repeats 7 --json"
  "net|PINFER bench net --repeats 5 --json"
  "gc_half_gates|PINFER bench gc --scheme half-gates --repeats 5 --json"
  "gc_three_halves|PINFER bench gc --scheme three-halves --repeats 5 --json"
  "gc_three_halves_l37_f12|PINFER bench gc --scheme three-halves --l 37 --f 12 --repeats 5 --json"
  "gc_threads1|PINFER bench gc --threads 1 --instances 262144 --repeats 9 --json"
  "gc_threads2|PINFER bench gc --threads 2 --instances 262144 --repeats 9 --json"
  "gc_three_halves_threads1|PINFER bench gc --scheme three-halves --threads 1 --instances 262144 --repeats 9 --json"
  "gc_three_halves_threads2|PINFER bench gc --scheme three-halves --threads 2 --instances 262144 --repeats 9 --json"
  "ot|PINFER bench ot --repeats 5 --json"
  "he_resnet18_tinyimagenet|PINFER bench he --json"
  "he_resnet18_tinyimagenet_l37|PINFER bench he --bits 37 --no-lphe --json"
  "nn_bench|BUILD/pinfer_nn_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true"
  "net_bench_tls|BUILD/pinfer_transport_bench --benchmark_filter=Loopback --benchmark_repetitions=3 --benchmark_report_aggregates_only=true"
  "characterize_resnet32|PINFER characterize resnet32:cifar10"
  "characterize_resnet18_tinyimagenet_1|PINFER characterize resnet18:tinyimagenet"
  "characterize_resnet18_tinyimagenet_2|PINFER characterize resnet18:tinyimagenet"
  "characterize_resnet18_tinyimagenet_3|PINFER characterize resnet18:tinyimagenet"
  "load_32_clients|PINFER bench load --clients 32 --requests 128 --insecure --json"
  "load_16_online|PINFER bench load --clients 16 --requests 128 --online-only --insecure --json"
  "sim_sweep|PINFER simulate --profile paper:cifar10/resnet18 --protocol server-garbler --client-storage 16GB --server-storage 10000GB --uplink-mbps 500 --downlink-mbps 500 --client-threads 4 --server-gc-threads 32 --server-he-threads 1 --rates 0.001:0.01:45 --runs 50 --sim-hours 24 --mode independent --seed 1 --json"
  "sim_10k_clients_fleet|PINFER simulate --profile paper:cifar10/resnet18 --protocol server-garbler --client-storage 16GB --uplink-mbps 500 --downlink-mbps 500 --mode contended --clients 100 --server-cores 32 --rates 0.0005 --runs 100 --sim-hours 24 --seed 1 --json"
  "sim_plan_1e5|PINFER simulate plan --profile paper:cifar10/resnet18 --protocol server-garbler --client-storage 16GB --uplink-mbps 500 --downlink-mbps 500 --rate 0.0005 --target-mean-s 200 --fleet-clients 100000 --runs 3 --server-cores 32"
)

wanted=("$@")
for entry in "${entries[@]}"; do
  name=${entry%%|*}
  cmd=${entry#*|}
  if ((${#wanted[@]})) && [[ ! " ${wanted[*]} " == *" $name "* ]]; then continue; fi
  cmd=${cmd//PINFER/$pinfer}
  cmd=${cmd//BUILD/$build}
  shown=${cmd//$build/build}
  echo "== $name: $shown" >&2
  {
    echo "\$ $shown"
    echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
    # Wall time of the whole command, for the simulator entries whose figure is the run time.
    start=$(date +%s.%N)
    (cd "$root" && $cmd)
    end=$(date +%s.%N)
    echo "# wall $(echo "$end - $start" | bc) s"
  } >"$out/$name.txt" 2>&1 || { echo "$name failed, see $out/$name.txt" >&2; exit 1; }
done
