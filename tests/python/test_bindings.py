# SPDX-License-Identifier: MIT
"""`import prkl` on both backends: answers, exceptions, batches and threads."""

import copy
import datetime
import logging
import decimal
import pickle
import threading

import pytest

import prkl
from conftest import RATESTASK, cut_off

KNOWN = [(1, 24, 1112), (2, 24, 1112), (3, 0, None), (4, 1, None), (5, 24, 1142), (6, 24, 1142),
         (7, 24, 1137), (8, 24, 1124), (9, 24, 1124), (10, 24, 1124)]


def test_known_answer(real_url):
    db = prkl.connect(real_url)
    days = db.rates(datetime.date(2016, 1, 1), "2016-01-10", "CNSGH", "north_europe_main")
    assert [(d.day.day, d.count, d.average_price) for d in days] == KNOWN
    assert all(isinstance(d.day, datetime.date) for d in days)
    assert isinstance(days[0].average_price, int)
    assert days[3].min == days[3].max == 100500
    assert days[2].min is None
    assert days[0].to_dict() == {"day": "2016-01-01", "average_price": 1112, "count": 24,
                                 "min": 705, "max": 1703}
    # The keys in the order every front end shows them (prkl::fields()).
    assert list(days[0].to_dict()) == ["day", "average_price", "count", "min", "max"]


def test_scaled_average_is_a_decimal(real_url):
    day = prkl.connect(real_url).rates("2016-01-01", "2016-01-01", "CNSGH", "north_europe_main",
                                       scale=2)[0]
    assert isinstance(day.average_price, decimal.Decimal)
    assert day.average_price == decimal.Decimal("1111.92")
    # to_dict() keeps the exact value; a float only when asked for.
    assert day.to_dict()["average_price"] == decimal.Decimal("1111.92")
    assert isinstance(day.to_dict()["average_price"], decimal.Decimal)
    assert day.to_dict(float_ok=True)["average_price"] == 1111.92


def test_rates_json_is_the_same_answer_as_exact_text(real_url):
    import json
    db = prkl.connect(real_url)
    args = ("2016-01-01", "2016-01-10", "CNSGH", "north_europe_main")
    assert json.loads(db.rates_json(*args)) == [d.to_dict() for d in db.rates(*args)]
    scaled = db.rates_json(*args, scale=2, fields=("average_price", "day"), newest_first=True)
    # The exact decimal text, not a float's; keys in the order asked; newest day first.
    assert scaled.startswith('[{"average_price":1124.25,"day":"2016-01-10"},')
    assert '{"average_price":1112.00,"day":"2016-01-02"}' in scaled
    assert '{"average_price":null,"day":"2016-01-04"}' in scaled
    assert json.loads(scaled, parse_float=decimal.Decimal)[-1]["average_price"] == \
        decimal.Decimal("1111.92")
    with pytest.raises(prkl.InvalidArgument, match="unknown rates field 'price'"):
        db.rates_json(*args, fields=("day", "price"))


def test_exceptions_map_to_typed_python_errors(real_url):
    db = prkl.connect(real_url)
    with pytest.raises(prkl.InvalidArgument, match="2016-01-10 is after"):
        db.rates("2016-01-10", "2016-01-01", "CNSGH", "NLRTM")
    with pytest.raises(ValueError, match="'2016-1-1'"):
        db.rates("2016-1-1", "2016-01-01", "CNSGH", "NLRTM")
    with pytest.raises(prkl.InvalidArgument, match="datetime.date"):
        db.rates(20160101, "2016-01-01", "CNSGH", "NLRTM")
    with pytest.raises(prkl.NotFound, match="'ATLANTIS'"):
        db.rates("2016-01-01", "2016-01-02", "CNSGH", "ATLANTIS")
    with pytest.raises(LookupError):
        db.port("XXXXX")
    with pytest.raises(prkl.NotFound):
        prkl.connect("sqlite:/nonexistent/dir/x.db")
    with pytest.raises(prkl.InvalidArgument, match="unknown scheme"):
        prkl.connect("mysql://x")
    for cls in (prkl.InvalidArgument, prkl.NotFound, prkl.ValidationError, prkl.StorageError,
                prkl.BatchConflict):
        assert issubclass(cls, prkl.Error)
    assert issubclass(prkl.BatchConflict, ValueError)


def test_storage_errors_are_prkl_errors(tmp_path):
    not_a_database = tmp_path / "garbage.db"
    not_a_database.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(prkl.InvalidArgument, match=f"'{not_a_database}' is not a SQLite database"):
        prkl.connect(f"sqlite:{not_a_database}")
    no_schema = tmp_path / "empty.db"
    no_schema.write_bytes(b"")
    with pytest.raises(prkl.StorageError, match="prkl init"):
        prkl.connect(f"sqlite:{no_schema}")


def test_a_sqlite_writer_waits_busy_timeout_then_says_so(tmp_path):
    import sqlite3
    path = tmp_path / "locked.db"
    url = f"sqlite:{path}"
    db = prkl.connect(url, create=True, busy_timeout=0.05)
    db.import_dump(RATESTASK)
    rows = [("CNSGH", "NLRTM", "2016-02-01", 900)]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(prkl.StorageError, match="locked: waited 50 ms .*busy_timeout"):
        db.apply(rows, batch_id="waits")
    other.execute("ROLLBACK")
    other.close()
    assert db.apply(rows, batch_id="waits").prices == 1
    for bad in (-1, float("nan"), 1e12):
        with pytest.raises(prkl.InvalidArgument, match="busy_timeout"):
            prkl.connect(url, busy_timeout=bad)


def test_ports_and_regions(real_url):
    db = prkl.connect(real_url)
    assert db.port("NOMAY").name == "Måløy"
    assert [p.code for p in db.ports(search="MÅLØY")] == ["NOMAY"]
    in_region = db.ports(region="north_europe_main", limit=1000)
    assert "GBFXT" in {p.code for p in in_region}
    assert len(db.ports(limit=5, offset=5)) == 5
    assert db.resolve("CNSGH") == ["CNSGH"]
    tree = db.region_tree()
    assert {node.slug for node in tree} == {"china_main", "northern_europe"}
    assert tree[0].to_dict()["regions"]
    assert tree[0].to_dict()["parent"] is None
    assert tree[0].to_dict()["regions"][0]["parent"] == tree[0].slug
    with pytest.raises(prkl.NotFound):
        db.ports(region="atlantis")


def test_batches_dicts_tuples_and_csv(real_url, tmp_path):
    db = prkl.connect(real_url)
    bad = [("CNSGH", "NLRTM", "2016-02-30", 900),
           {"origin": "CNXXX", "destination": "NLRTM", "day": "2016-02-01", "price": 900},
           ("CNSGH", "NLRTM", "2016-02-05", "2016-02-01", 900),
           ("CNSGH", "NLRTM", "2016-02-01", 12.5)]
    errors = db.validate(bad)
    assert [(e.row, e.field) for e in errors] == [(1, "day"), (2, "origin"), (3, "date_to"),
                                                  (4, "price")]
    with pytest.raises(prkl.ValidationError) as caught:
        db.apply(bad, batch_id="b1")
    assert [e.to_dict()["row"] for e in caught.value.errors] == [1, 2, 3, 4]
    assert db.rates("2016-02-01", "2016-02-05", "CNSGH", "NLRTM", min_count=1)[0].count == 0

    good = [("CNSGH", "NLRTM", datetime.date(2016, 2, 1), 900),
            {"orig_code": "CNSGH", "dest_code": "NLRTM", "date_from": "2016-02-01",
             "date_to": datetime.date(2016, 2, 3), "price": "1000"}]
    first = db.apply(good, batch_id="b1")
    assert (first.rows, first.prices, first.replayed) == (2, 4, False)
    again = db.apply(good, batch_id="b1")
    assert again.replayed and again.applied_at == first.applied_at
    with pytest.raises(prkl.BatchConflict):
        db.apply(good[:1], batch_id="b1")
    days = db.rates("2016-02-01", "2016-02-03", "CNSGH", "NLRTM", min_count=1)
    assert [d.count for d in days] == [2, 1, 1]
    assert days[0].average_price == 950

    csv = tmp_path / "batch.csv"
    csv.write_text("origin,destination,day,price\nCNSGH,NLRTM,2016-02-04,700\n")
    assert db.apply(csv).prices == 1
    assert db.apply(str(csv)).replayed
    with pytest.raises(prkl.InvalidArgument, match="unknown key 'prize'"):
        db.apply([{"origin": "CNSGH", "destination": "NLRTM", "day": "2016-02-01", "prize": 1}])
    with pytest.raises(prkl.InvalidArgument, match="4 items|3 items"):
        db.apply([("CNSGH", "NLRTM", 1)])


def test_threads_query_while_a_batch_applies(real_url):
    db = prkl.connect(real_url, pool_size=4)
    failures = []
    stop = threading.Event()

    def query():
        try:
            while not stop.is_set():
                days = db.rates("2016-01-01", "2016-01-10", "CNSGH", "north_europe_main")
                # Readers see the state before the batch or after it, never half of it.
                assert [d.average_price for d in days] == [k[2] for k in KNOWN]
                total = sum(d.count for d in db.rates("2017-01-01", "2017-01-28", "CNSGH",
                                                      "NLRTM", min_count=1))
                assert total in (0, 50_000), total
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(e)

    threads = [threading.Thread(target=query) for _ in range(3)]
    for t in threads:
        t.start()
    rows = [("CNSGH", "NLRTM", datetime.date(2017, 1, 1 + i % 28), 100 + i % 500)
            for i in range(50_000)]
    result = db.apply(rows, batch_id="big")
    stop.set()
    for t in threads:
        t.join()
    assert not failures, failures
    assert result.prices == 50_000
    assert sum(d.count for d in db.rates("2017-01-01", "2017-01-28", "CNSGH", "NLRTM",
                                         min_count=1)) == 50_000


def test_the_gil_is_released_during_store_work(real_url, tmp_path):
    """A Python thread keeps running while another thread's call is in C++.

    One long call (a 50,000-row CSV batch, read and applied in C++) rather than many short
    ones: rates() now returns in microseconds, inside one of the interpreter's own thread
    switches, so short calls prove nothing either way.
    """
    batch = tmp_path / "big.csv"
    with batch.open("w") as f:
        f.write("origin,destination,day,price\n")
        for i in range(50_000):
            f.write(f"CNSGH,NLRTM,2018-{1 + i % 12:02}-{1 + i % 28:02},{100 + i % 900}\n")
    db = prkl.connect(real_url)
    ticks = 0
    done = threading.Event()

    def spin():
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    before = ticks
    db.apply(str(batch), batch_id="gil")
    during = ticks - before
    done.set()
    spinner.join()
    assert during > 0


def test_import_and_init(empty_url):
    db = prkl.connect(empty_url, create=True)
    assert db.import_dump(RATESTASK) == (20, 143, 53056)
    assert "table prkl_batches" in db.init()  # what connect(create=True) made
    assert db.init() == []
    db.ping()
    with pytest.raises(prkl.InvalidArgument, match="already holds data"):
        db.import_dump(RATESTASK)
    assert db.backend in ("sqlite", "postgresql")


def write_rates(directory, day, rates):
    import json
    directory.mkdir(exist_ok=True)
    (directory / f"{day}.json").write_text(json.dumps({"base": "USD", "rates": rates}))
    return directory


def test_percentiles_buckets_and_matrix(real_url):
    db = prkl.connect(real_url)
    # A lane and week of its own: Thursday to Sunday of one ISO week, then the Monday after.
    rows = [("CNSGH", "NLRTM", f"2017-06-0{d}", p)
            for d, p in ((1, 100), (2, 200), (3, 300), (4, 1000), (5, 10))]
    db.apply(rows, batch_id="percentiles")
    args = ("2017-06-01", "2017-06-05", "CNSGH", "NLRTM")
    weeks = db.rates(*args, bucket="week", percentiles=[25, 50, 75], min_count=1)
    assert [w.day for w in weeks] == [datetime.date(2017, 5, 29), datetime.date(2017, 6, 5)]
    assert [w.count for w in weeks] == [4, 1]
    # percentile_cont over 100, 200, 300, 1000: ranks 0.75, 1.5 and 2.25.
    assert weeks[0].percentiles == {25: 175, 50: 250, 75: 475}
    assert weeks[1].percentiles == {25: 10, 50: 10, 75: 10}
    scaled = db.rates(*args, bucket="month", percentiles=[10], scale=2, min_count=1)[0]
    assert scaled.percentiles[10] == decimal.Decimal("46.00")  # rank 0.4: 10 + 0.4 * (100 - 10)
    assert str(scaled.to_dict()["p10"]) == "46.00"
    assert scaled.to_dict(float_ok=True)["p10"] == 46.0
    assert db.rates(*args, percentiles=[50])[0].percentiles == {50: None}  # below min_count

    lanes = db.rates_matrix("2016-01-01", "2016-01-10", ["CNSGH", "china_main"],
                            ["north_europe_main", "NLRTM"], bucket="week")
    assert [(o, d) for o, d, _ in lanes] == [("CNSGH", "north_europe_main"), ("CNSGH", "NLRTM"),
                                             ("china_main", "north_europe_main"),
                                             ("china_main", "NLRTM")]
    for origin, destination, rates in lanes:
        assert [r.to_dict() for r in rates] == [
            r.to_dict() for r in db.rates("2016-01-01", "2016-01-10", origin, destination,
                                          bucket="week")]
    text = db.rates_matrix_json("2017-06-01", "2017-06-01", ["CNSGH"], ["NLRTM"], min_count=1,
                                fields=("day", "average_price", "percentiles"), percentiles=[50])
    assert text == ('{"lanes":[{"origin":"CNSGH","destination":"NLRTM","rates":'
                    '[{"day":"2017-06-01","average_price":100,"p50":100}]}]}')
    with pytest.raises(prkl.InvalidArgument, match="percentile 100 is not strictly between 0 and 100"):
        db.rates(*args, percentiles=[100])
    with pytest.raises(prkl.InvalidArgument, match="percentile 2.55555555 has more than 6 fraction"):
        db.rates(*args, percentiles=[2.55555555])
    # Fractions as PostgreSQL's percentile_cont(p / 100.0): whole percents keep int keys.
    band = db.rates("2017-06-01", "2017-06-01", "CNSGH", "NLRTM", min_count=1, scale=2,
                    percentiles=[2.5, 50, 97.5])[0]
    assert list(band.percentiles) == [2.5, 50, 97.5]
    assert isinstance(list(band.percentiles)[1], int)
    assert set(band.to_dict()) >= {"p2.5", "p50", "p97.5"}
    with pytest.raises(prkl.InvalidArgument, match="unknown bucket 'year'"):
        db.rates(*args, bucket="year")
    with pytest.raises(prkl.InvalidArgument, match="11 origins x 10 destinations is 110 lanes"):
        db.rates_matrix(*args[:2], ["CNSGH"] * 11, ["NLRTM"] * 10)


def test_currencies(real_url, tmp_path):
    db = prkl.connect(real_url)
    rates_dir = write_rates(tmp_path / "fx", "2017-06-01", {"EUR": 0.8, "JPY": 110.25})
    assert db.import_exchange_rates(rates_dir) == 2
    with pytest.raises(prkl.InvalidArgument, match="stored as 0.8, not 0.9"):
        db.import_exchange_rates(write_rates(tmp_path / "fx", "2017-06-01", {"EUR": 0.9}))
    result = db.apply([{"origin": "CNSGH", "destination": "NLRTM", "day": "2017-06-03",
                        "price": 1000, "currency": "EUR"}], batch_id="in-euros")
    assert result.rates_used == [{"currency": "EUR", "day": datetime.date(2017, 6, 1),
                                  "rate": decimal.Decimal("0.8")}]
    assert result.to_dict()["rates_used"] == [{"currency": "EUR", "day": "2017-06-01",
                                               "rate": "0.8"}]
    assert db.batch("in-euros").rates_used == result.rates_used
    assert db.batch("never") is None
    day = db.rates("2017-06-03", "2017-06-03", "CNSGH", "NLRTM", min_count=1)[0]
    assert day.min == 1250  # 1000 EUR at 0.8 EUR per USD
    in_yen = db.rates("2017-06-03", "2017-06-03", "CNSGH", "NLRTM", min_count=1,
                      currency="JPY")[0]
    assert in_yen.average_price == 137813  # 1250 * 110.25 = 137812.5, half away from zero
    errors = db.validate([{"origin": "CNSGH", "destination": "NLRTM", "day": "2017-07-01",
                           "price": 1, "currency": "EUR"}])
    assert [(e.field, e.message) for e in errors] == [
        ("currency", "no EUR exchange rate for 2017-07-01 or the 7 days before it")]
    with pytest.raises(prkl.NotFound, match="unknown currency 'CHF'"):
        db.rates("2017-06-03", "2017-06-03", "CNSGH", "NLRTM", currency="CHF")


def chain_dump(path, depth):
    rows = "".join(f"r{i}\tRegion {i}\t{'r' + str(i - 1) if i > 1 else chr(92) + 'N'}\n"
                   for i in range(1, depth + 1))
    path.write_text("COPY regions (slug, name, parent_slug) FROM stdin;\n" + rows
                    + f"\\.\nCOPY ports (code, name, parent_slug) FROM stdin;\nAADEP\tDeep\tr{depth}\n\\.\n")
    return path


def test_region_depth_is_limited_and_never_crashes(empty_url, tmp_path):
    db = prkl.connect(empty_url, create=True)
    with pytest.raises(prkl.ValidationError) as refused:
        db.import_dump(chain_dump(tmp_path / "deep.sql", 100_000))
    assert [(e.row, e.field) for e in refused.value.errors] == [(66, "parent_slug")]
    assert "Options::max_region_depth" in refused.value.errors[0].message

    # Written by another client, 30,000 levels crashed region_tree() with a stack overflow.
    if empty_url.startswith("sqlite:"):
        import sqlite3
        with sqlite3.connect(empty_url[len("sqlite:"):]) as other:
            other.execute("INSERT INTO regions (slug, name, parent_slug) WITH RECURSIVE n(i) AS "
                          "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000) "
                          "SELECT 'r' || i, 'R', CASE WHEN i > 1 THEN 'r' || (i - 1) END FROM n")
        with pytest.raises(prkl.StorageError, match="region 'r65' is nested 65 levels deep"):
            db.region_tree()
        return

    # The limit is a keyword of connect(), bounded itself.
    deeper = prkl.connect(empty_url, max_region_depth=100)
    deeper.import_dump(chain_dump(tmp_path / "100.sql", 100))
    node, depth = deeper.region_tree()[0].to_dict(), 1
    while node["regions"]:
        node, depth = node["regions"][0], depth + 1
    assert depth == 100 and node["ports"] == ["AADEP"]
    # The same store under the default limit is refused, not answered from.
    with pytest.raises(prkl.StorageError, match="more than the limit of 64"):
        prkl.connect(empty_url).resolve("r1")
    with pytest.raises(prkl.InvalidArgument, match="max_region_depth is 1000, outside 1..256"):
        prkl.connect(empty_url, max_region_depth=1000)


def test_text_that_is_not_clean_is_refused(empty_url, tmp_path):
    db = prkl.connect(empty_url, create=True)
    # A name that is not UTF-8 once loaded, after which every ports() raised UnicodeDecodeError.
    dump = tmp_path / "dirty.sql"
    dump.write_bytes(b"COPY regions (slug, name, parent_slug) FROM stdin;\nr\tR\\377\t\\N\n\\.\n"
                     b"COPY ports (code, name, parent_slug) FROM stdin;\nAAAAA\tA\tr\n"
                     b"BBBBB\tB\\033[2J\tr\n\\.\n")
    with pytest.raises(prkl.ValidationError) as refused:
        db.import_dump(dump)
    assert [(e.row, e.field, e.message) for e in refused.value.errors] == [
        (2, "name", "region name 'R\\xff' is not valid UTF-8 (byte \\xff at byte 2)"),
        (6, "name", "port name 'B\\x1b[2J' holds the control character \\x1b at byte 2")]
    assert db.ports() == []

    dump.write_bytes(b"COPY regions (slug, name, parent_slug) FROM stdin;\nr\tR\t\\N\n\\.\n"
                     b"COPY ports (code, name, parent_slug) FROM stdin;\nAAAAA\tA\tr\n"
                     b"BBBBB\tB\tr\n\\.\n")
    db.import_dump(dump)
    rows = [{"origin": "AAAAA", "destination": "BBBBB", "day": "2024-01-01", "price": 5},
            {"origin": "AAAAA\x1b", "destination": "BBBBB", "day": "2024-01-01", "price": 5},
            ("AAAAA", "BBBBB", "2024-01-01\t", 5)]
    with pytest.raises(prkl.ValidationError) as refused:
        db.apply(rows, batch_id="dirty")
    assert [(e.row, e.field) for e in refused.value.errors] == [(2, "origin"), (3, "day")]
    assert refused.value.errors[0].message == \
        "origin 'AAAAA\\x1b' holds the control character \\x1b at byte 6"
    with pytest.raises(prkl.InvalidArgument, match=r"batch id 'a\\x1bb' holds the control"):
        db.apply(rows[:1], batch_id="a\x1bb")
    assert db.batch("dirty") is None
    with pytest.raises(prkl.InvalidArgument, match=r"origin 'AAAAA\\x00'"):
        db.rates("2024-01-01", "2024-01-01", "AAAAA\x00", "BBBBB")
    with pytest.raises(prkl.InvalidArgument, match=r"region 'r\\x7f'"):
        db.ports(region="r\x7f")
    with pytest.raises(prkl.NotFound, match=r"\.\.\.' \(100000 bytes\)"):
        db.port("A" * 100_000)
    assert db.rates("2024-01-01", "2024-01-01", "AAAAA", "BBBBB", min_count=1)[0].count == 0


def test_connect_as_a_context_manager_and_close(real_url):
    with prkl.connect(real_url) as db:
        assert not db.closed
        assert db.port("CNSGH").name == "Shanghai"
    assert db.closed
    with pytest.raises(prkl.Error, match="closed"):
        db.port("CNSGH")
    db.close()  # again: nothing happens
    db = prkl.connect(real_url)
    with pytest.raises(ZeroDivisionError):
        with db:
            1 / 0  # the block's exception goes on, and the database is closed all the same
    assert db.closed


def test_repr_and_url_never_show_the_password():
    # Connecting fails (nothing listens there), so the URL shows up in the error too.
    for url, shown in [
            ("postgresql://rates:s3cret@127.0.0.1:1/rates?connect_timeout=1",
             "postgresql://rates:***@127.0.0.1:1/rates?connect_timeout=1"),
            ("host=127.0.0.1 port=1 password='s3cret word' dbname=rates connect_timeout=1",
             "host=127.0.0.1 port=1 password=*** dbname=rates connect_timeout=1")]:
        with pytest.raises(prkl.Error) as caught:
            prkl.connect(url)
        assert "s3cret" not in str(caught.value)
        assert prkl.redact_url(url) == shown


def test_repr_of_an_open_database(tmp_path):
    url = f"sqlite:{tmp_path / 'r.db'}"
    with prkl.connect(url, create=True) as db:
        assert repr(db) == f"<prkl.Database url='{url}'>" and db.url == url
    assert repr(db) == f"<prkl.Database url='{url}' closed>"


def test_values_compare_hash_and_pickle(real_url):
    db = prkl.connect(real_url)
    args = ("2016-01-01", "2016-01-10", "CNSGH", "north_europe_main")
    days = db.rates(*args, scale=2, percentiles=[25, 50])
    again = db.rates(*args, scale=2, percentiles=[25, 50])
    assert days == again and days[0] is not again[0]
    assert days[0] != days[1] and days[0] != "2016-01-01"
    assert len({*days, *again}) == len(days)  # equal values hash alike
    ports = db.ports()
    tree = db.region_tree()
    result = db.apply([{"origin": "CNSGH", "destination": "NLRTM", "date_from": "2016-02-01",
                        "date_to": "2016-02-03", "price": "10", "currency": "USD"}],
                      batch_id="pickle-me")
    errors = db.validate([{"origin": "XXXXX", "destination": "NLRTM", "date_from": "2016-02-01",
                           "date_to": "2016-02-01", "price": "-1"}])
    for value in [days, ports, tree, result, errors]:
        for copied in (pickle.loads(pickle.dumps(value)), copy.deepcopy(value)):
            assert copied == value
            assert [hash(x) for x in (copied if isinstance(copied, list) else [copied])] == \
                [hash(x) for x in (value if isinstance(value, list) else [value])]
    assert {p: p.code for p in ports}[ports[0]] == ports[0].code  # usable as dict keys
    assert errors and errors[0] == pickle.loads(pickle.dumps(errors[0]))


def test_deepest_region_tree_pickles(tmp_path):
    depth = 256  # the deepest max_region_depth allows
    dump = tmp_path / "deep.sql"
    regions = "\n".join(f"r{i}\tR{i}\t{'r' + str(i - 1) if i else chr(92) + 'N'}"
                        for i in range(depth))
    dump.write_text(f"COPY regions (slug, name, parent_slug) FROM stdin;\n{regions}\n\\.\n"
                    "COPY ports (code, name, parent_slug) FROM stdin;\n"
                    f"AAAAA\tA\tr{depth - 1}\n\\.\n"
                    "COPY prices (orig_code, dest_code, day, price) FROM stdin;\n\\.\n")
    db = prkl.connect(f"sqlite:{tmp_path / 'deep.db'}", create=True, max_region_depth=depth)
    db.import_dump(dump)
    tree = db.region_tree()
    copied = pickle.loads(pickle.dumps(tree))
    assert copied == tree and hash(copied[0]) == hash(tree[0])
    node = copied[0]
    for _ in range(depth - 1):
        node = node.regions[0]
    assert node.slug == f"r{depth - 1}" and node.ports == ["AAAAA"]


def test_rates_as_columns_and_as_a_dataframe(real_url):
    db = prkl.connect(real_url)
    args = ("2016-01-01", "2016-01-10", "CNSGH", "north_europe_main")
    days = db.rates(*args, percentiles=[50])
    columns = db.rates_columns(*args, percentiles=[50])
    assert list(columns) == ["day", "count", "average_price", "min", "max", "p50"]
    assert columns["day"] == [d.day for d in days]
    assert columns["average_price"] == [d.average_price for d in days]
    assert columns["average_price"][:4] == [1112, 1112, None, None]
    assert columns["p50"] == [d.percentiles[50] for d in days]

    import pandas
    frame = db.rates_frame(*args, scale=2)
    assert list(frame.index.strftime("%Y-%m-%d")) == [d.day.isoformat() for d in days]
    assert str(frame["count"].dtype) == "Int64" and frame["min"].isna().tolist()[2]
    # Exact values survive: Decimals, not floats.
    assert frame["average_price"].iloc[0] == decimal.Decimal("1111.92")
    assert isinstance(frame["average_price"].iloc[0], decimal.Decimal)
    assert frame["average_price"].iloc[2] is None
    assert len(prkl.rates_frame([])) == 0 and isinstance(frame, pandas.DataFrame)


def test_columns_need_no_pandas(real_url, tmp_path):
    # In a fresh interpreter where pandas cannot be imported: the lists work, the DataFrame
    # says what to install.
    script = tmp_path / "no_pandas.py"
    script.write_text(f"""
import sys
sys.modules["pandas"] = None  # import pandas fails
import prkl
db = prkl.connect({real_url!r})
assert db.rates_columns("2016-01-01", "2016-01-02", "CNSGH", "NLRTM")["day"]
try:
    db.rates_frame("2016-01-01", "2016-01-02", "CNSGH", "NLRTM")
except ImportError as e:
    assert "python3-pandas" in str(e)
else:
    raise SystemExit("rates_frame without pandas did not raise")
""")
    import os
    import subprocess
    import sys
    subprocess.run([sys.executable, str(script)], check=True, env=dict(os.environ))


def test_library_reports_go_to_the_prkl_logger(real_url, caplog):
    db = prkl.connect(real_url)
    prkl.set_slow_call_threshold(0)
    try:
        with caplog.at_level(logging.INFO, logger="prkl"):
            db.rates("2016-01-01", "2016-01-10", "CNSGH", "north_europe_main")
            db.apply([["CNSGH", "NLRTM", "2016-02-01", "2016-02-03", 900]], batch_id="logged-1")
            with pytest.raises(prkl.ValidationError):
                db.apply([["CNSGH", "NLRTM", "2016-02-01", 900], ["ATLANTIS", "NLRTM",
                                                                   "2016-02-01", 900]],
                         batch_id="refused-1")
    finally:
        prkl.set_slow_call_threshold(1)
    by_event = {}
    for record in caplog.records:
        assert record.name == "prkl"
        by_event.setdefault(record.prkl_event, []).append(record)
    slow = [r for r in by_event["slow_call"] if r.prkl_fields["operation"] == "rates"]
    assert slow and slow[0].levelno == logging.WARNING
    applied = by_event["batch_applied"][0]
    assert applied.levelno == logging.INFO
    assert applied.prkl_fields["batch_id"] == "logged-1" and applied.prkl_fields["prices"] == "3"
    refused = by_event["batch_refused"][0]
    assert refused.levelno == logging.WARNING and refused.prkl_fields["bad_rows"] == "1"
    # Ids and counts, never a row.
    assert not any("ATLANTIS" in r.getMessage() for r in caplog.records)


def test_readiness_never_raises_for_the_store(real_url):
    db = prkl.connect(real_url)
    state = db.readiness()
    assert state["ready"] and state["reason"] is None
    assert state["schema_version"] == prkl.SCHEMA_VERSION and state["standby"] is False
    if real_url.startswith("sqlite:"):
        return
    with cut_off(real_url):
        state = db.readiness()
        assert not state["ready"] and "does not answer" in state["reason"]
    assert db.readiness()["ready"]
