#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer harnesses with clang, ASan and UBSan into BUILD_DIR (default build-fuzz)
# and runs each for SECONDS (default 60), or for RUNS executions with --runs, one after another.
# The corpus of each grows in BUILD_DIR/corpus/<harness>, seeded from fuzz/seeds/<harness> and,
# for the dump reader, from samples of the real Xeneta dumps (never copied into the repository).
# Crashes are kept in BUILD_DIR/crashes; a summary line per harness goes to BUILD_DIR/summary.txt.
#   fuzz/run.sh [SECONDS | --runs N] [harness ...]     harnesses: dump csv_batch dates resolve store_url
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-fuzz}
limit=(-max_total_time=60)
if [ "${1:-}" = "--runs" ]; then limit=(-runs="$2"); shift 2
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then limit=(-max_total_time="$1"); shift; fi
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(dump csv_batch dates resolve store_url)

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPRKL_WERROR=ON \
  -DPRKL_BUILD_FUZZERS=ON -DPRKL_SANITIZE=ON -DBUILD_SHARED_LIBS=OFF -DPRKL_BUILD_TESTS=OFF -DPRKL_BUILD_BENCH=OFF \
  -DPRKL_BUILD_PYTHON=OFF -DPRKL_BUILD_CLI=OFF -DPRKL_INSTALL=OFF "${launcher[@]}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target $(printf 'fuzz_%s ' "${harnesses[@]}") >/dev/null

# Samples of the real dumps: every statement, and the first rows of each COPY block.
data=${PRKL_XENETA_DIR:-}
for candidate in "$data" ../shared/data/xeneta /work/shared/data/xeneta; do
  if [ -n "$candidate" ] && [ -f "$candidate/ratestask-2016.sql" ]; then data=$candidate; break; fi
done

mkdir -p "$build_dir/crashes"
: >"$build_dir/summary.txt"
status=0
for h in "${harnesses[@]}"; do
  corpus="$build_dir/corpus/$h"
  mkdir -p "$corpus"
  cp -n fuzz/seeds/"$h"/* "$corpus"/ 2>/dev/null || true
  if [ "$h" = dump ] && [ -f "$data/ratestask-2016.sql" ]; then
    for f in "$data"/*.sql; do
      awk '/^COPY .* FROM stdin;$/ {copy=1; rows=0; print; next}
           copy && /^\\\.$/ {copy=0}
           copy {if (rows++ < 20) print; next}
           {print}' "$f" >"$corpus/sample-$(basename "$f")"
    done
  fi
  dict=()
  [ -f "fuzz/$h.dict" ] && dict=(-dict="fuzz/$h.dict")
  log="$build_dir/fuzz_$h.log"
  if "$build_dir/fuzz/fuzz_$h" "$corpus" "${dict[@]}" "${limit[@]}" -max_len="${MAX_LEN:-4096}" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build_dir/crashes/$h-" \
      >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  seconds=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  line="$h: ${result}, ${runs:-?} executions in ${seconds:-?} s, corpus $(ls "$corpus" | wc -l) inputs"
  echo "$line" | tee -a "$build_dir/summary.txt"
  [ "$result" = ok ] || tail -40 "$log" >&2
done
exit $status
