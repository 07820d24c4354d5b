#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: set up, build, make a sample SQLite database, and ask it for rates.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DPRKL_BUILD_TESTS=OFF -DPRKL_BUILD_BENCH=OFF
db=sqlite:build/sample.db
rm -f build/sample.db build/sample.db-wal build/sample.db-shm
build/prkl --db "$db" generate --seed 1 --ports 200 --lanes 2000 --days 31 --first-day 2024-01-01
echo
echo "\$ prkl --db $db rates --from 2024-01-01 --to 2024-01-10 --origin china_main --destination north_europe --format table"
build/prkl --db "$db" rates --from 2024-01-01 --to 2024-01-10 --origin china_main \
  --destination north_europe --format table
