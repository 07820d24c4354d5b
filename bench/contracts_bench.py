# SPDX-License-Identifier: MIT
"""Applying contracts against applying day prices: 100k one-year contracts (one stored row each,
counted on 365 days) beside 100k day prices, each batch into a fresh copy of the real dump, on
SQLite and on PostgreSQL; then the band of a region month with those contracts beside the same
question without them.

    python3 bench/contracts_bench.py --dump ../shared/data/xeneta/ratestask-2016.sql \\
        --pg "$(cat /tmp/pg/conninfo)" [--rows 100000] [--smoke] [--results results.jsonl]

Prints a Markdown table, and appends a JSON line per figure to --results (bench/run.sh's report
reads them)."""

import argparse
import json
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import prkl

FIRST = "2016-01-01"


def lanes_of(db):
    ports = [p.code for p in db.ports(limit=1000)]
    rng = random.Random(5)
    return [(rng.choice(ports), rng.choice(ports)) for _ in range(2000)]


def day_rows(lanes, n, rng):
    return [(o, d, f"2016-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}", rng.randint(500, 5000))
            for o, d in (rng.choice(lanes) for _ in range(n))]


def contract_rows(lanes, n, rng):
    rows = []
    for _ in range(n):
        o, d = rng.choice(lanes)
        month = rng.randint(1, 12)
        rows.append({"origin": o, "destination": d, "valid_from": f"2016-{month:02}-01",
                     "valid_to": f"2017-{month:02}-01" if month > 1 else "2016-12-31",
                     "price": rng.randint(500, 5000), "term": "long"})
    return rows


def fresh_store(backend, dump, server, name, work):
    if backend == "sqlite":
        url = f"sqlite:{work}/{name}.db"
    else:
        base = server.rsplit(" dbname=", 1)[0]
        subprocess.run(["psql", server, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", server, "-qc", f"CREATE DATABASE {name}"], check=True)
        url = f"{base} dbname={name}"
    db = prkl.connect(url, create=True, max_batch_prices=1_000_000)
    db.import_dump(dump)
    return db


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dump", required=True)
    parser.add_argument("--pg", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--results", help="append JSON lines here")
    args = parser.parse_args()
    rows = 2_000 if args.smoke else args.rows
    results = []
    with tempfile.TemporaryDirectory() as work:
        for backend in ("sqlite", "postgresql"):
            for kind in ("day prices", "one-year contracts"):
                db = fresh_store(backend, args.dump, args.pg, f"prkl_contracts_bench_{len(results)}",
                                 work)
                rng = random.Random(9)
                lanes = lanes_of(db)
                batch = (day_rows if kind == "day prices" else contract_rows)(lanes, rows, rng)
                start = time.perf_counter()
                result = db.apply(batch, batch_id=kind)
                ms = (time.perf_counter() - start) * 1000
                assert result.prices == rows
                band = []
                for _ in range(3 if args.smoke else 21):
                    t = time.perf_counter()
                    db.market("2016-03-01", "2016-03-31", "china_main", "north_europe_main")
                    band.append((time.perf_counter() - t) * 1000)
                results.append({"what": "contracts_apply", "backend": backend, "kind": kind,
                                "rows": rows, "ms": round(ms, 1),
                                "band_ms": round(statistics.median(band), 2)})
    if args.results:
        with open(args.results, "a", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    print("\n| backend | batch | rows | apply | band of a region month after it |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['backend']} | {r['kind']} | {r['rows']:,} | {r['ms']:,.0f} ms | "
              f"{r['band_ms']:.2f} ms |")


if __name__ == "__main__":
    main()
