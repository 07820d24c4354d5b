#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Crash loop: kill -9 a process applying a large batch at random moments, again and again,
then check the store: its integrity, that the batch is either all there or not at all, and that
a retry with the same id lands it exactly once.

  crash_loop.py --backend sqlite|postgresql [--iterations 200] [--rows 150] [--days 365]
                [--integrity-every 10]

The store's own integrity check (SQLite's PRAGMA integrity_check) reads the whole store, which
grows by a batch each iteration: run after every kill it made a 200-kill run take hours. It runs
every --integrity-every kills and after the last one (a corruption stays, so it is still found);
the cheap checks (all or nothing, lane-days against prices, the retry) run after every kill.
"""

import argparse
import datetime
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import prkl  # noqa: E402
from stores import PORTS, integrity, new_store, sql  # noqa: E402

FIRST_DAY = datetime.date(2030, 1, 1)
APPLY = "import prkl, sys; prkl.connect(sys.argv[1]).apply(sys.argv[2], batch_id=sys.argv[3])"


def batch_file(path, rows, days, seed):
    """`rows` CSV rows, each a price for every day of a `days`-day range."""
    rng = random.Random(seed)
    last = FIRST_DAY + datetime.timedelta(days=days - 1)
    lines = ["origin,destination,date_from,date_to,price"]
    for _ in range(rows):
        origin, destination = rng.sample(PORTS, 2)
        lines.append(f"{origin},{destination},{FIRST_DAY},{last},{rng.randint(1, 5000)}")
    path.write_text("\n".join(lines) + "\n")


def prices_in_store(url):
    return int(sql(url, "SELECT count(*) FROM prices")[0][0])


def settle(url):
    """Waits until the killed client's server session has ended. A COMMIT the server received
    before the kill still completes after the client is gone: checking sooner can count the
    prices before that commit and read the ledger after it (the first full run saw this once in
    200 kills: a batch "in the ledger" with its prices not yet counted)."""
    deadline = time.monotonic() + 60
    while int(sql(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")[0][0]) > 0:
        if time.monotonic() > deadline:
            raise SystemExit("the killed client's session did not end within 60 s")
        time.sleep(0.01)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--rows", type=int, default=150)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--integrity-every", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="prkl-crash-") as work:
        work = Path(work)
        url = new_store(args.backend, work)
        csv = work / "batch.csv"
        batch_file(csv, args.rows, args.days, args.seed)
        env = dict(os.environ)
        # One undisturbed apply, in a process as the killed ones are, says how long a whole one
        # takes from start-up to exit and how many prices it writes.
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", APPLY, url, str(csv), "calibration"], env=env,
                       check=True)
        full = time.monotonic() - started
        expected = prices_in_store(url)

        outcomes = {"killed before commit": 0, "killed after commit": 0, "finished": 0}
        partial = lost = doubled = 0
        problems = []
        for i in range(args.iterations):
            batch_id = f"crash-{i}"
            before = prices_in_store(url)
            child = subprocess.Popen([sys.executable, "-c", APPLY, url, str(csv), batch_id],
                                     env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            # Moments across the whole apply, its start-up and its commit included.
            time.sleep(rng.uniform(0, full * 1.1))
            child.send_signal(signal.SIGKILL)
            status = child.wait()
            if args.backend == "postgresql":
                settle(url)
            after = prices_in_store(url)
            landed = prkl.connect(url).batch(batch_id) is not None
            if status == 0:
                outcomes["finished"] += 1
            else:
                outcomes["killed after commit" if landed else "killed before commit"] += 1
            if after not in (before, before + expected) or landed != (after == before + expected):
                partial += 1
                problems.append(f"{batch_id}: {before} -> {after} prices, in ledger: {landed}")
            full_check = (i + 1) % args.integrity_every == 0 or i + 1 == args.iterations
            problems += [f"{batch_id}: {p}" for p in integrity(url, backend_check=full_check)]
            retry = prkl.connect(url).apply(str(csv), batch_id=batch_id)
            final = prices_in_store(url)
            if retry.replayed != landed:
                lost += 1
                problems.append(f"{batch_id}: retry replayed={retry.replayed}, landed={landed}")
            if final != before + expected:
                doubled += final != before
                problems.append(f"{batch_id}: after the retry {final}, want {before + expected}")
        ledger = int(sql(url, "SELECT count(*) FROM prkl_batches")[0][0])
        if ledger != args.iterations + 1:
            problems.append(f"the ledger holds {ledger} batches, want {args.iterations + 1}")

    print(f"crash loop, {args.backend}: {args.iterations} kills of a {expected}-price batch "
          f"({full:.2f} s from start to exit when not killed); " + ", ".join(f"{v} {k}" for k, v in outcomes.items()) +
          f"; {partial} partial, {lost} lost, {doubled} doubled")
    for p in problems[:20]:
        print("  PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
