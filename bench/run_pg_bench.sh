#!/usr/bin/env bash
# Runs the PostgreSQL benchmark on a throwaway local server (started and stopped here), with
# PostgreSQL's default durability settings (fsync on).
#   bench/run_pg_bench.sh [BUILD_DIR] [bench arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
dir=$(mktemp -d /tmp/prkl-bench-XXXXXX)
PRKL_PG_OPTIONS="${PRKL_PG_OPTIONS:--c shared_buffers=1GB -c max_wal_size=8GB}" tests/postgres/server.sh start "$dir" >/dev/null
trap 'tests/postgres/server.sh stop "$dir"; rm -rf "$dir"' EXIT
conninfo=$(cat "$dir/conninfo")
psql -X -q "$conninfo" -c "CREATE DATABASE prkl_bench"
"$build/bench/prkl_bench_postgres" "${conninfo% dbname=*} dbname=prkl_bench" "$@"
