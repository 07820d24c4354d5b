#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `pip install --no-build-isolation .` into a fresh virtualenv made with --system-site-packages,
# offline, as the README says; then the installed package imports, reports its version through
# importlib.metadata and answers a query.
#   pip_install.sh SOURCE_DIR WORK_DIR VERSION
set -euo pipefail
source_dir=$1 work=$2 version=$3
rm -rf "$work"
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install --quiet --no-build-isolation --no-index "$source_dir"
cd "$work"  # not the source tree, whose bindings/python/prkl has no compiled module
"$work/venv/bin/python" - "$version" <<'PY'
import importlib.metadata
import sys

import prkl

assert importlib.metadata.version("prkl") == sys.argv[1] == prkl.__version__, prkl.__version__
assert "/venv/" in prkl.__file__, prkl.__file__
with prkl.connect("sqlite::memory:", create=True) as db:
    assert db.ports() == [] and db.backend == "sqlite"
print(f"prkl {prkl.__version__} installed by pip at {prkl.__file__}")
PY
