#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Soak: readers and writers on one store at once for a while. Every batch puts 7 prices on each
of 5 days, so a read that sees some batch boundary sees the same count, a multiple of 7, on every
day; each batch's prices carry a value derived from its id, so the totals show each landed once.
Writers use ids of their own and ids both writers apply with the same content.

  soak.py --backend sqlite|postgresql [--seconds 60] [--readers 8] [--writers 2]
"""

import argparse
import datetime
import multiprocessing
import random
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from stores import PORTS, integrity, new_store, sql  # noqa: E402

DAYS = [datetime.date(2031, 1, 1) + datetime.timedelta(days=d) for d in range(5)]
PER_DAY = 7


def price_of(batch_id):
    return 1 + zlib.crc32(batch_id.encode()) % 100_000


def rows_of(batch_id):
    rng = random.Random(batch_id)
    origin, destination = rng.sample(PORTS, 2)
    return [{"origin": origin, "destination": destination, "day": day,
             "price": price_of(batch_id)} for day in DAYS for _ in range(PER_DAY)]


def writer(url, number, deadline, results):
    import prkl
    db = prkl.connect(url)
    rng = random.Random(number)
    landed = replayed = 0
    k = 0
    while time.monotonic() < deadline:
        k += 1
        batch_id = f"shared-{k // 2}" if rng.random() < 0.5 else f"writer{number}-{k}"
        result = db.apply(rows_of(batch_id), batch_id=batch_id)
        replayed += result.replayed
        landed += not result.replayed
    results.put(("writer", landed, replayed))


def reader(url, deadline, results):
    import prkl
    db = prkl.connect(url)
    reads = inconsistent = went_back = 0
    last = 0
    while time.monotonic() < deadline:
        counts = [day.count for day in db.rates(DAYS[0], DAYS[-1], "world", "world")]
        reads += 1
        if len(set(counts)) != 1 or counts[0] % PER_DAY:
            inconsistent += 1
        went_back += counts[0] < last
        last = counts[0]
    results.put(("reader", reads, inconsistent, went_back))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--writers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="prkl-soak-") as work:
        url = new_store(args.backend, work)
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        deadline = time.monotonic() + args.seconds + 3  # the spawned interpreters start first
        processes = [context.Process(target=writer, args=(url, n, deadline, results))
                     for n in range(args.writers)]
        processes += [context.Process(target=reader, args=(url, deadline, results))
                      for _ in range(args.readers)]
        for p in processes:
            p.start()
        reports = [results.get(timeout=args.seconds + 600) for _ in processes]
        for p in processes:
            p.join()
        crashed = [p.exitcode for p in processes if p.exitcode != 0]

        ids = [row[0] for row in sql(url, "SELECT id FROM prkl_batches")]
        count, total = map(int, sql(url, "SELECT count(*), coalesce(sum(price), 0) FROM prices "
                                         "WHERE day >= '2031-01-01'")[0])
        problems = integrity(url)

    landed = sum(r[1] for r in reports if r[0] == "writer")
    replayed = sum(r[2] for r in reports if r[0] == "writer")
    reads = sum(r[1] for r in reports if r[0] == "reader")
    inconsistent = sum(r[2] for r in reports if r[0] == "reader")
    went_back = sum(r[3] for r in reports if r[0] == "reader")
    per_batch = PER_DAY * len(DAYS)
    if crashed:
        problems.append(f"processes exited with {crashed}")
    if len(ids) != len(set(ids)) or len(ids) != landed:
        problems.append(f"{len(ids)} ids in the ledger ({len(set(ids))} distinct), {landed} landed")
    if count != per_batch * len(ids) or total != sum(per_batch * price_of(i) for i in ids):
        problems.append(f"{count} prices summing to {total} for {len(ids)} batches")
    if inconsistent or went_back:
        problems.append(f"{inconsistent} inconsistent reads, {went_back} went back in time")
    print(f"soak, {args.backend}: {args.seconds:g} s, {args.readers} readers, {args.writers} "
          f"writers: {reads} reads ({inconsistent} inconsistent, {went_back} older than the "
          f"reader's previous), {landed} batches landed once, {replayed} replays of a shared id; "
          f"{len(problems)} problems")
    for p in problems:
        print("  PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
