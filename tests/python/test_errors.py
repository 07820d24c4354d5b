# SPDX-License-Identifier: MIT
"""Storage failures reach Python as their kinds (ConnectionLost, InDoubt, StorageError) with the
backend's code, provoked for real: a plain SQL client, an outage of the test server's database,
a server that never answers."""

import contextlib
import socket
import sqlite3
import threading

import pytest

import prkl
from conftest import HeldCommits, cut_off, postgres_url, psql

ROWS = [("CNSGH", "NLRTM", "2016-01-01", 900)]
PORTS = "INSERT INTO regions VALUES ('r', 'R', NULL); " \
        "INSERT INTO ports VALUES ('CNSGH', 'Shanghai', 'r'), ('NLRTM', 'Rotterdam', 'r')"


def test_the_kinds_are_storage_errors():
    assert issubclass(prkl.ConnectionLost, prkl.StorageError)
    assert issubclass(prkl.InDoubt, prkl.StorageError)
    assert not issubclass(prkl.ConnectionLost, prkl.InDoubt)
    assert prkl.StorageError("raised by hand").code == ""


def run_sql(backend, url, sql):
    if backend == "sqlite":
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:"))) as connection:
            connection.executescript(sql)
    else:
        psql(url, sql)


def test_an_sql_error_carries_the_backends_code(backend, empty_url):
    db = prkl.connect(empty_url, create=True)
    run_sql(backend, empty_url, PORTS)
    db.apply(ROWS, batch_id="first")
    run_sql(backend, empty_url,
            "CREATE UNIQUE INDEX one_price_a_day ON prices (orig_code, dest_code, day)")
    with pytest.raises(prkl.StorageError) as caught:
        db.apply(ROWS, batch_id="second")
    assert type(caught.value) is prkl.StorageError
    assert caught.value.code == {"sqlite": "2067", "postgresql": "23505"}[backend]
    assert db.batch("second") is None


def test_an_unreachable_store_is_connection_lost_and_comes_back():
    url = postgres_url()
    db = prkl.connect(url, create=True)
    psql(url, PORTS)
    db.apply(ROWS, batch_id="first")
    with cut_off(url):
        with pytest.raises(prkl.ConnectionLost) as caught:
            db.rates("2016-01-01", "2016-01-01", "CNSGH", "NLRTM", min_count=1)
        assert isinstance(caught.value.code, str)
        with pytest.raises(prkl.ConnectionLost):
            db.apply(ROWS, batch_id="second")
    assert db.rates("2016-01-01", "2016-01-01", "CNSGH", "NLRTM", min_count=1)[0].count == 1
    assert not db.apply(ROWS, batch_id="second").replayed


def test_a_write_cut_off_while_it_commits_is_in_doubt():
    url = postgres_url()
    db = prkl.connect(url, create=True, pool_size=1)
    psql(url, PORTS)
    held = HeldCommits(url)
    outcome = {}

    def apply():
        try:
            outcome["result"] = db.apply(ROWS, batch_id="held")
        except prkl.Error as e:
            outcome["error"] = e

    writer = threading.Thread(target=apply)
    writer.start()
    try:
        assert held.cut_waiting_commit(writer.is_alive)
    finally:
        writer.join()
        held.release()
    assert isinstance(outcome.get("error"), prkl.InDoubt), outcome
    assert not db.apply(ROWS, batch_id="held").replayed
    assert db.apply(ROWS, batch_id="held").replayed


def test_connect_timeout_bounds_a_server_that_never_answers():
    # Takes the TCP connection (the kernel's backlog does) and never says a word.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        with pytest.raises(prkl.ConnectionLost):
            prkl.connect(f"host=127.0.0.1 port={port} dbname=x", connect_timeout=1)
        with pytest.raises(prkl.ConnectionLost):
            prkl.connect(f"postgresql://127.0.0.1:{port}/x?connect_timeout=1", connect_timeout=0)
    with pytest.raises(prkl.InvalidArgument, match="connect_timeout of -1"):
        prkl.connect("sqlite::memory:", connect_timeout=-1)


def test_rows_from_an_endless_generator_stop_at_the_limit(tmp_path):
    import itertools
    db = prkl.connect(f"sqlite:{tmp_path / 'g.db'}", create=True)
    endless = ({"origin": "CNSGH", "destination": "NLRTM", "day": "2016-01-01", "price": 1}
               for _ in itertools.count())
    with pytest.raises(prkl.InvalidArgument, match="more than 1000000 rows"):
        db.validate(endless)
