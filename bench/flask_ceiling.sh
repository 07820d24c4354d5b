#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# How close the Flask example on prkl comes to Flask's own ceiling, side by side in one run:
# GET /rates for a region-to-region month of the real dump (china_main -> north_europe_main,
# January 2016) from four apps under the same gunicorn settings (-w 2 --threads 4), loaded by
# wrk (-t1 -c16) on loopback, each for SECONDS at a time, in ROUNDS rounds that take the apps in
# turn; the figure per app is its median over the rounds, and its share of the ceiling the
# median of its rounds' shares (each round's req/s over the ceiling's in the same round, taken
# seconds apart), which a change of load on the machine during the run moves least.
#   ceiling   bench/constant_flask_app.py: the same answer as a constant, no data access
#   plain     bench/plain_flask_app.py: Flask + psycopg2 running the recursive-CTE SQL
#   sqlite    examples/flask/app.py on prkl, SQLite
#   postgres  examples/flask/app.py on prkl, PostgreSQL
# Every app's answer is checked against the plain SQL's before any timing. The machine this was
# written for has 2 cores: wrk's one thread and gunicorn's two workers share them, and nothing
# is pinned. With RESULTS=FILE, one JSON line per app is appended to FILE. With BASELINE=DIR
# (DIR/python a build's Python package, DIR/flask the Flask example of the same version), that
# version runs too, on both backends, in the same rounds: before and after in one run.
#   bench/flask_ceiling.sh [BUILD_DIR] [SECONDS] [ROUNDS]     defaults: build 5 3
#   bench/flask_ceiling.sh --smoke [BUILD_DIR]   answers checked (ETag and 304 too), 1 s per
#                                                app, no speed asserted (bench/run.sh --smoke)
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
build=${1:-build}
seconds=${2:-5}
rounds=${3:-3}
if [ "$smoke" = 1 ]; then seconds=1; rounds=1; fi
build=$(cd "$build" && pwd)
data=${PRKL_XENETA_DIR:-}
for candidate in "$data" ../shared/data/xeneta /work/shared/data/xeneta; do
  if [ -n "$candidate" ] && [ -f "$candidate/ratestask-2016.sql" ]; then data=$(cd "$candidate" && pwd); break; fi
done
dump=$data/ratestask-2016.sql
[ -f "$dump" ] || { echo "flask_ceiling.sh: the Xeneta dump was not found; set PRKL_XENETA_DIR" >&2; exit 1; }
for tool in wrk psql; do
  command -v "$tool" >/dev/null || { echo "flask_ceiling.sh: $tool is not installed (scripts/setup.sh)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/prkl-ceiling-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  tests/postgres/server.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
tests/postgres/server.sh start "$work/pg" >/dev/null
server=$(cat "$work/pg/conninfo")
pg="${server% dbname=*} dbname=rates"
psql -X -q "$server" -c "CREATE DATABASE rates"
psql -X -q -v ON_ERROR_STOP=1 "$pg" -f "$dump" >/dev/null
"$build/prkl" --db "$pg" init >/dev/null
"$build/prkl" --db "sqlite:$work/rates.db" import-dump "$dump" >/dev/null

query="/rates?date_from=2016-01-01&date_to=2016-01-31&origin=china_main&destination=north_europe_main"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
declare -A port
start() {  # NAME DIR TARGET PYTHONPATH ENV...
  local name=$1 dir=$2 target=$3 path=$4
  shift 4
  port[$name]=$(free_port)
  env "$@" PYTHONPATH="$path" /usr/bin/python3 -m gunicorn -w 2 --threads 4 \
    --chdir "$dir" -b "127.0.0.1:${port[$name]}" "$target" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 150); do
    curl -sf "http://127.0.0.1:${port[$name]}/rates?date_from=2016-01-01&date_to=2016-01-02&origin=CNSGH&destination=NLRTM" >/dev/null && return
    sleep 0.2
  done
  cat "$work/$name.log" >&2; exit 1
}
apps=(ceiling plain sqlite postgres)
start plain bench plain_flask_app:app "$build/python" PLAIN_DSN="$pg"
start sqlite examples/flask 'app:create_app()' "$build/python" PRKL_DB="sqlite:$work/rates.db"
start postgres examples/flask 'app:create_app()' "$build/python" PRKL_DB="$pg"
if [ -n "${BASELINE:-}" ]; then
  apps+=(sqlite-before postgres-before)
  start sqlite-before "$BASELINE/flask" 'app:create_app()' "$BASELINE/python" PRKL_DB="sqlite:$work/rates.db"
  start postgres-before "$BASELINE/flask" 'app:create_app()' "$BASELINE/python" PRKL_DB="$pg"
fi
curl -sf "http://127.0.0.1:${port[plain]}$query" >"$work/answer.json"
start ceiling bench constant_flask_app:app "$build/python" CONSTANT_ANSWER="$work/answer.json"

# The same answer from every app, and one worth measuring (prices on most days).
python3 - "$work/answer.json" "$query" "$smoke" "${port[ceiling]}" \
  $(for app in "${apps[@]:2}"; do echo "${port[$app]}"; done) <<'PY'
import json, sys, urllib.request, urllib.error
expected = json.load(open(sys.argv[1]))
assert len(expected) == 31 and sum(d["average_price"] is not None for d in expected) >= 20, expected
query, smoke = sys.argv[2], sys.argv[3] == "1"
for port in sys.argv[4:]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{query}") as r:
        got, etag = json.load(r), r.headers.get("ETag")
    assert got == expected, (port, got[:3], expected[:3])
    if smoke and port != sys.argv[4]:
        # The tag answers If-None-Match with an empty 304.
        assert etag, port
        try:
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{query}",
                                                          headers={"If-None-Match": etag}))
            raise AssertionError(f"port {port}: no 304 for its own ETag")
        except urllib.error.HTTPError as e:
            assert e.code == 304, (port, e.code)
print(f"flask_ceiling.sh: the {len(sys.argv) - 3} apps give the same answer")
PY

rps() { wrk -t 1 -c 16 -d "${seconds}s" "http://127.0.0.1:${port[$1]}$query" | awk '/Requests\/sec/ {print $2}'; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$work/rps"
for round in $(seq "$rounds"); do
  for app in "${apps[@]}"; do echo "$app $(rps "$app")" >>"$work/rps"; done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$work/rps" "$seconds" "$rounds" "$load_before" "$load_after" "${RESULTS:-}" "$smoke" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    app, rps = line.split()
    runs.setdefault(app, []).append(float(rps))
seconds, rounds, before, after, results, smoke = sys.argv[2:8]
median = {app: statistics.median(values) for app, values in runs.items()}
share = {app: statistics.median(v / c for v, c in zip(values, runs["ceiling"]))
         for app, values in runs.items()}
print(f"GET /rates china_main -> north_europe_main, January 2016 (real dump); gunicorn -w 2 "
      f"--threads 4, wrk -t1 -c16 -d{seconds}s, {rounds} round(s), median; 2-core machine, "
      f"nothing pinned; load average {before} before, {after} after")
names = {"ceiling": "Flask, constant answer (ceiling)",
         "plain": "plain Flask + psycopg2 + recursive CTE",
         "sqlite": "Flask example on prkl, SQLite", "postgres": "Flask example on prkl, PostgreSQL",
         "sqlite-before": "the same, SQLite, BASELINE version",
         "postgres-before": "the same, PostgreSQL, BASELINE version"}
for app in runs:
    each = " ".join(f"{v:.0f}" for v in runs[app])
    print(f"  {names[app]:<40} {median[app]:>9.0f} req/s  {share[app]:>5.0%}"
          f" of the ceiling  (rounds: {each})")
if smoke == "1":
    assert all(v > 0 for v in median.values()), median  # answers, not speed
if results:
    with open(results, "a") as out:
        for app in runs:
            out.write(json.dumps({"what": "flask_ceiling", "app": app, "rps": median[app],
                                  "share": share[app],
                                  "rounds": runs[app], "seconds": float(seconds),
                                  "load_before": before, "load_after": after}) + "\n")
PY
