# SPDX-License-Identifier: MIT
"""Writers in parallel on PostgreSQL: one writer against four, on disjoint lanes, same run.

    PYTHONPATH=build/python python3 bench/writers_bench.py [--seconds 20] [--rows 20000] [--smoke]
        [--prkl build/prkl] [--results results.jsonl]

Starts a PostgreSQL server on loopback (tests/postgres/server.sh, fsync on), generates a store
(200 ports, 4,000 lanes, 31 days), then runs writer processes that each apply batches of --rows
prices on lanes of their own (new days, so no two writers touch one lane-day) for --seconds:
first 1 writer, then 4. Meanwhile it samples pg_locks every 50 ms and counts the waits by what
is waited for (the data-version row, a lane-day, ...). Checks at the end that every batch landed
once (the ledger and the prices agree). Prints prices per second and the ratio, and appends one
JSON line per figure to --results.
"""

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "postgres" / "server.sh"
PORTS, LANES, DAYS = 200, 4_000, 31


def server(*args, env):
    subprocess.run(["bash", str(SERVER), *map(str, args)], check=True, capture_output=True,
                   env=env, timeout=300)


def psql(conninfo, sql):
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", conninfo, "-c", sql], check=True,
                          capture_output=True, text=True, timeout=120).stdout.strip()


def lanes_of(url):
    rows = psql(url, "SELECT DISTINCT orig_code || ' ' || dest_code FROM prices ORDER BY 1")
    return [tuple(line.split()) for line in rows.splitlines()]


def writer(url, number, lanes, rows, seconds, start, done):
    import prkl
    db = prkl.connect(url)
    start.wait()
    deadline = time.monotonic() + seconds
    applied, k = 0, 0
    while time.monotonic() < deadline:
        k += 1
        batch, day = [], 0
        # New days after the data, lane by lane: this writer's lanes only.
        while len(batch) < rows:
            for origin, destination in lanes:
                batch.append((origin, destination, f"2031-{1 + day // 28:02d}-{1 + day % 28:02d}",
                              100 + k))
                if len(batch) == rows:
                    break
            day += 1
        result = db.apply(batch, batch_id=f"bench-{os.getpid()}-{number}-{k}")
        assert not result.replayed
        applied += result.prices
    done.put(applied)


def sample_waits(url, stop, waits):
    """What each waiting lock waits for, every 50 ms, with the relation it is on."""
    query = ("SELECT coalesce(w.relation::regclass::text, w.locktype) FROM pg_locks w "
             "WHERE NOT w.granted")
    import psycopg2
    with psycopg2.connect(url) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            while not stop.is_set():
                cursor.execute(query)
                for (what,) in cursor.fetchall():
                    waits[what] += 1
                time.sleep(0.05)


def run(url, writers, lanes, rows, seconds):
    context = multiprocessing.get_context("spawn")
    start, done = context.Event(), context.Queue()
    share = len(lanes) // writers
    processes = [context.Process(target=writer, args=(url, i, lanes[i * share:(i + 1) * share],
                                                      rows, seconds, start, done))
                 for i in range(writers)]
    for p in processes:
        p.start()
    time.sleep(2)  # each has connected and read its copy
    waits, stop = Counter(), threading.Event()
    sampler = threading.Thread(target=sample_waits, args=(url, stop, waits))
    sampler.start()
    began = time.monotonic()
    start.set()
    applied = sum(done.get(timeout=seconds + 600) for _ in processes)
    took = time.monotonic() - began
    stop.set()
    sampler.join()
    for p in processes:
        p.join()
        assert p.exitcode == 0, p.exitcode
    return applied / took, waits


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--prkl", default=str(ROOT / "build" / "prkl"), help="the prkl tool")
    parser.add_argument("--smoke", action="store_true", help="a short run: checks, not figures")
    parser.add_argument("--results", help="append JSON lines here")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rows = 2, 2_000
    env = dict(os.environ, PRKL_PG_OPTIONS="-c shared_buffers=256MB")
    env.pop("LD_PRELOAD", None)
    with tempfile.TemporaryDirectory(prefix="prkl-writers-bench-") as work:
        server("start", work, env=env)
        try:
            url = (Path(work) / "conninfo").read_text().strip()
            subprocess.run([args.prkl, "--db", url, "generate", "--ports",
                            str(PORTS), "--lanes", str(LANES), "--days", str(DAYS)],
                           check=True, capture_output=True, env=env, timeout=600)
            lanes = lanes_of(url)
            figures, seen = {}, {}
            for writers in (1, 4):
                rate, waits = run(url, writers, lanes, args.rows, args.seconds)
                figures[writers] = rate
                seen[writers] = ", ".join(f"{what} {count}"
                                          for what, count in waits.most_common(4)) or "none"
                print(f"{writers} writer(s): {rate:,.0f} prices/s; lock waits seen: "
                      f"{seen[writers]}")
            landed = int(psql(url, "SELECT coalesce(sum(prices), 0) FROM prkl_batches"))
            stored = int(psql(url, "SELECT count(*) FROM prices WHERE day >= '2031-01-01'"))
            assert landed == stored, (landed, stored)
        finally:
            server("stop", work, env=env)
    ratio = figures[4] / figures[1]
    print(f"4 writers / 1 writer: {ratio:.2f}x ({args.rows:,}-price batches, {args.seconds:.0f} s "
          f"each, fsync on, {os.cpu_count()} cores)")
    if args.results:
        with open(args.results, "a") as out:
            for writers, rate in figures.items():
                out.write(json.dumps({"what": "writers", "writers": writers, "rows": args.rows,
                                      "seconds": args.seconds, "prices_per_s": rate,
                                      "ratio": rate / figures[1],
                                      "lock_waits": seen[writers]}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
