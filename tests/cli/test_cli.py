# SPDX-License-Identifier: MIT
"""The `prkl` command-line contract, exercised as a user would: real processes, real files."""

import json
import re
import os
import subprocess
from pathlib import Path

import pytest

PRKL = os.environ["PRKL_BIN"]
XENETA = Path(os.environ["PRKL_XENETA_DIR"])
RATESTASK = XENETA / "ratestask-2016.sql"

KNOWN_ANSWER = [
    ("2016-01-01", 24, 1112), ("2016-01-02", 24, 1112), ("2016-01-03", 0, None),
    ("2016-01-04", 1, None), ("2016-01-05", 24, 1142), ("2016-01-06", 24, 1142),
    ("2016-01-07", 24, 1137), ("2016-01-08", 24, 1124), ("2016-01-09", 24, 1124),
    ("2016-01-10", 24, 1124),
]


def prkl(*args, db=None, env=None, check=None):
    command = [PRKL] + ([f"--db={db}"] if db else []) + [str(a) for a in args]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    if check is not None:
        assert result.returncode == check, (result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def real_db(tmp_path_factory):
    db = f"sqlite:{tmp_path_factory.mktemp('real') / 'rates.db'}"
    out = prkl("import-dump", RATESTASK, db=db, check=0)
    assert "53056 prices" in out.stdout
    return db


def test_known_answer_as_json(real_db):
    out = prkl("rates", "--from", "2016-01-01", "--to", "2016-01-10", "--origin", "CNSGH",
               "--destination", "north_europe_main", db=real_db, check=0)
    days = json.loads(out.stdout)
    assert [(d["day"], d["count"], d["average_price"]) for d in days] == KNOWN_ANSWER


def test_rates_table_and_scale(real_db):
    out = prkl("rates", "--from", "2016-01-01", "--to", "2016-01-02", "--origin", "CNSGH",
               "--destination", "north_europe_main", "--scale", "2", "--format", "table",
               db=real_db, check=0)
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["day", "average_price", "count", "min", "max"]
    assert lines[1].split()[0:3:2] == ["2016-01-01", "24"]
    assert "." in lines[1].split()[1]
    scaled = json.loads(prkl("rates", "--from", "2016-01-01", "--to", "2016-01-01", "--origin",
                             "CNSGH", "--destination", "north_europe_main", "--scale", "3",
                             db=real_db, check=0).stdout)
    # The decimal is printed exactly, digits and all, not through a float.
    assert round(scaled[0]["average_price"]) == 1112


@pytest.mark.parametrize("args, named", [
    (["--from", "2016-1-01", "--to", "2016-01-10"], "2016-1-01"),
    (["--from", "2016-01-10", "--to", "2016-01-01"], "2016-01-10"),
    (["--from", "2016-01-01", "--to", "2016-02-30"], "2016-02-30"),
])
def test_bad_dates_exit_2_naming_the_value(real_db, args, named):
    out = prkl("rates", *args, "--origin", "CNSGH", "--destination", "north_europe_main",
               db=real_db, check=2)
    assert named in out.stderr
    assert out.stderr.startswith("prkl: ")
    assert "Traceback" not in out.stderr and "terminate" not in out.stderr


def test_unknown_location_exits_2(real_db):
    out = prkl("rates", "--from", "2016-01-01", "--to", "2016-01-02", "--origin", "ATLANTIS",
               "--destination", "north_europe_main", db=real_db, check=2)
    assert "'ATLANTIS'" in out.stderr


def test_usage_errors_exit_2_and_help_exits_0(real_db):
    prkl("rates", "--from", "2016-01-01", db=real_db, check=2)
    prkl("frobnicate", db=real_db, check=2)
    assert "rates" in prkl("--help", check=0).stdout


def test_missing_database_is_not_created_by_a_read(tmp_path):
    path = tmp_path / "absent.db"
    out = prkl("ports", db=f"sqlite:{path}", check=2)
    assert str(path) in out.stderr
    out = prkl("rates", "--from", "2016-01-01", "--to", "2016-01-02", "--origin", "CNSGH",
               "--destination", "NLRTM", db=f"sqlite:{path}", check=2)
    assert str(path) in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_batch_for_a_missing_database_leaves_no_file(tmp_path):
    path = tmp_path / "absent.db"
    batch = write(tmp_path / "batch.csv", "origin,destination,day,price\nCNSGH,NLRTM,2016-02-01,900\n")
    out = prkl("batch", "apply", batch, db=f"sqlite:{path}", check=2)
    assert str(path) in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.csv"]


def test_a_file_that_is_not_a_database_exits_2_naming_it(tmp_path):
    path = write(tmp_path / "notes.txt", "these are notes, not a database\n")
    for command in (["ports"], ["init"]):
        out = prkl(*command, db=f"sqlite:{path}", check=2)
        assert f"'{path}' is not a SQLite database" in out.stderr
    assert path.read_text() == "these are notes, not a database\n"


def test_init_refuses_another_applications_sqlite_file(tmp_path):
    path = tmp_path / "app.db"
    subprocess.run(["sqlite3", path, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)"],
                   check=True)
    before = path.read_bytes()
    out = prkl("init", db=f"sqlite:{path}", check=2)
    assert str(path) in out.stderr and "users" in out.stderr
    assert path.read_bytes() == before


def test_db_from_environment(real_db):
    env = dict(os.environ, PRKL_DB=real_db)
    out = prkl("ports", "--code", "CNSGH", env=env, check=0)
    assert json.loads(out.stdout) == [{"code": "CNSGH", "name": "Shanghai", "region": "china_east_main"}]


def test_ports(real_db):
    found = json.loads(prkl("ports", "--search", "MÅLØY", db=real_db, check=0).stdout)
    assert [p["code"] for p in found] == ["NOMAY"]
    in_region = json.loads(prkl("ports", "--region", "north_europe_main", "--limit", "1000",
                                db=real_db, check=0).stdout)
    assert "GBFXT" in {p["code"] for p in in_region}  # a grandchild region's port
    page = json.loads(prkl("ports", "--limit", "5", "--offset", "5", db=real_db, check=0).stdout)
    assert len(page) == 5
    prkl("ports", "--code", "NOPE1", db=real_db, check=2)
    tree = json.loads(prkl("regions", db=real_db, check=0).stdout)
    assert {r["slug"] for r in tree} == {"china_main", "northern_europe"}


def write(path, text):
    path.write_text(text)
    return path


def test_batches(tmp_path):
    db = f"sqlite:{tmp_path / 'b.db'}"
    prkl("import-dump", RATESTASK, db=db, check=0)

    bad = write(tmp_path / "bad.csv",
                "origin,destination,day,price\n"
                "CNSGH,NLRTM,2016-02-01,900\n"
                "CNXXX,NLRTM,2016-02-01,900\n"
                "CNSGH,NLRTM,2016-02-31,900\n"
                "CNSGH,NLRTM,2016-02-01,-1\n")
    out = prkl("batch", "validate", bad, db=db, check=2)
    assert "3 bad rows" in out.stderr
    for expected in ("row 2 (line 3): origin: unknown port 'CNXXX'",
                     "row 3 (line 4): day:", "row 4 (line 5): price: price -1"):
        assert expected in out.stderr
    out = prkl("batch", "apply", bad, "--id", "b1", db=db, check=2)
    assert "nothing was written" in out.stderr

    def february_count():
        days = json.loads(prkl("rates", "--from", "2016-02-01", "--to", "2016-02-29", "--origin",
                               "CNSGH", "--destination", "NLRTM", db=db, check=0).stdout)
        return sum(d["count"] for d in days)

    assert february_count() == 0
    good = write(tmp_path / "good.csv",
                 "origin,destination,date_from,date_to,price\n"
                 "CNSGH,NLRTM,2016-02-01,2016-02-03,900\n"
                 "CNSGH,NLRTM,2016-02-01,2016-02-01,1000\n")
    assert "2 rows, all valid" in prkl("batch", "validate", good, db=db, check=0).stdout
    first = json.loads(prkl("batch", "apply", good, "--id", "b1", "--format", "json", db=db,
                            check=0).stdout)
    assert first["prices"] == 4 and not first["replayed"]
    again = json.loads(prkl("batch", "apply", good, "--id", "b1", "--format", "json", db=db,
                            check=0).stdout)
    assert again["replayed"] and again["applied_at"] == first["applied_at"]
    assert february_count() == 4

    other = write(tmp_path / "other.csv", "origin,destination,day,price\nCNSGH,NLRTM,2016-02-05,1\n")
    assert "different rows" in prkl("batch", "apply", other, "--id", "b1", db=db, check=2).stderr
    assert february_count() == 4


def test_import_refuses_to_mix_data_sets(tmp_path):
    db = f"sqlite:{tmp_path / 'i.db'}"
    prkl("import-dump", RATESTASK, db=db, check=0)
    assert "already holds data" in prkl("import-dump", RATESTASK, db=db, check=2).stderr
    prkl("import-dump", XENETA / "operations-task-2021.sql", "--replace", db=db, check=0)
    days = json.loads(prkl("rates", "--from", "2021-01-01", "--to", "2021-01-01", "--origin",
                           "china_main", "--destination", "northern_europe", db=db, check=0).stdout)
    assert days[0]["count"] > 0


def test_replace_with_something_that_is_not_a_dump_keeps_the_store(tmp_path):
    db = f"sqlite:{tmp_path / 'keep.db'}"
    prkl("import-dump", RATESTASK, db=db, check=0)
    query = ["rates", "--from", "2016-01-01", "--to", "2016-01-31", "--origin", "china_main",
             "--destination", "north_europe_main"]
    before = prkl(*query, db=db, check=0).stdout
    whole = RATESTASK.read_text()
    # pg_dump's own output, cut short: before its closing comment, and in the middle of a COPY
    before_footer = whole.split("-- PostgreSQL database dump complete", 1)[0]
    mid_copy = whole[:whole.index("\n", len(whole) // 2) + 1]
    for name, content in [("empty.sql", ""), ("comments.sql", "-- nothing\n--\n"),
                          ("footless.sql", before_footer), ("half.sql", mid_copy)]:
        dump = write(tmp_path / name, content)
        out = prkl("import-dump", dump, "--replace", db=db, check=2)
        assert any(why in out.stderr for why in
                   ("not a ratestask dump", "cut short", "not ended by")), out.stderr
    assert "not a ratestask dump" in prkl("import-dump", "/dev/null", "--replace", db=db,
                                          check=2).stderr
    assert "is a directory" in prkl("import-dump", tmp_path, "--replace", db=db, check=2).stderr
    assert prkl(*query, db=db, check=0).stdout == before


def test_dump_prices_follow_the_batch_rule(tmp_path):
    dump = write(tmp_path / "negative.sql",
                 "COPY regions (slug, name, parent_slug) FROM stdin;\nr\tR\t\\N\n\\.\n"
                 "COPY ports (code, name, parent_slug) FROM stdin;\nAAAAA\tA\tr\n\\.\n"
                 "COPY prices (orig_code, dest_code, day, price) FROM stdin;\n"
                 "AAAAA\tAAAAA\t2016-01-01\t-5\n\\.\n")
    out = prkl("import-dump", dump, db=f"sqlite:{tmp_path / 'n.db'}", check=2)
    assert "line 8: price: price -5 is not positive" in out.stderr, out.stderr


def test_broken_dump_is_rejected_with_its_line(tmp_path):
    dump = write(tmp_path / "broken.sql",
                 "COPY regions (slug, name, parent_slug) FROM stdin;\nr\tR\t\\N\n\\.\n"
                 "COPY ports (code, name, parent_slug) FROM stdin;\nAAAAA\tA\tnowhere\n\\.\n")
    out = prkl("import-dump", dump, db=f"sqlite:{tmp_path / 'x.db'}", check=2)
    assert "line 5: parent_slug: port 'AAAAA' is in unknown region 'nowhere'" in out.stderr


def test_init_is_idempotent(tmp_path):
    db = f"sqlite:{tmp_path / 'n.db'}"
    assert "added table regions" in prkl("init", db=db, check=0).stdout
    assert "nothing added" in prkl("init", db=db, check=0).stdout


def test_generate_into_store_and_dump(tmp_path):
    db = f"sqlite:{tmp_path / 'g.db'}"
    out = prkl("generate", "--ports", "50", "--lanes", "200", "--days", "10", db=db, check=0)
    assert "50 ports" in out.stdout
    dump = tmp_path / "g.sql"
    prkl("generate", "--ports", "50", "--lanes", "200", "--days", "10", "--dump", dump, check=0)
    db2 = f"sqlite:{tmp_path / 'g2.db'}"
    prkl("import-dump", dump, db=db2, check=0)
    query = ["rates", "--from", "2024-01-01", "--to", "2024-01-10", "--origin", "world",
             "--destination", "world"]
    assert prkl(*query, db=db, check=0).stdout == prkl(*query, db=db2, check=0).stdout


def test_rows_written_by_plain_sql_are_seen(tmp_path):
    path = tmp_path / "w.db"
    prkl("import-dump", RATESTASK, db=f"sqlite:{path}", check=0)
    subprocess.run(["sqlite3", path, "INSERT INTO prices (orig_code, dest_code, day, price) VALUES ('CNCWN', 'NOMAY', '2016-02-01', 500)"],
                   check=True)
    days = json.loads(prkl("rates", "--from", "2016-02-01", "--to", "2016-02-01", "--origin",
                           "china_main", "--destination", "NOMAY", "--min-count", "1",
                           db=f"sqlite:{path}", check=0).stdout)
    assert days[0]["count"] == 1


def test_sqlite_refuses_a_malformed_day_from_plain_sql(tmp_path):
    path = tmp_path / "m.db"
    prkl("init", db=f"sqlite:{path}", check=0)
    result = subprocess.run(["sqlite3", path, "INSERT INTO regions VALUES ('r', 'R', NULL);"
                             "INSERT INTO ports VALUES ('AAAAA', 'A', 'r');"
                             "INSERT INTO prices (orig_code, dest_code, day, price) VALUES ('AAAAA', 'AAAAA', '2016-1-1', 5)"],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "CHECK constraint failed" in result.stderr


def test_percentiles_buckets_matrix(real_db):
    week = json.loads(prkl("rates", "--from", "2016-01-01", "--to", "2016-01-10", "--origin",
                           "CNSGH", "--destination", "north_europe_main", "--bucket", "week",
                           "--percentiles", "25,50,75", db=real_db, check=0).stdout)
    assert [w["day"] for w in week] == ["2015-12-28", "2016-01-04"]
    assert list(week[0]) == ["day", "average_price", "count", "min", "max", "p25", "p50", "p75"]
    assert week[0]["min"] <= week[0]["p25"] <= week[0]["p50"] <= week[0]["p75"] <= week[0]["max"]
    table = prkl("rates", "--from", "2016-01-01", "--to", "2016-01-01", "--origin", "CNSGH",
                 "--destination", "north_europe_main", "--percentiles", "50", "--format", "table",
                 db=real_db, check=0).stdout.splitlines()
    assert table[0].split() == ["day", "average_price", "count", "min", "max", "p50"]
    matrix = json.loads(prkl("matrix", "--from", "2016-01-01", "--to", "2016-01-02",
                             "--origins", "CNSGH,china_main", "--destinations", "NLRTM",
                             db=real_db, check=0).stdout)
    assert [(lane["origin"], lane["destination"]) for lane in matrix["lanes"]] == [
        ("CNSGH", "NLRTM"), ("china_main", "NLRTM")]
    band = json.loads(prkl("rates", "--from", "2016-01-01", "--to", "2016-01-01", "--origin",
                           "CNSGH", "--destination", "north_europe_main", "--scale", "2",
                           "--percentiles", "2.5,97.5", db=real_db, check=0).stdout)
    assert list(band[0])[-2:] == ["p2.5", "p97.5"]
    assert band[0]["min"] <= float(band[0]["p2.5"]) <= float(band[0]["p97.5"]) <= band[0]["max"]
    for args, named in ((["--percentiles", "0"], "'0' is not strictly between 0 and 100"),
                        (["--percentiles", "5x"], "'5x'"),
                        (["--percentiles", "2.5.1"], "'2.5.1' is not a number"),
                        (["--percentiles", "2.1234567"], "'2.1234567' has more than 6 fraction"),
                        (["--bucket", "year"], "'year'")):
        out = prkl("rates", "--from", "2016-01-01", "--to", "2016-01-02", "--origin", "CNSGH",
                   "--destination", "NLRTM", *args, db=real_db, check=2)
        assert named in out.stderr


def test_exchange_rates_and_batch_show(tmp_path):
    db = f"sqlite:{tmp_path / 'fx.db'}"
    prkl("import-dump", RATESTASK, db=db, check=0)
    fx = tmp_path / "fx"
    fx.mkdir()
    write(fx / "2016-02-01.json", '{"base": "USD", "rates": {"EUR": 0.9, "GBP": 0.7}}')
    assert "2 were new" in prkl("fx", "import", fx, db=db, check=0).stdout
    write(fx / "2016-02-01.json", '{"base": "USD", "rates": {"EUR": 0.91}}')
    out = prkl("fx", "import", fx, db=db, check=2)
    assert "stored as 0.9, not 0.91" in out.stderr
    assert "1 were new or changed" in prkl("fx", "import", fx, "--replace", db=db, check=0).stdout
    write(fx / "2016-02-02.json", '{"base": "USD", "rates": {"EUR": 0}}')
    assert "rates.EUR" in prkl("fx", "import", fx, db=db, check=2).stderr

    batch = write(tmp_path / "eur.csv",
                  "origin,destination,day,price,currency\nCNSGH,NLRTM,2016-02-03,910,EUR\n"
                  "CNSGH,NLRTM,2016-02-03,700,\n")
    prkl("batch", "apply", batch, "--id", "eur", db=db, check=0)
    shown = prkl("batch", "show", "eur", db=db, check=0).stdout
    assert "EUR 2016-02-01 0.91" in shown
    shown = json.loads(prkl("batch", "show", "eur", "--format", "json", db=db, check=0).stdout)
    assert shown["rates_used"] == [{"currency": "EUR", "day": "2016-02-01", "rate": "0.91"}]
    assert "no batch 'nope'" in prkl("batch", "show", "nope", db=db, check=2).stderr
    day = json.loads(prkl("rates", "--from", "2016-02-03", "--to", "2016-02-03", "--origin",
                          "CNSGH", "--destination", "NLRTM", "--min-count", "1", db=db,
                          check=0).stdout)[0]
    assert (day["min"], day["max"]) == (700, 1000)  # 910 EUR at 0.91 EUR per USD
    in_gbp = json.loads(prkl("rates", "--from", "2016-02-03", "--to", "2016-02-03", "--origin",
                             "CNSGH", "--destination", "NLRTM", "--min-count", "1",
                             "--currency", "GBP", db=db, check=0).stdout)[0]
    assert (in_gbp["min"], in_gbp["max"]) == (490, 700)


def chain_dump(path, depth):
    """A dump of regions r1 > r2 > ... > r<depth>, with a port in the deepest."""
    rows = "".join(f"r{i}\tRegion {i}\t{'r' + str(i - 1) if i > 1 else chr(92) + 'N'}\n"
                   for i in range(1, depth + 1))
    path.write_text("COPY regions (slug, name, parent_slug) FROM stdin;\n" + rows
                    + "\\.\nCOPY ports (code, name, parent_slug) FROM stdin;\n"
                    f"AADEP\tDeep\tr{depth}\n\\.\n")
    return path


def test_a_deep_region_chain_is_refused_not_crashed_on(tmp_path):
    db = f"sqlite:{tmp_path / 'deep.db'}"
    # 100,000 levels: once minutes of quadratic work, now refused on the region one level too
    # deep (on line 66: the COPY line comes first).
    out = prkl("import-dump", chain_dump(tmp_path / "deep.sql", 100_000), db=db, check=2)
    assert ("line 66: parent_slug: region 'r65' is nested 65 levels deep below the root region "
            "'r1', more than the limit of 64 (Options::max_region_depth)") in out.stderr
    assert not (tmp_path / "deep.db").exists()  # the store it created is gone again

    # 30,000 levels written by another SQL client: the tree view overflowed the stack.
    path = tmp_path / "sql.db"
    prkl("init", db=f"sqlite:{path}", check=0)
    subprocess.run(["sqlite3", path,
                    "INSERT INTO regions (slug, name, parent_slug) WITH RECURSIVE n(i) AS "
                    "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000) "
                    "SELECT 'r' || i, 'R', CASE WHEN i > 1 THEN 'r' || (i - 1) END FROM n"],
                   check=True)
    for args in (["regions", "--format", "table"], ["regions"], ["ports", "--region", "r1"]):
        out = prkl(*args, db=f"sqlite:{path}", check=1)
        assert "the store's regions table cannot be used: region 'r65'" in out.stderr, args

    # Exactly the limit works, through every view of the tree.
    db = f"sqlite:{tmp_path / 'limit.db'}"
    prkl("import-dump", chain_dump(tmp_path / "limit.sql", 64), db=db, check=0)
    table = prkl("regions", "--format", "table", db=db, check=0).stdout.splitlines()
    assert len(table) == 64 and table[63] == " " * 126 + "r64 (Region 64): AADEP"
    node, depth = json.loads(prkl("regions", db=db, check=0).stdout)[0], 1
    while node["regions"]:
        node, depth = node["regions"][0], depth + 1
    assert depth == 64 and node["ports"] == ["AADEP"]
    assert [p["code"] for p in json.loads(prkl("ports", "--region", "r1", db=db,
                                               check=0).stdout)] == ["AADEP"]


@pytest.mark.parametrize("args, message", [
    (["--ports", "430000"], "generator option ports is 430000, outside 2..100000"),
    (["--days", "4611686018427387904"],
     "generator option days is 4611686018427387904, outside 1..36600"),
    (["--lanes", "100", "--ports", "10"], "generator option lanes is 100, outside 1..90"),
    (["--prices-per-day", "0"], "generator option prices_per_day is 0, outside 1..1000"),
])
def test_generate_refuses_options_out_of_bounds(tmp_path, args, message):
    # --ports 430000 once ran out of codes and looped forever; the days overflowed.
    out = prkl("generate", *args, "--dump", tmp_path / "never.sql", check=2)
    assert out.stderr == f"prkl: {message}\n"
    assert not (tmp_path / "never.sql").exists()


def test_text_that_is_not_clean_is_refused_everywhere(tmp_path):
    db = f"sqlite:{tmp_path / 't.db'}"
    prkl("import-dump", RATESTASK, db=db, check=0)
    good = write(tmp_path / "good.csv", "origin,destination,day,price\nCNSGH,NLRTM,2016-02-01,900\n")
    # A batch id that is not UTF-8 was committed, and then its JSON answer failed.
    for bad_id in (os.fsdecode(b"\xff"), "esc\x1b[2J"):
        out = prkl("batch", "apply", good, "--id", bad_id, "--format", "json", db=db, check=2)
        assert "batch id '" in out.stderr and "an id must be 1 to 200 bytes" in out.stderr
        assert "\x1b" not in out.stderr
    assert "batch id '\\xff' is not valid UTF-8" in prkl("batch", "show", os.fsdecode(b"\xff"),
                                                         db=db, check=2).stderr
    days = json.loads(prkl("rates", "--from", "2016-02-01", "--to", "2016-02-01", "--origin",
                           "CNSGH", "--destination", "NLRTM", db=db, check=0).stdout)
    assert days[0]["count"] == 0

    dirty = tmp_path / "dirty.csv"
    dirty.write_bytes(b"origin,destination,day,price\n"
                      b"CNSGH,\"NL\nRTM\",2016-02-01,900\n"
                      b"CNSGH,NLRTM,2016-02-01,9\xff\n"
                      b"CN\x1bSGH,NLRTM,2016-02-01,900\n")
    out = prkl("batch", "validate", dirty, db=db, check=2)
    assert ("row 1 (line 2): destination: destination 'NL\\nRTM' holds the control character "
            "\\n at byte 3") in out.stderr
    assert ("row 2 (line 4): price: price '9\\xff' is not valid UTF-8 (byte \\xff at byte 2)"
            in out.stderr)
    assert "row 3 (line 5): origin: origin 'CN\\x1bSGH'" in out.stderr

    for location in ("CN\x1bSGH", os.fsdecode(b"\xc3"), "x" * 10_000):
        out = prkl("rates", "--from", "2016-02-01", "--to", "2016-02-01", "--origin", location,
                   "--destination", "NLRTM", db=db, check=2)
        assert len(out.stderr) < 300 and "\x1b" not in out.stderr
    out = prkl("ports", "--search", "os\tlo", db=db, check=2)
    assert "search text 'os\\tlo' holds the control character \\t at byte 3" in out.stderr

    # A name that is not UTF-8, in a dump: once loaded, after which `ports` failed for good.
    broken = tmp_path / "broken.sql"
    broken.write_bytes(b"COPY regions (slug, name, parent_slug) FROM stdin;\nr\tR\\377\t\\N\n\\.\n"
                       b"COPY ports (code, name, parent_slug) FROM stdin;\nAAAAA\tA\\033\tr\n\\.\n")
    db2 = f"sqlite:{tmp_path / 'b.db'}"
    out = prkl("import-dump", broken, db=db2, check=2)
    assert "line 2: name: region name 'R\\xff' is not valid UTF-8" in out.stderr
    assert "line 5: name: port name 'A\\x1b' holds the control character \\x1b" in out.stderr
    assert not (tmp_path / "b.db").exists()


def test_a_huge_csv_field_is_refused_naming_its_line_and_column(tmp_path):
    db = f"sqlite:{tmp_path / 'h.db'}"
    prkl("import-dump", RATESTASK, db=db, check=0)
    huge = tmp_path / "huge.csv"
    huge.write_text("origin,destination,day,price\nCNSGH,NLRTM,2016-02-01,900\n"
                    "CNSGH,\"" + "N" * 10_000_000 + "\",2016-02-01,900\n")
    out = prkl("batch", "validate", huge, db=db, check=2)
    assert out.stderr == (f"prkl: {huge}: line 3: field 'destination' is longer than 4096 bytes; "
                          "no batch field needs that many\n")


def test_market_band_fallback_and_rank(real_db):
    lane = ["--from", "2016-01-01", "--to", "2016-01-03", "--origin", "china_main",
            "--destination", "north_europe_main"]
    band = json.loads(prkl("market", *lane, "--format", "json", db=real_db, check=0).stdout)
    assert band["asked"] == {"origin": "china_main", "destination": "north_europe_main"}
    assert band["answered"] == {**band["asked"], "steps": 0}
    first = band["days"][0]
    assert list(first) == ["day", "count", "low", "midlow", "median", "mean", "midhigh", "high"]
    assert all(isinstance(first[k], str) for k in ("low", "median", "high"))  # decimal strings
    assert int(first["low"]) <= int(first["median"]) <= int(first["high"])
    assert band["days"][2]["count"] == 0 and band["days"][2]["median"] is None
    table = prkl("market", *lane, "--format", "table", db=real_db, check=0).stdout.splitlines()
    assert table[0].split() == ["day", "count", "low", "midlow", "median", "mean", "midhigh",
                                "high"]
    # A thin port pair steps up and says so on stderr; the CSV stays plain.
    thin = ["--from", "2016-01-01", "--to", "2016-01-02", "--origin", "CNSGH", "--destination",
            "NLRTM", "--min-count", "50", "--fallback"]
    out = prkl("market", *thin, "--format", "csv", db=real_db, check=0)
    assert out.stdout.splitlines()[0] == "day,count,low,midlow,median,mean,midhigh,high"
    assert "CNSGH -> NLRTM is thin; answered for" in out.stderr
    stepped = json.loads(prkl("market", *thin, "--format", "json", db=real_db, check=0).stdout)
    assert stepped["answered"]["steps"] > 0

    ranks = json.loads(prkl("rank", "--price", first["median"], *lane, "--format", "json",
                            db=real_db, check=0).stdout)
    assert [r["day"] for r in ranks] == ["2016-01-01", "2016-01-02", "2016-01-03"]
    assert 0.4 <= float(ranks[0]["percent_rank"]) <= 0.6
    assert ranks[2]["percent_rank"] is None
    for args, named in ((["rank", "--price", "-3"], "--price: '-3' is not a decimal"),
                        (["rank", "--price", "1e3"], "'1e3'"),
                        (["market", "--min-count", "0"], "min_count 0 must be at least 1"),
                        (["market", "--scale", "10"], "scale 10"),
                        (["market", "--bucket", "year"], "'year'")):
        out = prkl(*args, *lane, db=real_db, check=2)
        assert named in out.stderr, out.stderr
    out = prkl("market", "--from", "2016-01-01", "--to", "2016-01-02", "--origin", "atlantis",
               "--destination", "NLRTM", db=real_db, check=2)
    assert "unknown location 'atlantis'" in out.stderr


def test_dimensions_from_a_csv_batch_and_the_filters_of_every_question(tmp_path):
    db = f"sqlite:{tmp_path / 'd.db'}"
    prkl("import-dump", RATESTASK, db=db, check=0)
    batch = tmp_path / "dims.csv"
    batch.write_text("origin,destination,day,price,equipment,term,received\n"
                     "CNSGH,NLRTM,2018-03-01,100,40HC,short,2018-02-28\n"
                     "CNSGH,NLRTM,2018-03-01,200,40HC,long,2017-12-01\n"
                     "CNSGH,NLRTM,2018-03-01,600,40HC,long,\n"
                     "CNSGH,NLRTM,2018-03-01,1000,20DC,,\n")
    prkl("batch", "apply", batch, db=db, check=0)
    lane = ["--from", "2018-03-01", "--to", "2018-03-01", "--origin", "CNSGH", "--destination",
            "NLRTM", "--min-count", "1", "--format", "json"]

    def answer(*args):
        return json.loads(prkl(*args, *lane, db=db, check=0).stdout)

    assert answer("rates")[0]["count"] == 4
    assert answer("rates", "--equipment", "40HC,20DC", "--max-age", "1")[0]["count"] == 3
    assert answer("market", "--term", "long")["days"][0]["median"] == "400"
    assert answer("rank", "--price", "200", "--equipment", "40HC")[0]["percent_rank"] == "0.333333"
    matrix = json.loads(prkl("matrix", "--from", "2018-03-01", "--to", "2018-03-01", "--origins",
                             "CNSGH", "--destinations", "NLRTM", "--min-count", "1", "--term",
                             "short", "--format", "json", db=db, check=0).stdout)
    assert matrix["lanes"][0]["rates"][0]["count"] == 1
    for args, named in ((["--equipment", "99ZZ"], "'99ZZ'"), (["--term", "medium"], "'medium'"),
                        (["--max-age", "-1"], "-1")):
        out = prkl("rates", *args, *lane, db=db, check=2)
        assert named in out.stderr, out.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("origin,destination,day,price,equipment,term\n"
                   "CNSGH,NLRTM,2018-03-02,100,99ZZ,short\n"
                   "CNSGH,NLRTM,2018-03-02,100,40HC,medium\n")
    out = prkl("batch", "apply", bad, db=db, check=2)
    assert "'99ZZ'" in out.stderr and "'medium'" in out.stderr, out.stderr
    nothing = json.loads(prkl("rates", "--from", "2018-03-02", "--to", "2018-03-02", "--origin",
                              "CNSGH", "--destination", "NLRTM", "--min-count", "1", "--format",
                              "json", db=db, check=0).stdout)
    assert nothing[0]["count"] == 0


def test_contracts_from_a_csv_batch(tmp_path):
    db = f"sqlite:{tmp_path / 'c.db'}"
    prkl("import-dump", RATESTASK, db=db, check=0)
    batch = tmp_path / "contracts.csv"
    batch.write_text("origin,destination,valid_from,valid_to,price,term\n"
                     "CNSGH,NLRTM,2019-01-01,2019-12-31,1000,long\n"
                     "CNSGH,NLRTM,2019-03-01,2019-03-31,3000,long\n")
    out = prkl("batch", "apply", batch, "--format", "json", db=db, check=0)
    assert json.loads(out.stdout)["prices"] == 2
    band = json.loads(prkl("market", "--from", "2019-02-27", "--to", "2019-03-02", "--origin",
                           "CNSGH", "--destination", "NLRTM", "--min-count", "1", "--term",
                           "long", "--format", "json", db=db, check=0).stdout)
    assert [(d["count"], d["median"]) for d in band["days"]] == [
        (1, "1000"), (1, "1000"), (2, "2000"), (2, "2000")]
    bad = tmp_path / "bad.csv"
    bad.write_text("origin,destination,valid_from,valid_to,price\n"
                   "CNSGH,NLRTM,2019-01-01,2021-06-30,1000\n")
    out = prkl("batch", "apply", bad, db=db, check=2)
    assert "validity 2019-01-01..2021-06-30 is longer than 731 days" in out.stderr, out.stderr


def test_generate_with_dimensions_and_contracts_into_a_store_only(tmp_path):
    db = f"sqlite:{tmp_path / 'g.db'}"
    out = prkl("generate", "--ports", "20", "--lanes", "50", "--days", "40", "--dimensions",
               "--contracts-percent", "20", db=db, check=0)
    assert re.fullmatch(r"generated \d+ regions, 20 ports, \d+ prices, \d+ contracts into .*\n",
                        out.stdout), out.stdout
    long = json.loads(prkl("rates", "--from", "2024-02-01", "--to", "2024-02-01", "--origin",
                           "world", "--destination", "world", "--term", "long", "--min-count",
                           "1", db=db, check=0).stdout)
    assert long[0]["count"] > 0
    for flag in (["--dimensions"], ["--contracts-percent", "5"]):
        out = prkl("generate", *flag, "--dump", tmp_path / "d.sql", check=2)
        assert "a dump has no place for them" in out.stderr, out.stderr
        assert not (tmp_path / "d.sql").exists()
