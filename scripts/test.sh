#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every test: set up, build, run the suite; then the same under ASan and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

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
BUILD_DIR=build scripts/build.sh -DPRKL_XENETA_DIR="$data" -DPRKL_BUILD_TESTS=ON -DPRKL_BUILD_BENCH=ON \
  -DPRKL_WERROR=ON -DCMAKE_BUILD_TYPE=Release
(cd build && ctest --output-on-failure --timeout 900 -j "$jobs")
# The benchmarks' smoke pass: every measurement runs on small data and is checked for the right
# answer (not for speed), the report included.
PRKL_XENETA_DIR="$data" BUILD_DIR=build bench/run.sh --smoke >/dev/null

BUILD_DIR=build-asan scripts/build.sh -DPRKL_XENETA_DIR="$data" -DPRKL_BUILD_TESTS=ON -DPRKL_SANITIZE=ON \
  -DPRKL_BUILD_BENCH=OFF -DPRKL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ctest --output-on-failure --timeout 900 -j "$jobs")
# The fuzzers' smoke pass: each harness, built with clang, ASan and UBSan, for a few seconds on
# its seeds (fuzz/run.sh SECONDS runs them for longer).
PRKL_XENETA_DIR="$data" fuzz/run.sh "${PRKL_FUZZ_SECONDS:-10}"
echo "test.sh: all tests passed"
