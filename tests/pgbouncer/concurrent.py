# SPDX-License-Identifier: MIT
"""Four writers and four readers through PgBouncer (tests/pgbouncer/pgbouncer.sh), with `import
prkl`: every batch lands exactly once, and every answer is exact, checked against SQL on the
server itself, past the pooler.

Each of the 40 batches adds one price to each of 28 days on one lane. Every writer applies all 40
in its own order, so each batch is applied four times at once: exactly one attempt must land, the
other three find it in the ledger. Readers meanwhile ask for the lane and for lanes of the dump
nobody writes: the written lane's days must all have the same count (whole batches, never part
of one), never fewer than a moment before, and the other lanes' answers exactly what the server
says. At the end every answer is compared with the server's.

Environment: PRKL_TEST_PG_CONNINFO_FILE (through the pooler), PRKL_TEST_PG_ADMIN_CONNINFO_FILE
(the server itself), PRKL_XENETA_DIR (the ratestask dump); PYTHONPATH with the built package."""

import datetime
import decimal
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import prkl

WRITERS, READERS, BATCHES, DAYS = 4, 4, 40, 28
LANE = ("CNSGH", "NLRTM")
FIRST = datetime.date(2017, 1, 1)
LAST = FIRST + datetime.timedelta(days=DAYS - 1)


# psql is not ours: keep the sanitizer runtimes a sanitized run preloads away from it (as
# tests/python/conftest.py does).
PSQL_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def psql(conninfo, sql):
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1",
                           conninfo, "-c", sql], check=True, capture_output=True, timeout=120,
                          text=True, env=PSQL_ENV).stdout.strip()


def with_database(conninfo, name):
    return f"{conninfo.rsplit(' dbname=', 1)[0]} dbname={name}"


def batch_rows(k):
    return [(*LANE, FIRST + datetime.timedelta(days=d), 1000 + 7 * k + d) for d in range(DAYS)]


def server_answer(direct, lane, first, last):
    """The lane's days as prkl answers them with min_count=1, scale=2, computed by SQL.
    PostgreSQL rounds numeric half away from zero, as prkl does."""
    out = psql(direct, "SELECT day, count(*), round(sum(price)::numeric / count(*), 2), "
                       f"min(price), max(price) FROM prices WHERE orig_code = '{lane[0]}' AND "
                       f"dest_code = '{lane[1]}' AND day BETWEEN '{first}' AND '{last}' "
                       "GROUP BY day")
    days = {}
    for line in filter(None, out.splitlines()):
        day, count, average, low, high = line.split("|")
        days[datetime.date.fromisoformat(day)] = (int(count), decimal.Decimal(average), int(low),
                                                  int(high))
    answer, day = [], first
    while day <= last:
        answer.append((day, *days.get(day, (0, None, None, None))))
        day += datetime.timedelta(days=1)
    return answer


def prkl_answer(db, lane, first, last):
    return [(d.day, d.count, d.average_price, d.min, d.max)
            for d in db.rates(first, last, *lane, min_count=1, scale=2)]


def static_lanes(direct):
    """Five busy lanes of the dump, which nobody writes during the test."""
    out = psql(direct, "SELECT orig_code, dest_code FROM prices WHERE day < '2016-02-01' "
                       "GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 5")
    return [tuple(line.split("|")) for line in out.splitlines()]


class Run:
    def __init__(self, url, direct):
        self.url, self.direct = url, direct
        self.failures, self.landed, self.reads = [], {}, 0
        self.lock = threading.Lock()
        self.writing = threading.Event()
        self.lanes = static_lanes(direct)
        self.expected = {lane: server_answer(direct, lane, datetime.date(2016, 1, 1),
                                             datetime.date(2016, 1, 31)) for lane in self.lanes}

    def fail(self, what):
        with self.lock:
            self.failures.append(what)

    def write(self, order):
        db = prkl.connect(self.url, pool_size=1)
        for k in order:
            try:
                result = db.apply(batch_rows(k), batch_id=f"b{k}")
            except Exception as e:  # noqa: BLE001 - every failure is the test's to report
                self.fail(f"batch b{k}: {type(e).__name__}: {e}")
                continue
            if result.prices != DAYS:
                self.fail(f"batch b{k} answered {result.prices} prices")
            if not result.replayed:
                with self.lock:
                    self.landed[k] = self.landed.get(k, 0) + 1

    def read(self, seed):
        db = prkl.connect(self.url, pool_size=1)
        rng, seen = random.Random(seed), 0
        while self.writing.is_set():
            try:
                counts = {d[1] for d in prkl_answer(db, LANE, FIRST, LAST)}
                if len(counts) != 1:
                    self.fail(f"part of a batch seen: counts {sorted(counts)}")
                elif (now := counts.pop()) < seen:
                    self.fail(f"{now} batches seen after {seen}")
                else:
                    seen = now
                lane = rng.choice(self.lanes)
                got = prkl_answer(db, lane, datetime.date(2016, 1, 1), datetime.date(2016, 1, 31))
                if got != self.expected[lane]:
                    self.fail(f"{lane}: {got} instead of {self.expected[lane]}")
            except Exception as e:  # noqa: BLE001
                self.fail(f"reader: {type(e).__name__}: {e}")
            with self.lock:
                self.reads += 1

    def run(self):
        self.writing.set()
        orders = [random.Random(w).sample(range(BATCHES), BATCHES) for w in range(WRITERS)]
        writers = [threading.Thread(target=self.write, args=(o,)) for o in orders]
        readers = [threading.Thread(target=self.read, args=(r,)) for r in range(READERS)]
        for t in readers + writers:
            t.start()
        for t in writers:
            t.join()
        self.writing.clear()
        for t in readers:
            t.join()

    def check(self):
        for k in range(BATCHES):
            if self.landed.get(k, 0) != 1:
                self.fail(f"batch b{k} landed {self.landed.get(k, 0)} times")
        stored = psql(self.direct, "SELECT count(*) FROM prkl_batches")
        if stored != str(BATCHES):
            self.fail(f"the ledger holds {stored} batches, not {BATCHES}")
        db = prkl.connect(self.url)
        for lane, first, last in [(LANE, FIRST, LAST)] + [
                (lane, datetime.date(2016, 1, 1), datetime.date(2016, 3, 31))
                for lane in self.lanes]:
            got, want = prkl_answer(db, lane, first, last), server_answer(self.direct, lane,
                                                                          first, last)
            if got != want:
                self.fail(f"{lane} after the writes: {got} instead of {want}")
        written = prkl_answer(db, LANE, FIRST, LAST)
        if any(d[1] != BATCHES for d in written):
            self.fail(f"the written lane's counts: {[d[1] for d in written]}")


def main():
    pooled = Path(os.environ["PRKL_TEST_PG_CONNINFO_FILE"]).read_text().strip()
    server = Path(os.environ["PRKL_TEST_PG_ADMIN_CONNINFO_FILE"]).read_text().strip()
    dump = Path(os.environ["PRKL_XENETA_DIR"]) / "ratestask-2016.sql"
    name = f"pgb_{uuid.uuid4().hex[:12]}"
    psql(server, f"CREATE DATABASE {name}")
    url, direct = with_database(pooled, name), with_database(server, name)
    started = time.monotonic()
    prkl.connect(url, create=True).import_dump(dump)
    run = Run(url, direct)
    run.run()
    try:
        run.check()
    except Exception as e:  # noqa: BLE001
        run.fail(f"checking the end state: {type(e).__name__}: {e}")
    print(f"{WRITERS} writers x {BATCHES} batches, {READERS} readers: {run.reads} reads, "
          f"{time.monotonic() - started:.1f} s")
    for failure in run.failures[:20]:
        print("FAILED:", failure, file=sys.stderr)
    if run.failures:
        print(f"{len(run.failures)} failures", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
