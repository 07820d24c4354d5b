#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Failover past one machine: writers and readers on prkl while Patroni replaces a killed leader.

A three-node cluster (cluster.py: etcd, Patroni, synchronous replication, PgBouncer in front of
the leader) takes batches from writers through PgBouncer (transaction pooling) while readers ask
the standbys, and a read-your-writes client writes and at once reads what it wrote. Then the
leader's machine is gone (Patroni and PostgreSQL killed at once); Patroni promotes the
synchronous standby and points PgBouncer at it. Checks: every batch a writer was told had landed
is on the new leader exactly once (its prices counted, none twice); the readers kept answering;
the read-your-writes client always saw its own write; the writers resumed. Prints the figures.

  failover.py [--writers 2] [--readers 2] [--before 3] [--after 3] [--resume-limit 90]
"""

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from cluster import Cluster  # noqa: E402
from stores import PORTS, WORLD  # noqa: E402

import prkl  # noqa: E402

DAYS = ["2031-01-01", "2031-01-02", "2031-01-03"]
PER_DAY = 4


def lane_of(writer):
    """Each writer its own lane, so its prices can be counted apart."""
    return PORTS[writer % len(PORTS)], PORTS[(writer + 1 + writer // len(PORTS)) % len(PORTS)]


def rows_of(writer, k):
    origin, destination = lane_of(writer)
    return [(origin, destination, day, 100 + k) for day in DAYS for _ in range(PER_DAY)]


class Timeline:
    """When things happened, for the figures: seconds since the kill."""

    def __init__(self):
        self.lock = threading.Lock()
        self.killed_at = None
        self.events = {}

    def note(self, name, first=True):
        with self.lock:
            now = time.monotonic()
            if first and name in self.events:
                return
            self.events[name] = now

    def after_kill(self, name):
        at = self.events.get(name)
        return None if at is None or self.killed_at is None else at - self.killed_at


class Writer(threading.Thread):
    def __init__(self, number, url, stop, timeline):
        super().__init__(daemon=True)
        self.number, self.url, self.stop, self.timeline = number, url, stop, timeline
        self.acknowledged = []  # (batch id, prices)
        self.failures = 0
        self.give_up_after = 120.0
        self.longest_wait = 0.0
        self.error = None

    def run(self):
        try:
            db = prkl.connect(self.url, connect_timeout=5)
            k = 0
            while not self.stop.is_set():
                k += 1
                batch_id = f"w{self.number}-{k}"
                self.apply_until_landed(db, batch_id, rows_of(self.number, k))
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.error = e

    def apply_until_landed(self, db, batch_id, rows):
        """Retries the same id (the ledger makes that safe) until it is acknowledged, for as long
        as a failover may take; past that the error is the writer's."""
        first_failure = None
        while True:
            try:
                result = db.apply(rows, batch_id=batch_id)
                break
            except prkl.StorageError:
                self.failures += 1
                first_failure = first_failure or time.monotonic()
                if time.monotonic() - first_failure > self.give_up_after:
                    raise
                time.sleep(0.2)
        if first_failure:
            self.longest_wait = max(self.longest_wait, time.monotonic() - first_failure)
            self.timeline.note(f"writer{self.number} resumed")
        self.acknowledged.append((batch_id, result.prices))


class Reader(threading.Thread):
    def __init__(self, number, write_url, read_url, stop, timeline):
        super().__init__(daemon=True)
        self.number, self.stop, self.timeline = number, stop, timeline
        self.write_url, self.read_url = write_url, read_url
        self.answers = self.failures = self.answers_after_kill = 0
        self.longest_gap = 0.0
        self.error = None

    def run(self):
        try:
            db = prkl.connect(self.write_url, read_url=self.read_url, connect_timeout=2,
                              replica_wait=0.5)
            last_answer = time.monotonic()
            while not self.stop.is_set():
                try:
                    db.rates(DAYS[0], DAYS[-1], "world", "world")
                    now = time.monotonic()
                    self.longest_gap = max(self.longest_gap, now - last_answer)
                    last_answer = now
                    self.answers += 1
                    if self.timeline.killed_at is not None and now > self.timeline.killed_at:
                        self.answers_after_kill += 1
                except prkl.StorageError:
                    self.failures += 1
                    time.sleep(0.05)
                time.sleep(0.01)
            self.longest_gap = max(self.longest_gap, time.monotonic() - last_answer)
        except Exception as e:  # noqa: BLE001
            self.error = e


class OwnWrites(threading.Thread):
    """Writes a batch, then reads at once through the same Database (whose reads go to a
    standby): the count must include the batch every time it was acknowledged."""

    def __init__(self, lane, write_url, read_url, stop, timeline):
        super().__init__(daemon=True)
        self.lane, self.write_url, self.read_url = lane, write_url, read_url
        self.stop, self.timeline = stop, timeline
        self.checks = self.stale = self.checks_after_kill = 0
        self.error = None

    def run(self):
        try:
            db = prkl.connect(self.write_url, read_url=self.read_url, connect_timeout=2,
                              replica_wait=2)
            expected, k = 0, 0
            while not self.stop.is_set():
                k += 1
                try:
                    db.apply([(*self.lane, DAYS[0], 5)], batch_id=f"own-{k}")
                except prkl.StorageError:
                    k -= 1  # the same id again: in doubt, it may have landed
                    time.sleep(0.2)
                    continue
                expected += 1
                try:
                    seen = db.rates(DAYS[0], DAYS[0], *self.lane, min_count=1)[0].count
                except prkl.StorageError:
                    continue
                self.checks += 1
                self.stale += seen != expected
                killed_at = self.timeline.killed_at
                self.checks_after_kill += killed_at is not None and time.monotonic() > killed_at
                time.sleep(0.05)
        except Exception as e:  # noqa: BLE001
            self.error = e


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--before", type=float, default=3, help="seconds of load before the kill")
    parser.add_argument("--after", type=float, default=3,
                        help="seconds of load after the writers resumed")
    parser.add_argument("--resume-limit", type=float, default=90,
                        help="seconds after the kill by which writers must have resumed")
    parser.add_argument("--gap-limit", type=float, default=10,
                        help="the longest a reader on a standby may go without an answer")
    args = parser.parse_args()
    if not 1 <= args.writers <= 23:
        parser.error("--writers: 1 to 23 (each writer and the read-your-writes client need a "
                     "lane of their own among the six ports)")

    cluster = Cluster().start()
    try:
        return run(cluster, args)
    finally:
        cluster.stop()


def run(cluster, args):
    write_url = cluster.writer_url()
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as world:
        world.write(WORLD)
        world.flush()
        prkl.connect(write_url, create=True).import_dump(world.name)
    cluster.wait_replayed()
    first_leader = cluster.leader()
    sync = cluster.sync_standby()
    print(f"cluster: leader {first_leader.name}, synchronous standby {sync}, "
          f"{len(cluster.nodes) - 1} standbys; PgBouncer (transaction pooling) in front")

    stop, timeline = threading.Event(), Timeline()
    writers = [Writer(i, write_url, stop, timeline) for i in range(args.writers)]
    # The readers list the standbys first; the read-your-writes client has a URL of its own, so
    # its fence is its own.
    standbys = [n for n in cluster.nodes if n is not first_leader]
    readers = [Reader(i, write_url, cluster.standby_url(standbys + [first_leader]), stop,
                      timeline) for i in range(args.readers)]
    own = OwnWrites(lane_of(args.writers), write_url,
                    cluster.standby_url(list(reversed(standbys)) + [first_leader]), stop, timeline)
    threads = [*writers, *readers, own]
    for t in threads:
        t.start()
    time.sleep(args.before)
    before_kill = sum(len(w.acknowledged) for w in writers)

    timeline.killed_at = time.monotonic()
    first_leader.kill()
    print(f"killed {first_leader.name} (Patroni and PostgreSQL) after {before_kill} batches")
    deadline = timeline.killed_at + args.resume_limit
    while time.monotonic() < deadline and cluster.leader() in (None, first_leader):
        time.sleep(0.2)
    new_leader = cluster.leader()
    promoted_after = time.monotonic() - timeline.killed_at
    if new_leader in (None, first_leader):
        stop.set()
        raise SystemExit(f"no new leader {args.resume_limit} s after the kill")
    print(f"Patroni promoted {new_leader.name} {promoted_after:.1f} s after the kill")
    # Writers have resumed once each acknowledged a batch after the kill.
    counts = [len(w.acknowledged) for w in writers]
    while time.monotonic() < deadline and any(
            len(w.acknowledged) == c for w, c in zip(writers, counts)):
        time.sleep(0.1)
    resumed_after = time.monotonic() - timeline.killed_at
    time.sleep(args.after)
    stop.set()
    for t in threads:
        t.join(30)
    if any(t.is_alive() for t in threads):
        print(cluster.describe(new_leader))
    return check(cluster, new_leader, writers, readers, own, promoted_after, resumed_after, args)


def check(cluster, leader, writers, readers, own, promoted_after, resumed_after, args):
    failed = []
    for t in [*writers, *readers, own]:
        if t.is_alive():
            failed.append(f"{t.name} did not stop")
        if t.error:
            failed.append(f"{type(t).__name__}: {type(t.error).__name__}: {t.error}")
    acknowledged = [a for w in writers for a in w.acknowledged]
    stored = dict(line.split("|") for line in cluster.psql(
        leader, "SELECT id, prices FROM prkl_batches WHERE id LIKE 'w%'", dbname="prkl").split())
    lost = [batch_id for batch_id, _ in acknowledged if batch_id not in stored]
    if lost:
        failed.append(f"{len(lost)} acknowledged batches lost: {lost[:5]}")
    for w in writers:
        origin, destination = lane_of(w.number)
        on_lane = int(cluster.psql(leader, "SELECT count(*) FROM prices WHERE orig_code = "
                                   f"'{origin}' AND dest_code = '{destination}'", dbname="prkl"))
        written = sum(prices for _, prices in w.acknowledged)
        if on_lane != written:
            failed.append(f"writer {w.number}: {on_lane} prices on its lane, {written} "
                          "acknowledged (each batch must land exactly once)")
    answers = sum(r.answers for r in readers)
    if any(r.answers_after_kill == 0 for r in readers):
        failed.append("a reader on a standby did not answer after the kill")
    gap = max(r.longest_gap for r in readers)
    if gap > args.gap_limit:
        failed.append(f"a reader went {gap:.1f} s without an answer (limit {args.gap_limit} s)")
    if own.stale:
        failed.append(f"read-your-writes: {own.stale} of {own.checks} reads missed the write")
    if own.checks_after_kill == 0:
        failed.append("read-your-writes: no write was read back after the kill")
    if resumed_after > args.resume_limit:
        failed.append(f"writers had not resumed {args.resume_limit} s after the kill")

    print(f"writers: {len(acknowledged)} batches acknowledged ({len(stored)} in the ledger), "
          f"{sum(w.failures for w in writers)} failed attempts retried with the same id, "
          f"none lost, none twice; resumed {resumed_after:.1f} s after the kill "
          f"(longest wait of one batch {max(w.longest_wait for w in writers):.1f} s)")
    print(f"readers on the standbys: {answers} answers, "
          f"{sum(r.failures for r in readers)} failed; longest gap between answers "
          f"{max(r.longest_gap for r in readers):.2f} s")
    print(f"read-your-writes: {own.checks} writes each read back at once "
          f"({own.checks_after_kill} after the kill), {own.stale} stale")
    print(f"failover: promoted {promoted_after:.1f} s after the kill")
    for line in failed:
        print(f"FAILED: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
