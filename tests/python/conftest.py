# SPDX-License-Identifier: MIT
"""Stores for the Python tests: a SQLite file, and a database on the throwaway PostgreSQL server
that CTest started (tests/postgres/server.sh). Without that server the PostgreSQL cases fail."""

import contextlib
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

XENETA = Path(os.environ["PRKL_XENETA_DIR"])
RATESTASK = XENETA / "ratestask-2016.sql"


# psql is not ours: keep the sanitizer runtimes a sanitized test run preloads away from it.
PSQL_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def psql(conninfo, sql):
    """Runs `sql` with psql, as another client would; returns its unaligned output."""
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", conninfo,
                           "-c", sql], check=True, capture_output=True, env=PSQL_ENV,
                          timeout=120, text=True).stdout.strip()


def other_client(url, sql):
    """Runs `sql` on the store at `url` as another SQL client would: sqlite3 or psql."""
    if url.startswith("sqlite:"):
        import sqlite3
        with contextlib.closing(sqlite3.connect(url[len("sqlite:"):])) as connection:
            connection.executescript(sql)
    else:
        psql(url, sql)


def postgres_url():
    conninfo_file = os.environ.get("PRKL_TEST_PG_CONNINFO_FILE")
    if not conninfo_file or not Path(conninfo_file).exists():
        pytest.fail("no PostgreSQL test server (PRKL_TEST_PG_CONNINFO_FILE); run under CTest")
    server = Path(conninfo_file).read_text().strip()
    name = f"py_{uuid.uuid4().hex[:12]}"
    psql(server, f"CREATE DATABASE {name}")
    return f"{server.rsplit(' dbname=', 1)[0]} dbname={name}"


def new_url(backend, tmp_path):
    if backend == "sqlite":
        return f"sqlite:{tmp_path / f'{uuid.uuid4().hex}.db'}"
    return postgres_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def empty_url(backend, tmp_path):
    return new_url(backend, tmp_path)


@pytest.fixture
def real_url(backend, tmp_path):
    """A store loaded from the ratestask dump."""
    import prkl
    url = new_url(backend, tmp_path)
    prkl.connect(url, create=True).import_dump(RATESTASK)
    return url


def database_name(url):
    return url.rsplit("dbname=", 1)[1]


@contextlib.contextmanager
def cut_off(url):
    """The store's PostgreSQL database refuses connections and its sessions are ended (waiting
    until they are gone), as in an outage; allowed again afterwards."""
    maintenance = f"{url} dbname=postgres"
    name = database_name(url)
    psql(maintenance, f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    try:
        psql(maintenance, "SELECT pg_terminate_backend(pid, 60000) FROM pg_stat_activity "
                          f"WHERE datname = '{name}'")
        yield
    finally:
        psql(maintenance, f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")


class HeldCommits:
    """A deferred trigger on prkl_batches that makes every COMMIT of a batch wait for a lock this
    object holds, so a test can cut the connection while the COMMIT is in flight."""

    def __init__(self, url):
        self.url = url
        psql(url, "CREATE FUNCTION hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
                  "BEGIN PERFORM pg_advisory_xact_lock(7, 7); RETURN NULL; END $$; "
                  "CREATE CONSTRAINT TRIGGER hold_commit AFTER INSERT ON prkl_batches "
                  "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hold_commit()")
        self.holder = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", url],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       env=PSQL_ENV, text=True)
        self.holder.stdin.write("SELECT pg_advisory_lock(7, 7);\n\\echo locked\n")
        self.holder.stdin.flush()
        while self.holder.stdout.readline().strip() != "locked":
            pass

    def cut_waiting_commit(self, still_waiting):
        """Waits until a COMMIT waits for the lock (while `still_waiting()`), then ends its
        session; returns whether it found one."""
        while still_waiting():
            pid = psql(self.url, "SELECT pid FROM pg_stat_activity WHERE datname = "
                                 "current_database() AND query = 'COMMIT' AND "
                                 "wait_event_type = 'Lock' AND wait_event = 'advisory'")
            if pid:
                return psql(self.url, f"SELECT pg_terminate_backend({pid}, 60000)") == "t"
            time.sleep(0.05)
        return False

    def release(self):
        self.holder.communicate("SELECT pg_advisory_unlock(7, 7);\n\\q\n", timeout=60)
        psql(self.url, "DROP TRIGGER hold_commit ON prkl_batches")
