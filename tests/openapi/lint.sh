#!/bin/sh
# SPDX-License-Identifier: MIT
# CTest "openapi: redocly lint": the Flask example's GET /openapi.json, linted by @redocly/cli
# (pinned in package.json and package-lock.json here) with its recommended rules, warnings as
# errors. Fails, never skips, when the linter is not installed.
#   lint.sh PYTHON PYTHONPATH WORK_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=$1 pythonpath=$2 work=$3
redocly=$here/node_modules/.bin/redocly
if ! command -v node >/dev/null 2>&1 || [ ! -x "$redocly" ]; then
  echo "openapi lint: node or $redocly is missing: install Debian's nodejs and npm, then run" \
       "'npm ci --prefix tests/openapi' (scripts/setup.sh does both)" >&2
  exit 1
fi
rm -rf "$work"
mkdir -p "$work"
PYTHONPATH="$pythonpath:$here/../../examples/flask" "$python" - "$work/openapi.json" <<'PY'
import sys
from app import create_app

response = create_app("sqlite::memory:").test_client().get("/openapi.json")
assert response.status_code == 200, response.status_code
with open(sys.argv[1], "wb") as out:
    out.write(response.get_data())
PY
# The configuration and the ignore file apply to the files beside them.
cp "$here/redocly.yaml" "$here/.redocly.lint-ignore.yaml" "$work/"
cd "$work"
exec "$redocly" lint --format=stylish openapi.json
