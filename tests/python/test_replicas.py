# SPDX-License-Identifier: MIT
"""Read replicas and failover on real servers: a primary and a hot standby made from it with
pg_basebackup -R (streaming replication), both on loopback, started and stopped here."""

import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import prkl
from conftest import PSQL_ENV, RATESTASK, psql

SERVER = Path(__file__).resolve().parents[1] / "postgres" / "server.sh"
DAY = "2016-01-05"
LANE = ("CNSGH", "NOSVG")


def server(*args):
    subprocess.run(["bash", str(SERVER), *map(str, args)], check=True, capture_output=True,
                   env=PSQL_ENV, timeout=300)


@dataclass
class Replicas:
    primary_dir: Path
    standby_dir: Path
    primary: str  # libpq connection strings, over the unix sockets
    standby: str

    def tcp(self, *, order, attrs, uri=False):
        """A multi-host connection string over loopback TCP, the servers in `order`: libpq's
        key=value form, or its URI form."""
        ports = [re.search(r"port=(\d+)", getattr(self, name)).group(1) for name in order]
        if uri:
            hosts = ",".join(f"127.0.0.1:{port}" for port in ports)
            return f"postgresql://postgres@{hosts}/postgres?target_session_attrs={attrs}"
        return (f"host={','.join(['127.0.0.1'] * len(ports))} port={','.join(ports)} "
                f"user=postgres dbname=postgres target_session_attrs={attrs}")

    def wait_for_replay(self):
        """Until the standby has replayed everything the primary has written so far."""
        lsn = psql(self.primary, "SELECT pg_current_wal_insert_lsn()")
        deadline = time.monotonic() + 30
        while psql(self.standby, f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'") != "t":
            assert time.monotonic() < deadline, "the standby did not catch up in 30 s"
            time.sleep(0.02)


@pytest.fixture
def replicas(tmp_path):
    primary_dir, standby_dir = tmp_path / "primary", tmp_path / "standby"
    server("start", primary_dir)
    try:
        server("standby", primary_dir, standby_dir)
        try:
            yield Replicas(primary_dir, standby_dir, (primary_dir / "conninfo").read_text().strip(),
                           (standby_dir / "conninfo").read_text().strip())
        finally:
            server("stop", standby_dir)
    finally:
        server("stop", primary_dir)


def replica_checks(served_by):
    """prkl_replica_checks_total{served_by=...} of this process, from prkl.metrics_text()."""
    found = re.search(rf'^prkl_replica_checks_total{{served_by="{served_by}"}} (\S+)$',
                      prkl.metrics_text(), re.M)
    return float(found.group(1)) if found else 0.0


def count_on(db, day=DAY):
    return db.rates(day, day, *LANE, min_count=1)[0].count


def batch(price, day=DAY):
    return [(*LANE, day, price)]


def test_reads_come_from_the_standby_and_see_every_write_of_the_process(replicas, tmp_path):
    db = prkl.connect(replicas.primary, create=True, read_url=replicas.standby, replica_wait=2.0)
    # The load is a write: the first read waits for the standby to replay it.
    db.import_dump(RATESTASK)
    assert "read_url='host=" in repr(db)
    ready = db.readiness()
    assert ready["ready"] and ready["standby"], ready
    before = count_on(db)
    assert before == count_on(prkl.connect(replicas.primary))

    # With replay paused, another client's insert on the primary is not seen: reads come from
    # the standby.
    psql(replicas.standby, "SELECT pg_wal_replay_pause()")
    psql(replicas.primary, f"INSERT INTO prices VALUES ('{LANE[0]}', '{LANE[1]}', '{DAY}', 1000)")
    assert count_on(db) == before
    assert count_on(prkl.connect(replicas.primary)) == before + 1

    # A batch through another Database of the process: the next read waits for the standby up to
    # replica_wait, then reads from the primary, and sees the batch (and the insert before it).
    other = prkl.connect(replicas.primary, read_url=replicas.standby, replica_wait=2.0)
    started = time.monotonic()
    to_primary = replica_checks("primary")
    other.apply(batch(2000), batch_id="ryw-1")
    assert count_on(db) == before + 2
    assert time.monotonic() - started >= 2.0
    assert replica_checks("primary") == to_primary + 1
    assert db.batch("ryw-1").prices == 1
    # Only the first read waits; the next ones go to the primary at once.
    started = time.monotonic()
    assert count_on(db) == before + 2
    assert time.monotonic() - started < 1.0

    # Once the standby has caught up, reads go back to it.
    psql(replicas.standby, "SELECT pg_wal_replay_resume()")
    replicas.wait_for_replay()
    to_standby = replica_checks("standby")
    assert count_on(db) == before + 2
    assert replica_checks("standby") == to_standby + 1
    psql(replicas.standby, "SELECT pg_wal_replay_pause()")
    psql(replicas.primary, f"INSERT INTO prices VALUES ('{LANE[0]}', '{LANE[1]}', '{DAY}', 1000)")
    assert count_on(db) == before + 2
    psql(replicas.standby, "SELECT pg_wal_replay_resume()")

    # Replay running: a read right after a write sees it.
    for i in range(20):
        db.apply(batch(3000 + i, day="2016-01-06"), batch_id=f"ryw-run-{i}")
        assert count_on(db, "2016-01-06") == count_on(prkl.connect(replicas.primary), "2016-01-06")
    # So do the ledger and the exchange rates.
    assert db.batch("ryw-run-19").rows == 1
    rates = tmp_path / "2016-01-06.json"
    rates.write_text('{"base": "USD", "rates": {"EUR": 0.9}}')
    db.import_exchange_rates(rates)
    assert db.rates("2016-01-06", "2016-01-06", *LANE, currency="EUR")[0].count > 0

    # Ports and regions too.
    psql(replicas.standby, "SELECT pg_wal_replay_pause()")
    psql(replicas.primary, "INSERT INTO ports VALUES ('ZZNEW', 'Newport', 'china_main')")
    other.apply(batch(4000), batch_id="ryw-2")
    assert db.port("ZZNEW").name == "Newport"
    psql(replicas.standby, "SELECT pg_wal_replay_resume()")


def test_a_standby_that_falls_behind_is_not_ready(replicas):
    db = prkl.connect(replicas.primary, create=True, read_url=replicas.standby)
    db.import_dump(RATESTASK)
    replicas.wait_for_replay()
    assert db.readiness(max_replay_lag=5)["ready"]
    psql(replicas.standby, "SELECT pg_wal_replay_pause()")
    psql(replicas.primary, f"INSERT INTO prices VALUES ('{LANE[0]}', '{LANE[1]}', '{DAY}', 1000)")
    # Received but not replayed: the lag counts from the last transaction replayed.
    time.sleep(1.5)
    ready = db.readiness(max_replay_lag=1)
    assert not ready["ready"] and ready["standby"], ready
    assert "behind its primary" in ready["reason"]
    assert ready["replay_lag_seconds"] >= 1
    psql(replicas.standby, "SELECT pg_wal_replay_resume()")
    replicas.wait_for_replay()
    assert db.readiness(max_replay_lag=1)["ready"]


class InFlightApply:
    """db.apply(rows, batch_id) on another thread, returned once the primary shows its session
    in pg_stat_activity with the `waiting` condition."""

    def __init__(self, db, rows, batch_id, primary, *, waiting):
        self.outcome = None
        self.thread = threading.Thread(target=self._apply, args=(db, rows, batch_id))
        self.thread.start()
        deadline = time.monotonic() + 30
        while psql(primary, f"SELECT count(*) FROM pg_stat_activity WHERE {waiting}") != "1":
            assert time.monotonic() < deadline and self.thread.is_alive(), self.outcome
            time.sleep(0.05)

    def _apply(self, db, rows, batch_id):
        try:
            self.outcome = db.apply(rows, batch_id=batch_id)
        except prkl.Error as e:
            self.outcome = e

    def get(self):
        """What the apply returned or raised."""
        self.thread.join(60)
        assert not self.thread.is_alive(), "the apply did not finish within 60 s"
        return self.outcome


def until_it_answers(call, limit):
    """Calls `call` until it stops raising StorageError; returns the seconds that took."""
    started = time.monotonic()
    while True:
        try:
            call()
            return time.monotonic() - started
        except prkl.StorageError:
            if time.monotonic() - started > limit:
                raise
            time.sleep(0.05)


def test_failover_to_the_promoted_standby(replicas):
    # libpq multi-host strings: writes to whichever server is the primary, reads from the
    # standby while there is one.
    write = replicas.tcp(order=["primary", "standby"], attrs="read-write")
    read = replicas.tcp(order=["standby", "primary"], attrs="prefer-standby", uri=True)
    db = prkl.connect(write, create=True, read_url=read, connect_timeout=2)
    db.import_dump(RATESTASK)
    primary_only = prkl.connect(write, connect_timeout=2)
    before = count_on(db)
    assert db.readiness()["standby"]

    # The next COMMIT waits for a synchronous standby that never confirms: it is in flight, and
    # already committed on the primary, when the primary goes down.
    psql(replicas.primary, "ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
    psql(replicas.primary, "SELECT pg_reload_conf()")
    rows = [(*LANE, "2016-02-01", "2016-02-10", 7777)]
    outcome = InFlightApply(db, rows, "failover-1", replicas.primary,
                            waiting="wait_event = 'SyncRep'")
    server("halt", replicas.primary_dir, "fast")
    assert isinstance(outcome.get(), prkl.InDoubt), outcome.get()
    assert "apply it again with the same id" in str(outcome.get())

    # No primary: the standby still answers the reads, the writes fail.
    assert count_on(db) == before
    with pytest.raises(prkl.StorageError):
        db.apply(batch(1), batch_id="while-down")

    server("promote", replicas.standby_dir)
    # Reads resume within 10 s, through the read URL and through the write URL alike.
    for reader in (db, primary_only):
        took = until_it_answers(lambda: count_on(reader), limit=10)
        print(f"reads answered {took:.3f} s after the promotion")

    # The retry lands the in-doubt batch exactly once: here it had committed before the primary
    # went down, and the standby had received it.
    result = db.apply(rows, batch_id="failover-1")
    assert result.replayed and result.prices == 10
    promoted = replicas.standby
    assert psql(promoted, "SELECT count(*) FROM prices WHERE price = 7777") == "10"
    assert psql(promoted, "SELECT count(*) FROM prkl_batches WHERE id = 'failover-1'") == "1"
    # The new primary takes new batches, and reads see them.
    assert not db.apply(batch(8888), batch_id="after-failover").replayed
    assert count_on(db) == before + 1
    assert count_on(primary_only) == before + 1
    assert not db.readiness()["standby"]


def test_a_batch_cut_off_before_its_commit_lands_once_on_retry(replicas):
    write = replicas.tcp(order=["primary", "standby"], attrs="read-write")
    read = replicas.tcp(order=["standby", "primary"], attrs="prefer-standby", uri=True)
    db = prkl.connect(write, create=True, read_url=read, connect_timeout=2)
    db.import_dump(RATESTASK)
    rows = [(*LANE, "2016-03-01", "2016-03-31", 5555)]
    # Another session holds the lock that writers of this batch id take first, so the batch is
    # in flight, before its COMMIT, when the primary stops at once.
    holder = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", replicas.primary],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=PSQL_ENV,
                              text=True)
    holder.stdin.write("SELECT pg_advisory_lock(hashtextextended('cut-1', 0));\n\\echo held\n")
    holder.stdin.flush()
    while holder.stdout.readline().strip() != "held":
        assert holder.poll() is None, "psql could not take the lock"
    outcome = InFlightApply(db, rows, "cut-1", replicas.primary,
                            waiting="wait_event_type = 'Lock' AND wait_event = 'advisory'")
    server("halt", replicas.primary_dir, "immediate")
    holder.communicate(timeout=60)
    assert isinstance(outcome.get(), prkl.ConnectionLost), outcome.get()
    assert "was not applied" in str(outcome.get())
    server("promote", replicas.standby_dir)
    retried = []
    until_it_answers(lambda: retried.append(db.apply(rows, batch_id="cut-1")), limit=10)
    assert not retried[0].replayed
    assert psql(replicas.standby, "SELECT count(*) FROM prkl_batches WHERE id = 'cut-1'") == "1"
    assert psql(replicas.standby, "SELECT count(*) FROM prices WHERE price = 5555") == "31"
    assert count_on(db, "2016-03-05") == count_on(prkl.connect(write), "2016-03-05")


@pytest.mark.parametrize("app", ["flask", "bottle"])
def test_the_web_examples_read_from_the_standby_and_see_their_own_writes(replicas, app):
    from test_apps import EXAMPLES, Server

    prkl.connect(replicas.primary, create=True).import_dump(RATESTASK)
    replicas.wait_for_replay()
    target = "app:create_app()" if app == "flask" else "app:app"
    # One worker: read-your-writes holds within a process (several workers each keep their own).
    server = Server(EXAMPLES / app, target, replicas.primary,
                    env={"PRKL_READ_DB": replicas.standby})
    try:
        status, _, body = server.get("/ready")
        assert status == 200 and body["standby"], body
        rates = {"date_from": DAY, "date_to": DAY, "origin": LANE[0], "destination": LANE[1]}
        before = server.get("/rates", **rates)[2]
        psql(replicas.standby, "SELECT pg_wal_replay_pause()")
        psql(replicas.primary, f"DELETE FROM prices WHERE orig_code = '{LANE[0]}' "
                               f"AND dest_code = '{LANE[1]}' AND day = '{DAY}'")
        # Served by the standby, whose replay is paused.
        assert server.get("/rates", **rates)[2] == before
        if app == "flask":
            batch = {"batch_id": "web-ryw", "rows": [
                {"origin": LANE[0], "destination": LANE[1], "day": DAY, "price": 700}]}
            assert server.post_json("/batches", batch)[0] == 201
            # The POST's own worker reads it back, from the primary while the standby waits.
            assert server.get("/rates", **rates)[2] == [{"day": DAY, "average_price": None}]
            assert server.get("/rates", orig_code=LANE[0], dest_code=LANE[1], date_from=DAY,
                              date_to=DAY)[2]["rates"][0]["count"] == 1
        psql(replicas.standby, "SELECT pg_wal_replay_resume()")
    finally:
        server.stop()
