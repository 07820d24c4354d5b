#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what prkl builds with (and, with --all, tests with), from Debian 12's packages only.
set -euo pipefail
# What building prkl (library, tool, Python module) and serving the README's web apps needs:
# all scripts/demo.sh installs. With --all (scripts/test.sh, bench/run.sh), also what the tests,
# the benchmarks, the fuzzers and the docs need: servers, compilers, linters.
build_packages=(
  build-essential cmake ccache pkg-config
  libsqlite3-dev sqlite3 libpq-dev libfmt-dev libboost-dev libcsv-dev libpg-query-dev
  nlohmann-json3-dev libcli11-dev zlib1g-dev help2man prometheus-cpp-dev
  pybind11-dev python3-dev python3-flask python3-bottle python3-apispec python3-simplejson
  python3-prometheus-client gunicorn
)
test_packages=(
  clang-format clang libclang-rt-14-dev postgresql pgbouncer patroni etcd-server catch2
  libbenchmark-dev
  python3-pytest python3-venv python3-setuptools python3-wheel python3-psycopg2
  python3-matplotlib python3-pandas wrk curl doxygen varnish nodejs time
)
all=false
[ "${1:-}" = "--all" ] && all=true
packages=("${build_packages[@]}")
$all && packages+=("${test_packages[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's npm, unless the nodejs installed brings its own (NodeSource's does, and conflicts).
$all && { command -v npm >/dev/null 2>&1 || missing+=(npm); }
if ((${#missing[@]})); then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
$all || exit 0
# The OpenAPI linter the tests run (@redocly/cli), at the versions tests/openapi/package-lock.json
# pins, into tests/openapi/node_modules.
lint_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/openapi"
if [ ! -x "$lint_dir/node_modules/.bin/redocly" ] ||
   [ "$lint_dir/package-lock.json" -nt "$lint_dir/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$lint_dir" --no-audit --no-fund
fi
