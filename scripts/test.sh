#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every test: set up, build, run the suite; the core alone on SQLite; then the same suite under
# ASan and UBSan; then the fuzzers' smoke pass. About 40 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { echo "test.sh: [$(( ($(date +%s) - started) / 60 )) min] $*"; }
step "installing what the tests need (scripts/setup.sh --all)"
scripts/setup.sh --all

# The real Xeneta dumps live beside the checkout; the tests fail, not skip, without them.
data=${PRKL_XENETA_DIR:-}
for candidate in "$data" ../shared/data/xeneta /work/shared/data/xeneta; do
  if [ -n "$candidate" ] && [ -f "$candidate/ratestask-2016.sql" ]; then data=$(cd "$candidate" && pwd); break; fi
done
if [ ! -f "$data/ratestask-2016.sql" ]; then
  echo "test.sh: the Xeneta dumps were not found; set PRKL_XENETA_DIR" >&2
  exit 1
fi

jobs=$(nproc)
# Release, as the README's build: GCC warns at -O3 where it does not at -O2.
step "building (Release, warnings as errors) into build/"
BUILD_DIR=build scripts/build.sh -DPRKL_XENETA_DIR="$data" -DPRKL_BUILD_TESTS=ON -DPRKL_BUILD_BENCH=ON \
  -DPRKL_WERROR=ON -DCMAKE_BUILD_TYPE=Release
step "running the suite (about 15 minutes)"
(cd build && ctest --output-on-failure --timeout 900 -j "$jobs")
# The benchmarks' smoke pass: every measurement runs on small data and is checked for the right
# answer (not for speed), the report included.
step "the benchmarks' smoke pass"
PRKL_XENETA_DIR="$data" BUILD_DIR=build bench/run.sh --smoke >/dev/null

# The core alone: SQLite, no metrics, no dump reader, no tool or bindings, and the tests that
# need no server and no data.
step "building the core alone (SQLite only) into build-core/ and running 'ctest -L unit'"
BUILD_DIR=build-core scripts/build.sh -DPRKL_WITH_POSTGRES=OFF -DPRKL_WITH_METRICS=OFF \
  -DPRKL_WITH_DUMP=OFF -DPRKL_BUILD_CLI=OFF -DPRKL_BUILD_PYTHON=OFF -DPRKL_BUILD_BENCH=OFF \
  -DPRKL_BUILD_TESTS=ON -DPRKL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
(cd build-core && ctest --output-on-failure -L unit -j "$jobs")

step "building with ASan and UBSan into build-asan/"
BUILD_DIR=build-asan scripts/build.sh -DPRKL_XENETA_DIR="$data" -DPRKL_BUILD_TESTS=ON -DPRKL_SANITIZE=ON \
  -DPRKL_BUILD_BENCH=OFF -DPRKL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug
step "running the suite under ASan and UBSan (about 20 minutes)"
(cd build-asan && ctest --output-on-failure --timeout 900 -j "$jobs")
# The fuzzers' smoke pass: each harness, built with clang, ASan and UBSan, for a few seconds on
# its seeds (fuzz/run.sh SECONDS runs them for longer).
step "building the fuzzers with clang and running each for ${PRKL_FUZZ_SECONDS:-10} s"
PRKL_XENETA_DIR="$data" fuzz/run.sh "${PRKL_FUZZ_SECONDS:-10}"
step "all tests passed"
