#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The reliability regimes at full size, on both backends: the crash loop (200 kills each) and the
# soak (60 s of 8 readers and 2 writers each); then the failover of a Patroni cluster's leader
# under 4 writers and 4 readers (30 s before the kill, 30 s after the writers resumed). Starts its own PostgreSQL server and stops it.
# Needs a build with the Python module (BUILD_DIR, default build). Figures go to stdout;
# docs/reliability.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=$(cd "${BUILD_DIR:-build}" && pwd)
server=$(mktemp -d /tmp/prkl-regimes-XXXXXX)
trap 'tests/postgres/server.sh stop "$server" >/dev/null 2>&1 || true; rm -rf "$server"' EXIT
tests/postgres/server.sh start "$server" >/dev/null
export PRKL_TEST_PG_CONNINFO_FILE=$server/conninfo PYTHONPATH=$build_dir/python
status=0
for backend in sqlite postgresql; do
  /usr/bin/python3 tests/regimes/crash_loop.py --backend "$backend" --iterations "${ITERATIONS:-200}" || status=1
  /usr/bin/python3 tests/regimes/soak.py --backend "$backend" --seconds "${SECONDS_PER_SOAK:-60}" || status=1
done
/usr/bin/python3 tests/regimes/failover.py --writers 4 --readers 4 --before "${FAILOVER_BEFORE:-30}" \
  --after "${FAILOVER_AFTER:-30}" || status=1
exit $status
