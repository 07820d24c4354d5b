# SPDX-License-Identifier: MIT
"""Existing PostgreSQL databases, loaded from the Xeneta dumps with psql the way their users load
them, adopted with `prkl init` and queried through prkl: the answers equal SQLite's, day by day."""

import json
import os
import subprocess
from pathlib import Path

import pytest

PRKL = os.environ["PRKL_BIN"]
XENETA = Path(os.environ["PRKL_XENETA_DIR"])
SERVER = Path(os.environ["PRKL_TEST_PG_CONNINFO_FILE"]).read_text().strip()
BASE = SERVER.rsplit(" dbname=", 1)[0]
PORT = dict(kv.split("=", 1) for kv in BASE.split())["port"]


def run(*command, env=None, check=0):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == check, (command, result.stdout, result.stderr)
    return result


def prkl(db, *args, check=0, env=None):
    return run(PRKL, "--db", db, *args, check=check, env=env)


def psql(dbname, *args):
    return run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", f"{BASE} dbname={dbname}", *args)


def created_database(name, dump):
    psql("postgres", "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}")
    psql(name, "-f", dump)
    return f"{BASE} dbname={name}"


QUERIES = {
    "ratestask-2016.sql": [
        ("2016-01-01", "2016-01-10", "CNSGH", "north_europe_main", []),
        ("2016-01-01", "2016-01-31", "china_main", "northern_europe", []),
        ("2016-01-01", "2016-01-31", "china_main", "northern_europe", ["--scale", "3"]),
        ("2016-01-01", "2016-01-31", "CNNBO", "scandinavia", ["--min-count", "1"]),
        ("2015-12-25", "2016-02-05", "china_east_main", "NOOSL", []),
    ],
    "operations-task-2021.sql": [
        ("2021-01-01", "2021-01-31", "china_main", "northern_europe", []),
        ("2021-01-01", "2021-01-31", "CNSGH", "north_europe_main", ["--scale", "2"]),
        ("2021-01-01", "2021-01-31", "china_south_main", "baltic", ["--min-count", "1"]),
    ],
}


@pytest.mark.parametrize("dump", sorted(QUERIES))
def test_adopted_database_answers_like_sqlite(tmp_path, dump):
    name = "adopt_" + dump.split("-")[0].replace("-", "_")
    pg = created_database(name, XENETA / dump)
    before = psql(name, "-c", "SELECT count(*) FROM prices").stdout

    added = prkl(pg, "init").stdout
    assert "index prices_lane_day" in added and "table prkl_batches" in added
    for existing in ("table prices", "table ports", "table regions"):
        assert existing not in added
    assert "nothing added" in prkl(pg, "init").stdout
    assert psql(name, "-c", "SELECT count(*) FROM prices").stdout == before

    lite = f"sqlite:{tmp_path / 'same.db'}"
    prkl(lite, "import-dump", XENETA / dump)
    for date_from, date_to, origin, destination, extra in QUERIES[dump]:
        args = ["rates", "--from", date_from, "--to", date_to, "--origin", origin,
                "--destination", destination, *extra]
        on_pg = prkl(pg, *args).stdout
        assert on_pg == prkl(lite, *args).stdout, args
        assert sum(day["count"] for day in json.loads(on_pg)) > 0 or "--min-count" in extra
    for args in (["ports", "--limit", "1000"], ["ports", "--search", "måløy"], ["regions"],
                 ["ports", "--region", "northern_europe", "--limit", "1000"]):
        assert prkl(pg, *args).stdout == prkl(lite, *args).stdout, args


def test_known_answer_through_an_adopted_database():
    pg = created_database("adopt_known", XENETA / "ratestask-2016.sql")
    prkl(pg, "init")
    days = json.loads(prkl(pg, "rates", "--from", "2016-01-01", "--to", "2016-01-10", "--origin",
                           "CNSGH", "--destination", "north_europe_main").stdout)
    assert [d["average_price"] for d in days] == [1112, 1112, None, None, 1142, 1142, 1137, 1124,
                                                  1124, 1124]
    assert [d["count"] for d in days] == [24, 24, 0, 1, 24, 24, 24, 24, 24, 24]


def test_rows_written_by_plain_sql_are_seen():
    """The application that owned the database keeps inserting with SQL; prkl sees it all."""
    pg = created_database("adopt_writers", XENETA / "ratestask-2016.sql")
    prkl(pg, "init")
    query = ["rates", "--from", "2016-02-01", "--to", "2016-02-01", "--origin", "china_main",
             "--destination", "NOMAY", "--min-count", "1"]
    assert json.loads(prkl(pg, *query).stdout)[0]["count"] == 0
    # A lane that has never had a price, then a second statement on the same lane.
    psql("adopt_writers", "-c", "INSERT INTO prices VALUES ('CNCWN', 'NOMAY', '2016-02-01', 500)")
    psql("adopt_writers", "-c", "INSERT INTO prices VALUES ('CNCWN', 'NOMAY', '2016-02-01', 700)")
    day = json.loads(prkl(pg, *query).stdout)[0]
    assert (day["count"], day["min"], day["max"]) == (2, 500, 700)


def test_connection_forms(tmp_path):
    pg = created_database("adopt_forms", XENETA / "ratestask-2016.sql")
    prkl(pg, "init")
    query = ["ports", "--code", "CNSGH"]
    expected = prkl(pg, *query).stdout
    # A URI, libpq's environment variables, and a multi-host string whose first host is down.
    assert prkl(f"postgresql://postgres@127.0.0.1:{PORT}/adopt_forms", *query).stdout == expected
    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=PORT, PGUSER="postgres",
               PGDATABASE="adopt_forms")
    assert prkl("postgresql://", *query, env=env).stdout == expected
    dead = int(PORT) + 1 if int(PORT) < 65535 else int(PORT) - 1
    multi = (f"postgresql://postgres@127.0.0.1:{dead},127.0.0.1:{PORT}/adopt_forms"
             "?target_session_attrs=read-write")
    assert prkl(multi, *query).stdout == expected
    failed = prkl(f"postgresql://postgres@127.0.0.1:{dead}/adopt_forms", *query, check=1)
    assert "cannot connect to PostgreSQL" in failed.stderr


def test_a_database_without_init_is_refused_and_batches_work(tmp_path):
    pg = created_database("adopt_batches", XENETA / "ratestask-2016.sql")
    refused = prkl(pg, "rates", "--from", "2016-01-01", "--to", "2016-01-02", "--origin", "CNSGH",
                   "--destination", "NLRTM", check=1)
    assert "run 'prkl init'" in refused.stderr
    prkl(pg, "init")
    batch = tmp_path / "b.csv"
    batch.write_text("origin,destination,date_from,date_to,price\nCNSGH,NLRTM,2016-02-01,2016-02-03,900\n")
    first = json.loads(prkl(pg, "batch", "apply", batch, "--id", "p1", "--format", "json").stdout)
    again = json.loads(prkl(pg, "batch", "apply", batch, "--id", "p1", "--format", "json").stdout)
    assert first["prices"] == 3 and not first["replayed"] and again["replayed"]
    assert psql("adopt_batches", "-c", "SELECT count(*) FROM prices WHERE day >= '2016-02-01'").stdout.strip() == "3"


def test_generated_dump_loads_with_psql_like_a_real_one(tmp_path):
    dump = tmp_path / "generated.sql"
    run(PRKL, "generate", "--ports", "120", "--lanes", "600", "--days", "20", "--dump", dump)
    pg = created_database("adopt_generated", dump)
    prkl(pg, "init")
    lite = f"sqlite:{tmp_path / 'generated.db'}"
    prkl(lite, "import-dump", dump)
    for origin, destination in (("world", "world"), ("china", "north_europe"),
                                ("north_america_main", "west_europe")):
        args = ["rates", "--from", "2024-01-01", "--to", "2024-01-20", "--origin", origin,
                "--destination", destination, "--min-count", "1", "--scale", "2"]
        assert prkl(pg, *args).stdout == prkl(lite, *args).stdout, args


def test_no_command_prints_a_password(tmp_path):
    psql("postgres", "-c", "DROP DATABASE IF EXISTS adopt_secret", "-c",
         "CREATE DATABASE adopt_secret")
    secret = "s3cr3t-pw"
    uri = f"postgresql://postgres:{secret}@127.0.0.1:{PORT}/adopt_secret"
    keywords = f"host=127.0.0.1 port={PORT} user=postgres password='{secret}' dbname=adopt_secret"
    for url in (uri, keywords):
        out = prkl(url, "init")
        assert secret not in out.stdout + out.stderr and "***" in out.stdout, out.stdout
        out = prkl(url, "generate", "--ports", "10", "--lanes", "20", "--days", "3", "--replace")
        assert secret not in out.stdout + out.stderr and "***" in out.stdout, out.stdout
    dead = int(PORT) + 1 if int(PORT) < 65535 else int(PORT) - 1
    for url in (uri.replace(f":{PORT}/", f":{dead}/"), uri.replace("adopt_secret", "absent")):
        out = prkl(url, "ports", check=1)
        assert secret not in out.stdout + out.stderr, out.stderr
