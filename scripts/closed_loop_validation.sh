#!/usr/bin/env bash
# Closed-loop validation (docs/perf/closed_loop.md): the real system under Poisson arrivals
# (`pinfer bench arrivals`) against the simulator with the same settings and arrival seeds, for
# the digits model and ResNet-32 CIFAR-10, both protocols, three load points each. Raw JSON per
# case goes to docs/perf/closed_loop/<case>.json; the summary table is printed at the end.
# Run it on an otherwise idle machine: the simulator is told the run shares this machine's cores,
# not that other programs compete for them. Needs /usr/bin/python3 for the table.
#   scripts/closed_loop_validation.sh [digits|resnet32|all] [extra bench arrivals flags...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pinfer=${PINFER:-$root/build/src/cli/pinfer}
out=$root/docs/perf/closed_loop
mkdir -p "$out"
which=${1:-all}
shift || true

run_case() {  # name model protocol clients rate duration client_storage server_storage [flags]
  local name=$1 model=$2 protocol=$3 clients=$4 rate=$5 duration=$6 cs=$7 ss=$8
  shift 8
  echo "== $name: $protocol, $clients client(s) x $rate req/s, $duration s" >&2
  "$pinfer" bench arrivals --model "$model" --protocol "$protocol" --clients "$clients" \
    --rate "$rate" --duration-s "$duration" --client-storage "$cs" --server-storage "$ss" \
    --seed 1 --policy poll --simulate --out "$out/$name.json" "$@" "${extra[@]}" >&2
}
extra=("$@")

if [[ $which == digits || $which == all ]]; then
  # One precompute per client fits (Server-Garbler: the client's 10.9 MB of tables in 15 MB;
  # Client-Garbler: the server's 9.9 MB per client in a 15 MB quota), so at the higher rates
  # requests wait for offline phases. Links: 100 Mbit/s up, 400 Mbit/s down per client.
  for p in server-garbler client-garbler; do
    short=${p%%-*}
    for load in "light 0.1" "medium 0.3" "high 0.6"; do
      set -- $load
      run_case "digits-$short-$1" "$root/models/digits.onnx" "$p" 4 "$2" 120 \
        "$([[ $p == server-garbler ]] && echo 15MB || echo 100MB)" \
        "$([[ $p == server-garbler ]] && echo 1GB || echo 60MB)" \
        --uplink-mbps 100 --downlink-mbps 400
    done
  done
fi
if [[ $which == resnet32 || $which == all ]]; then
  # One client; one precompute fits (Server-Garbler: 1.10 GB of tables in 1.5 GB; Client-Garbler:
  # 0.94 GB on the server in 1.5 GB). Links: 1 Gbit/s both ways.
  for p in server-garbler client-garbler; do
    short=${p%%-*}
    for load in "light 0.01" "medium 0.025" "high 0.04"; do
      set -- $load
      run_case "resnet32-$short-$1" resnet32:cifar10 "$p" 1 "$2" 200 \
        "$([[ $p == server-garbler ]] && echo 1.5GB || echo 100MB)" \
        "$([[ $p == server-garbler ]] && echo 100GB || echo 1.5GB)" \
        --uplink-mbps 1000 --downlink-mbps 1000
    done
  done
fi

/usr/bin/python3 - "$out" <<'PY'
import json, pathlib, statistics, sys
rows = []
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    j = json.loads(f.read_text())
    m, s = j["rates"][0], j["simulated"]["rates"][0]
    st = j["settings"]
    sim = j["simulated"]
    rows.append(f"| {f.stem} | {st['clients']} | {st['rate']} | {j['arrivals']} | "
                f"{m['mean_latency_s']:.3f} | {s['mean_latency_s']:.3f} | {100*j['relative_error_mean']:+.1f}% | "
                f"{m['p99_latency_s']:.3f} | {s['p99_latency_s']:.3f} | {100*j['relative_error_p99']:+.1f}% | "
                f"{m['mean_offline_wait_s']:.3f} / {s['mean_offline_wait_s']:.3f} | "
                f"{m['mean_online_s']:.3f} / {s['mean_online_s']:.3f} | "
                f"{statistics.median(j['offline_phase_s']):.3f} / "
                f"{statistics.median(sim['offline_phase_s']) if sim.get('offline_phase_s') else float('nan'):.3f} / "
                f"{sim['offline_phase_alone_s']:.3f} | "
                f"{j['wrong_results']} |")
print("| case | K | rate/client (1/s) | requests | mean measured (s) | mean simulated (s) | error | "
      "p99 measured (s) | p99 simulated (s) | error | offline wait meas. / sim. (s) | "
      "online meas. / sim. (s) | offline phase: median meas. / sim. / sim. alone (s) | wrong |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
print("\n".join(rows))
# Where loaded offline phases spent their time against the profile's unloaded one: components
# whose median moved by more than 5% and 20 ms (runs that recorded them).
print()
print("| case | component | loaded median (s) | profile (s) | change |")
print("|---|---|---|---|---|")
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    j = json.loads(f.read_text())
    for phase, phases, prof in (
            ("offline", j.get("offline_phase_components"),
             j["simulated"].get("profile_offline_components")),
            ("online", [r["online_components"] for r in j["requests"] if "online_components" in r],
             j["simulated"].get("profile_online_components"))):
        if not phases or not prof:
            continue
        for name in sorted(set(prof) | set().union(*phases)):
            loaded = statistics.median(p.get(name, 0.0) for p in phases)
            base = prof.get(name, 0.0)
            if abs(loaded - base) > max(0.05 * base, 0.02):
                print(f"| {f.stem} | {phase} {name} | {loaded:.3f} | {base:.3f} | {loaded - base:+.3f} |")
PY
