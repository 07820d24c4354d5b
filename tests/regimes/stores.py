# SPDX-License-Identifier: MIT
"""Fresh stores for the reliability regimes: a SQLite file, or a new database on the PostgreSQL
server whose key/value conninfo is in $PRKL_TEST_PG_CONNINFO_FILE (started by CTest or run.sh)."""

import os
import sqlite3
import subprocess
import uuid
from pathlib import Path

import prkl

# A small world: two regions, six ports; every regime writes lanes among these.
WORLD = """COPY regions (slug, name, parent_slug) FROM stdin;
world\tWorld\t\\N
east\tEast\tworld
\\.
COPY ports (code, name, parent_slug) FROM stdin;
AAAAA\tA\teast
BBBBB\tB\teast
CCCCC\tC\teast
DDDDD\tD\tworld
EEEEE\tE\tworld
FFFFF\tF\tworld
\\.
"""
PORTS = ["AAAAA", "BBBBB", "CCCCC", "DDDDD", "EEEEE", "FFFFF"]


def new_store(backend, workdir):
    workdir = Path(workdir)
    if backend == "sqlite":
        url = f"sqlite:{workdir / f'{uuid.uuid4().hex}.db'}"
    else:
        conninfo_file = os.environ.get("PRKL_TEST_PG_CONNINFO_FILE")
        if not conninfo_file or not Path(conninfo_file).exists():
            raise SystemExit("no PostgreSQL server: set PRKL_TEST_PG_CONNINFO_FILE")
        server = Path(conninfo_file).read_text().strip()
        name = f"regime_{uuid.uuid4().hex[:12]}"
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", server, "-c",
                        f"CREATE DATABASE {name}"], check=True, capture_output=True, env=env,
                       timeout=60)
        url = f"{server.rsplit(' dbname=', 1)[0]} dbname={name}"
    dump = workdir / f"world-{uuid.uuid4().hex}.sql"
    dump.write_text(WORLD)
    prkl.connect(url, create=True).import_dump(dump)
    dump.unlink()
    return url


def sql(url, query):
    """Rows of `query` through the backend's own client, as another application sees them."""
    if url.startswith("sqlite:"):
        with sqlite3.connect(url[len("sqlite:"):]) as connection:
            return connection.execute(query).fetchall()
    import psycopg2
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(query)
        rows = cursor.fetchall()
    connection.close()
    return rows


def integrity(url, backend_check=True):
    """Problems with the store's own consistency: the backend's check (unless backend_check is
    False), and prkl's lane-day aggregates against the prices they summarise."""
    problems = []
    if backend_check and url.startswith("sqlite:"):
        result = sql(url, "PRAGMA integrity_check")
        if result != [("ok",)]:
            problems.append(f"integrity_check: {result[:5]}")
    prices = sql(url, "SELECT count(*), coalesce(sum(price), 0) FROM prices")[0]
    aggregates = sql(url, "SELECT coalesce(sum(price_count), 0), coalesce(sum(price_sum), 0) "
                          "FROM prkl_lane_days")[0]
    if tuple(map(int, prices)) != tuple(map(int, aggregates)):
        problems.append(f"prices (count, sum) {prices} but lane-days say {aggregates}")
    return problems
