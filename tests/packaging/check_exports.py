# SPDX-License-Identifier: MIT
"""Checks what a shared libprkl exports: prkl's public API and nothing else (no fmt, nlohmann,
Boost, std template instances or prkl::detail), and that its soname carries MAJOR.MINOR while the
major version is 0.

    check_exports.py LIBRARY VERSION
"""

import re
import subprocess
import sys


def main():
    library, version = sys.argv[1], sys.argv[2]
    major, minor, _ = version.split(".")
    symbols = subprocess.run(["nm", "-D", "--defined-only", "-C", library], check=True,
                             capture_output=True, text=True).stdout.splitlines()
    names = [line.split(" ", 2)[2] for line in symbols if line.strip()]
    problems = []
    prkl_api = re.compile(r"^(typeinfo for |typeinfo name for |vtable for )?prkl::")
    for name in names:
        if not prkl_api.match(name):
            problems.append(f"exports a symbol outside prkl: {name[:160]}")
        elif "prkl::detail::" in name.split("(")[0]:
            problems.append(f"exports an internal symbol: {name[:160]}")
    # The API a user reaches for must be there, exceptions' type information included (catching
    # prkl::Error in a program relies on it).
    for wanted in ["prkl::version()", "prkl::Database::rates(prkl::RatesQuery const&)",
                   "prkl::Database::open(", "prkl::open_store(", "prkl::parse_date(",
                   "typeinfo for prkl::Error", "typeinfo for prkl::StorageError",
                   "typeinfo for prkl::Store", "vtable for prkl::ValidationFailed"]:
        if not any(name.startswith(wanted) for name in names):
            problems.append(f"does not export {wanted}")
    dynamic = subprocess.run(["objdump", "-p", library], check=True, capture_output=True,
                             text=True).stdout
    soname = re.search(r"SONAME\s+(\S+)", dynamic)
    want = f"libprkl.so.{major}.{minor}" if major == "0" else f"libprkl.so.{major}"
    if not soname or soname.group(1) != want:
        problems.append(f"soname {soname.group(1) if soname else None}, want {want}")
    for problem in problems:
        print(problem)
    print(f"{len(names)} exported symbols, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
