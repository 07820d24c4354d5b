# SPDX-License-Identifier: MIT
"""The installed Python package: imports from the install prefix and finds the installed libprkl."""

import prkl

db = prkl.connect("sqlite::memory:", create=True)
assert db.ports() == [], db.ports()
assert prkl.__file__.startswith(__import__("sys").argv[1]), prkl.__file__
print("python: prkl", prkl.__version__, "from", prkl.__file__)
