#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Requests per second for GET /rates (a region-to-region month on the real data) under wrk:
# the Flask example on prkl (PostgreSQL and SQLite) next to a plain Flask + psycopg2 app running
# the SQL itself and a Flask endpoint returning the same answer as a constant (the ceiling), on
# the same PostgreSQL database, same gunicorn settings, same run. With RESULTS=FILE, one JSON
# line per app is appended to FILE.
#   bench/http_bench.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-15}
dump=${PRKL_XENETA_DIR:-../shared/data/xeneta}/ratestask-2016.sql
work=$(mktemp -d /tmp/prkl-http-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  tests/postgres/server.sh stop "$work"
  rm -rf "$work"
}
trap cleanup EXIT
tests/postgres/server.sh start "$work" >/dev/null
server=$(cat "$work/conninfo")
pg="${server% dbname=*} dbname=rates"
psql -X -q "$server" -c "CREATE DATABASE rates"
psql -X -q -v ON_ERROR_STOP=1 "$pg" -f "$dump" >/dev/null
"$build/prkl" --db "$pg" init >/dev/null
"$build/prkl" --db "sqlite:$work/rates.db" import-dump "$dump" >/dev/null

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start() {  # NAME PORT DIR TARGET ENV...
  local name=$1 port=$2 dir=$3 target=$4
  shift 4
  env "$@" PYTHONPATH="$build/python" /usr/bin/python3 -m gunicorn -w 2 --threads 4 \
    --chdir "$dir" -b "127.0.0.1:$port" "$target" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/rates?date_from=2016-01-01&date_to=2016-01-02&origin=CNSGH&destination=NLRTM" >/dev/null && return; sleep 0.2; done
  cat "$work/$name.log" >&2; exit 1
}
query="/rates?date_from=2016-01-01&date_to=2016-01-31&origin=china_main&destination=northern_europe"
p1=$(free_port); start prkl-pg "$p1" examples/flask 'app:create_app()' PRKL_DB="$pg"
p2=$(free_port); start prkl-sqlite "$p2" examples/flask 'app:create_app()' PRKL_DB="sqlite:$work/rates.db"
p3=$(free_port); start plain "$p3" bench 'plain_flask_app:app' PLAIN_DSN="$pg"
curl -sf "http://127.0.0.1:$p2$query" >"$work/answer.json"
p4=$(free_port); start constant "$p4" bench 'constant_flask_app:app' CONSTANT_ANSWER="$work/answer.json"

# Same answer from all three before any timing.
a=$(curl -sf "http://127.0.0.1:$p1$query"); b=$(curl -sf "http://127.0.0.1:$p2$query"); c=$(curl -sf "http://127.0.0.1:$p3$query")
norm() { python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read()), sort_keys=True))'; }
[ "$(echo "$a" | norm)" = "$(echo "$c" | norm)" ] && [ "$(echo "$b" | norm)" = "$(echo "$c" | norm)" ] ||
  { echo "answers differ:" >&2; echo "$a" | head -c 600 >&2; echo >&2; echo "$c" | head -c 600 >&2; exit 1; }

# Varnish (examples/varnish/prkl.vcl) in front of the example on SQLite, answers kept 1 s.
p5=$(free_port); start prkl-cached "$p5" examples/flask 'app:create_app()' PRKL_DB="sqlite:$work/rates.db" \
  PRKL_CACHE_CONTROL="public, max-age=1"
p6=$(free_port)
sed "s/.port = \"8000\";/.port = \"$p5\";/" examples/varnish/prkl.vcl >"$work/prkl.vcl"
/usr/sbin/varnishd -F -j none -n "$work/varnish" -a "127.0.0.1:$p6" -T 127.0.0.1:0 -f "$work/prkl.vcl" \
  -s malloc,64m >"$work/varnish.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$p6$query" >/dev/null && break; sleep 0.2; done

rps() { wrk -t 2 -c 16 -d "${seconds}s" "http://127.0.0.1:$1$query" | awk '/Requests\/sec/ {print $2}'; }
ceiling=$(rps "$p4"); plain=$(rps "$p3"); on_pg=$(rps "$p1"); on_sqlite=$(rps "$p2")
cached=$(rps "$p6")
hit_ratio=$(varnishstat -n "$work/varnish" -1 -f MAIN.cache_hit -f MAIN.cache_miss |
  awk '/cache_hit/ {h=$2} /cache_miss/ {m=$2} END {if (h + m > 0) printf "%.4f", h / (h + m); else print 0}')
echo "GET $query, wrk -t2 -c16 -d${seconds}s, gunicorn -w 2 --threads 4 (2-core machine)"
printf '  %-40s %10s req/s\n' "Flask returning a constant answer" "$ceiling" \
  "plain Flask + psycopg2 + recursive CTE" "$plain" \
  "Flask + prkl on PostgreSQL" "$on_pg" "Flask + prkl on SQLite" "$on_sqlite" \
  "Varnish + Flask + prkl on SQLite" "$cached"
echo "  Varnish hit ratio: $hit_ratio"
python3 - "$ceiling" "$plain" "$on_pg" "$on_sqlite" "$cached" "$hit_ratio" "${RESULTS:-}" <<'PY'
import json, sys
ceiling, plain, on_pg, on_sqlite, cached, hit_ratio = map(float, sys.argv[1:7])
for name, rps in (("PostgreSQL", on_pg), ("SQLite", on_sqlite)):
    print(f"  prkl on {name}: {rps / ceiling:.0%} of the ceiling, {rps / plain:.1f}x the plain app")
print(f"  through Varnish: {cached / on_sqlite:.1f}x the same app alone")
if sys.argv[7]:
    with open(sys.argv[7], "a") as out:
        for app, rps in (("constant", ceiling), ("plain_psycopg2", plain),
                         ("prkl_postgresql", on_pg), ("prkl_sqlite", on_sqlite),
                         ("varnish_prkl_sqlite", cached)):
            record = {"what": "http", "data": "real", "app": app, "rps": rps}
            if app.startswith("varnish"):
                record["hit_ratio"] = hit_ratio
            out.write(json.dumps(record) + "\n")
PY
