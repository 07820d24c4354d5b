#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: set up, build, make a sample SQLite database, and ask it for rates. The build's
# output goes to build/demo-build.log, shown only if the build fails.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "demo.sh: installing what the build needs from Debian 12 (scripts/setup.sh)"
scripts/setup.sh >/dev/null
mkdir -p build
echo "demo.sh: building the library, the prkl tool and the Python module (a few minutes; log: build/demo-build.log)"
if ! scripts/build.sh -DPRKL_BUILD_TESTS=OFF -DPRKL_BUILD_BENCH=OFF >build/demo-build.log 2>&1; then
  tail -n 40 build/demo-build.log >&2
  echo "demo.sh: the build failed; the whole log is build/demo-build.log" >&2
  exit 1
fi
db=sqlite:build/sample.db
rm -f build/sample.db build/sample.db-wal build/sample.db-shm
build/prkl --db "$db" generate --seed 1 --ports 200 --lanes 2000 --days 31 --first-day 2024-01-01
echo
echo "\$ prkl --db $db rates --from 2024-01-01 --to 2024-01-10 --origin china_main --destination north_europe --format table"
build/prkl --db "$db" rates --from 2024-01-01 --to 2024-01-10 --origin china_main \
  --destination north_europe --format table
