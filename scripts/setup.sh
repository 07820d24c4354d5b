#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs everything prkl builds and tests with, from Debian 12's packages only.
set -euo pipefail
packages=(
  build-essential cmake ccache pkg-config clang-format clang libclang-rt-14-dev
  libsqlite3-dev sqlite3 libpq-dev postgresql pgbouncer
  libfmt-dev libboost-dev libcsv-dev libpg-query-dev nlohmann-json3-dev libcli11-dev catch2 libbenchmark-dev
  pybind11-dev python3-dev python3-pytest python3-flask python3-bottle python3-apispec python3-simplejson python3-venv python3-setuptools python3-wheel gunicorn
  python3-psycopg2 python3-matplotlib python3-pandas wrk curl doxygen zlib1g-dev help2man prometheus-cpp-dev python3-prometheus-client varnish
  nodejs time
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's npm, unless the nodejs installed brings its own (NodeSource's does, and conflicts).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The OpenAPI linter the tests run (@redocly/cli), at the versions tests/openapi/package-lock.json
# pins, into tests/openapi/node_modules.
lint_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/openapi"
if [ ! -x "$lint_dir/node_modules/.bin/redocly" ] ||
   [ "$lint_dir/package-lock.json" -nt "$lint_dir/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$lint_dir" --no-audit --no-fund
fi
