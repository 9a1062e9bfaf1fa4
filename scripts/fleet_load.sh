#!/usr/bin/env bash
# `pinfer bench load` against a fleet on a private, throwaway PostgreSQL (issue 17): initdb into
# a fresh folder under /tmp, the server listening only on a Unix socket there (no TCP port), as
# the tests do (tests/cluster/private_postgres.hpp; as root, initdb and pg_ctl run as the
# `postgres` user the Debian package creates). Every argument goes to `pinfer bench load`, e.g.
#
#   scripts/fleet_load.sh --nodes 3 --clients 64 --requests 256 --protocol client-garbler
#
# The raw output of each run is kept in docs/perf/raw/fleet/<date>_<n>.txt (the command, the date
# and load average, then what it printed) when PINFER_FLEET_RAW=1. Needs a build
# (scripts/build.sh) and the postgresql package (scripts/install-deps.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pinfer=${PINFER_BUILD_DIR:-$root/build}/src/cli/pinfer
bindir=${PINFER_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$bindir/initdb" ] || { echo "no initdb: install the Debian package postgresql" >&2; exit 1; }
dir=$(mktemp -d /tmp/pinfer-fleet-pg-XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_pg=(/usr/sbin/runuser -u postgres --)
fi
cleanup() {
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U pinfer -E UTF8 --no-sync \
  --no-instructions >"$dir/initdb.log" 2>&1
"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses='' -k $dir -p 5432 -c fsync=off -c max_connections=100" start >/dev/null
url="postgresql://pinfer@/postgres?host=$dir&port=5432"
cmd=("$pinfer" bench load --cluster "$url" "$@")
if [ "${PINFER_FLEET_RAW:-0}" = 1 ]; then
  out=$root/docs/perf/raw/fleet
  mkdir -p "$out"
  n=1
  while [ -e "$out/$(date -u +%F)_$n.txt" ]; do n=$((n + 1)); done
  f=$out/$(date -u +%F)_$n.txt
  {
    echo "scripts/fleet_load.sh $*"
    echo "$(date -u '+%F %T UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    "${cmd[@]}"
  } | tee "$f"
else
  "${cmd[@]}"
fi
