# SPDX-License-Identifier: MIT
"""Reads from a hot standby against reads from the primary, same run.

    PYTHONPATH=build/python python3 bench/replica_bench.py --dump ratestask-2016.sql [--smoke]
        [--results results.jsonl]

Starts a primary and a pg_basebackup -R standby on loopback (tests/postgres/server.sh, fsync on),
loads the dump, and times through prkl.connect(primary) and prkl.connect(primary,
read_url=standby), in alternating blocks:
  - the region -> region month question, warm (no write of this process pending);
  - the first read after a one-row batch applied through the same Database, which on the
    standby waits for it to replay the batch (read-your-writes).
Every answer is checked against the primary's before it is timed. Prints a table and appends one
JSON line per figure to --results (bench/run.sh's report reads them).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import prkl

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "postgres" / "server.sh"
QUESTION = ("2016-01-01", "2016-01-31", "china_main", "northern_europe")


def server(*args, env=None):
    subprocess.run(["bash", str(SERVER), *map(str, args)], check=True, capture_output=True,
                   env=env, timeout=300)


def psql(conninfo, sql):
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", conninfo, "-c", sql], check=True,
                          capture_output=True, text=True, timeout=120).stdout.strip()


def timed(call):
    started = time.perf_counter()
    answer = call()
    return (time.perf_counter() - started) * 1000, answer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dump", required=True)
    parser.add_argument("--smoke", action="store_true", help="few calls: checks, not figures")
    parser.add_argument("--results", help="append JSON lines here")
    args = parser.parse_args()
    blocks, per_block, writes = (2, 5, 4) if args.smoke else (10, 50, 100)

    env = dict(os.environ, PRKL_PG_OPTIONS="-c shared_buffers=256MB")
    env.pop("LD_PRELOAD", None)
    with tempfile.TemporaryDirectory(prefix="prkl-replica-bench-") as work:
        primary_dir, standby_dir = Path(work) / "primary", Path(work) / "standby"
        server("start", primary_dir, env=env)
        try:
            server("standby", primary_dir, standby_dir, env=env)
            try:
                primary = (primary_dir / "conninfo").read_text().strip()
                standby = (standby_dir / "conninfo").read_text().strip()
                results = measure(primary, standby, args.dump, blocks, per_block, writes)
            finally:
                server("stop", standby_dir, env=env)
        finally:
            server("stop", primary_dir, env=env)

    print("| measure | primary | standby (read URL) | standby / primary |")
    print("|---|---|---|---|")
    for r in results:
        print(f"| {r['measure']} | {r['primary_median_ms']:.3f} ms | "
              f"{r['standby_median_ms']:.3f} ms | {r['ratio']:.2f} |")
    if args.results:
        with open(args.results, "a", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps({"what": "replica", "smoke": args.smoke, **r}) + "\n")


def measure(primary, standby, dump, blocks, per_block, writes):
    prkl.connect(primary, create=True).import_dump(dump)
    on_primary = prkl.connect(primary, pool_size=1)
    on_standby = prkl.connect(primary, read_url=standby, pool_size=1)
    expected = on_primary.rates(*QUESTION)
    # The load is this process's write: the first read waits for the standby to replay it.
    if on_standby.rates(*QUESTION) != expected:
        sys.exit("replica_bench: the standby answers differently from the primary")

    times = {"primary": [], "standby": []}
    for _ in range(blocks):
        for name, db in (("primary", on_primary), ("standby", on_standby)):
            for _ in range(per_block):
                ms, answer = timed(lambda: db.rates(*QUESTION))
                if answer != expected:
                    sys.exit(f"replica_bench: {name} answered differently")
                times[name].append(ms)
    results = [summary("region -> region month, warm", times)]

    after_write = {"primary": [], "standby": []}
    for i in range(writes):
        for name, db in (("primary", on_primary), ("standby", on_standby)):
            day = f"2016-02-{1 + i % 28:02}"
            db.apply([("CNSGH", "NOSVG", day, 1000 + i)], batch_id=f"bench-{name}-{i}")
            ms, answer = timed(lambda: db.rates(day, day, "CNSGH", "NOSVG", min_count=1))
            want = int(psql(primary, "SELECT count(*) FROM prices WHERE orig_code = 'CNSGH' "
                                     f"AND dest_code = 'NOSVG' AND day = '{day}'"))
            if answer[0].count != want:
                sys.exit(f"replica_bench: {name} saw {answer[0].count} prices, not {want}")
            after_write[name].append(ms)
    results.append(summary("first read after a one-row batch", after_write))
    return results


def summary(measure, times):
    primary, standby = statistics.median(times["primary"]), statistics.median(times["standby"])
    return {"measure": measure, "calls": len(times["primary"]), "primary_median_ms": primary,
            "standby_median_ms": standby, "standby_max_ms": max(times["standby"]),
            "ratio": standby / primary}


if __name__ == "__main__":
    main()
