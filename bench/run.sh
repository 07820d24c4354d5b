#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every comparison in docs/benchmarks.md, in one run on this machine: builds prkl, starts a
# throwaway PostgreSQL (fsync on, as in production), builds each data set with the generator
# (and reads the real dump), runs build/bench/prkl_bench, bench/http_bench.sh,
# bench/flask_ceiling.sh, bench/replica_bench.py (a primary and its hot standby),
# bench/contracts_bench.py and bench/writers_bench.py (one writer against four), and writes
# docs/benchmarks.md and docs/benchmarks.png with the figures, the machine and the date.
#   bench/run.sh           the full run (about 20 minutes)
#   bench/run.sh --smoke   small data, every measurement checked for correctness, not speed;
#                          the report goes to a temporary directory (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
[ "${1:-}" = "--smoke" ] && mode=smoke
build=${BUILD_DIR:-build}
scripts/setup.sh --all
BUILD_DIR=$build scripts/build.sh -DPRKL_BUILD_BENCH=ON -DPRKL_BUILD_PYTHON=ON >/dev/null

data=${PRKL_XENETA_DIR:-}
for candidate in "$data" ../shared/data/xeneta /work/shared/data/xeneta; do
  if [ -n "$candidate" ] && [ -f "$candidate/ratestask-2016.sql" ]; then data=$(cd "$candidate" && pwd); break; fi
done
[ -f "$data/ratestask-2016.sql" ] || { echo "run.sh: the Xeneta dumps were not found; set PRKL_XENETA_DIR" >&2; exit 1; }
dump=$data/ratestask-2016.sql

work=$(mktemp -d /tmp/prkl-bench-XXXXXX)
trap 'tests/postgres/server.sh stop "$work/pg"; rm -rf "$work"' EXIT
PRKL_PG_OPTIONS="-c shared_buffers=1GB -c max_wal_size=8GB" tests/postgres/server.sh start "$work/pg" >/dev/null
server=$(cat "$work/pg/conninfo")
results=$work/results.jsonl
bench() { echo "prkl_bench $*" >&2; "$build/bench/prkl_bench" --pg "$server" --work "$work" "$@" >>"$results"; }
replicas() {
  echo "replica_bench.py $*" >&2
  PYTHONPATH=$build/python /usr/bin/python3 bench/replica_bench.py --dump "$dump" --results "$results" "$@" >&2
}

writers() {
  echo "writers_bench.py $*" >&2
  PYTHONPATH=$build/python /usr/bin/python3 bench/writers_bench.py --prkl "$build/prkl" --results "$results" "$@" >&2
}

contracts() {
  echo "contracts_bench.py $*" >&2
  PYTHONPATH=$build/python /usr/bin/python3 bench/contracts_bench.py --dump "$dump" --pg "$server" --results "$results" "$@" >&2
}

started=$(date +%s)
if [ "$mode" = smoke ]; then
  bench --data real --dump "$dump" --writes --readers --smoke
  bench --data 300 --writes --readers --smoke
  RESULTS=$results bench/http_bench.sh "$build" 2 >&2
  RESULTS=$results bench/flask_ceiling.sh --smoke "$build" >&2
  replicas --smoke
  contracts --smoke
  writers --smoke
  /usr/bin/python3 bench/memory_bench.py --prkl "$build/prkl" --dump "$dump" --smoke >&2
  out=$work/report
else
  # HTTP first, while the machine's page cache holds nothing of the big data sets.
  RESULTS=$results bench/http_bench.sh "$build" 15 >&2
  RESULTS=$results bench/flask_ceiling.sh "$build" 5 3 >&2
  bench --data real --dump "$dump" --writes --readers
  bench --data 900                        # 1M prices
  bench --data 9000 --writes --readers    # 10M prices
  bench --data 27000 --no-pg              # 30M prices, SQLite only
  replicas
  contracts
  writers
  out=docs
fi
mkdir -p "$out"
/usr/bin/python3 bench/report.py "$results" "$out" "bench/run.sh${1:+ $1}" "$(( $(date +%s) - started ))"
echo "run.sh: wrote $out/benchmarks.md and $out/benchmarks.png"
