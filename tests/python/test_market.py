# SPDX-License-Identifier: MIT
"""The market's questions from Python: the band, its fallback, rank, and their JSON forms, on
both backends and the real ratestask dump. Their exactness against PostgreSQL's own aggregates
is the C++ conformance suite's (tests/common/market_test.cpp); here: the Python contract."""
import datetime
import decimal
import json

import pytest

import prkl

MONTH = ("2016-01-01", "2016-01-31")


def test_the_band_is_ordered_and_its_json_is_its_dict(real_url):
    db = prkl.connect(real_url)
    answer = db.market(*MONTH, "china_main", "north_europe_main", scale=2)
    assert answer.asked == answer.answered == ("china_main", "north_europe_main")
    assert answer.steps == 0
    assert len(answer.days) == 31
    day = answer.days[0]
    assert day.day == datetime.date(2016, 1, 1) and day.count > 3
    assert day.low <= day.midlow <= day.median <= day.midhigh <= day.high
    assert day.low <= day.mean <= day.high
    assert isinstance(day.median, decimal.Decimal)
    # The same band as rates() with the band's percentiles gives.
    rates = db.rates(*MONTH, "china_main", "north_europe_main", scale=2,
                     percentiles=[2.5, 25, 50, 75, 97.5])[0]
    assert [day.low, day.midlow, day.median, day.midhigh, day.high] == list(
        rates.percentiles.values())
    assert day.mean == rates.average_price
    document = answer.to_dict()
    assert json.loads(db.market_json(*MONTH, "china_main", "north_europe_main", scale=2)) == document
    assert document["answered"] == {"origin": "china_main", "destination": "north_europe_main",
                                    "steps": 0}
    assert document["days"][0]["median"] == str(day.median)


def test_fallback_steps_up_and_answers_as_the_level_asked_directly(real_url):
    db = prkl.connect(real_url)
    # One port pair with few prices: the band steps up until more than half its days have 50.
    thin = db.market(*MONTH, "CNSGH", "NLRTM", min_count=50)
    stepped = db.market(*MONTH, "CNSGH", "NLRTM", min_count=50, fallback=True)
    assert sum(d.count < 50 for d in thin.days) * 2 > len(thin.days)
    assert stepped.steps > 0 and stepped.answered != ("CNSGH", "NLRTM")
    origin, destination = stepped.answered
    direct = db.market(*MONTH, origin, destination, min_count=50)
    assert [d.median for d in stepped.days] == [d.median for d in direct.days]
    assert [d.count for d in stepped.days] == [d.count for d in direct.days]


def test_rank_takes_exact_prices_and_refuses_floats(real_url):
    db = prkl.connect(real_url)
    band = db.market(*MONTH, "china_main", "north_europe_main")
    median = band.days[0].median
    for price in (median, decimal.Decimal(median), str(median)):
        day = db.rank(price, "2016-01-01", "2016-01-01", "china_main", "north_europe_main")[0]
        assert day.count == band.days[0].count
        assert decimal.Decimal("0.4") <= day.percent_rank <= decimal.Decimal("0.6")
        assert day.percent_rank < day.cume_dist
    cheapest = db.rank(1, "2016-01-01", "2016-01-01", "china_main", "north_europe_main")[0]
    assert cheapest.percent_rank == 0
    assert json.loads(db.rank_json("1", "2016-01-01", "2016-01-01", "china_main",
                                   "north_europe_main")) == [
        {"day": "2016-01-01", "count": cheapest.count, "percent_rank": "0.000000",
         "cume_dist": str(cheapest.cume_dist)}]
    with pytest.raises(prkl.InvalidArgument, match="must be an int, a decimal.Decimal or a str"):
        db.rank(1500.5, *MONTH, "china_main", "north_europe_main")
    with pytest.raises(prkl.InvalidArgument, match="'-5' is not a decimal"):
        db.rank(-5, *MONTH, "china_main", "north_europe_main")
    with pytest.raises(prkl.InvalidArgument, match="price '0' is not above 0"):
        db.rank(0, *MONTH, "china_main", "north_europe_main")
    with pytest.raises(prkl.NotFound, match="unknown location 'atlantis'"):
        db.rank(100, *MONTH, "atlantis", "north_europe_main")


DIMENSIONED = [  # a day the dump has no prices on
    {"origin": "CNSGH", "destination": "NLRTM", "day": "2018-03-01", "price": 100,
     "equipment": "40HC", "term": "short", "received": "2018-02-28"},
    {"origin": "CNSGH", "destination": "NLRTM", "day": "2018-03-01", "price": 200,
     "equipment": "40HC", "term": "long", "received": "2017-12-01"},
    {"origin": "CNSGH", "destination": "NLRTM", "day": "2018-03-01", "price": 600,
     "equipment": "40HC", "term": "long"},
    {"origin": "CNSGH", "destination": "NLRTM", "day": "2018-03-01", "price": 1000,
     "equipment": "20DC"},
    ("CNSGH", "NLRTM", "2018-03-01", 5000),  # as a ratestask row: no dimensions
]
DAY = ("2018-03-01", "2018-03-01")


def test_filters_count_only_the_prices_they_name(real_url):
    db = prkl.connect(real_url)
    assert db.apply(DIMENSIONED, batch_id="dimensioned").prices == 5

    def counted(**filters):
        return db.rates(*DAY, "CNSGH", "NLRTM", min_count=1, **filters)[0].count

    assert counted() == 5
    assert counted(equipment="40HC") == 3
    assert counted(equipment=["40HC", "20DC"]) == 4
    assert counted(equipment=("20DC",), term="long") == 0
    assert counted(term="long") == 2
    assert counted(max_age_days=1) == 4  # received 90 days before is too old
    assert counted(equipment="40HC", term="long", max_age_days=0) == 1
    band = db.market(*DAY, "CNSGH", "north_europe_main", min_count=1, equipment="40HC")
    assert (band.days[0].count, band.days[0].median, band.days[0].mean) == (3, 200, 300)
    assert json.loads(db.market_json(*DAY, "CNSGH", "north_europe_main", min_count=1,
                                     equipment="40HC")) == band.to_dict()
    rank = db.rank(200, *DAY, "CNSGH", "NLRTM", term="long")[0]
    assert (rank.count, rank.percent_rank) == (2, 0)
    lanes = db.rates_matrix(*DAY, ["CNSGH"], ["NLRTM", "north_europe_main"], min_count=1,
                            term="short")
    assert [lane[2][0].count for lane in lanes] == [1, 1]
    assert json.loads(db.rates_json(*DAY, "CNSGH", "NLRTM", min_count=1, term="short")) == [
        {"day": "2018-03-01", "count": 1, "average_price": 100, "min": 100, "max": 100}]


def test_bad_filters_and_dimensions_are_named_and_nothing_is_written(real_url):
    db = prkl.connect(real_url)
    for filters, named in (({"equipment": "99ZZ"}, "'99ZZ'"), ({"equipment": ["40HC", "4"]}, "'4'"),
                           ({"term": "medium"}, "'medium'"), ({"max_age_days": -1}, "-1")):
        with pytest.raises(prkl.InvalidArgument, match=named):
            db.rates(*DAY, "CNSGH", "NLRTM", **filters)
        with pytest.raises(prkl.InvalidArgument, match=named):
            db.market(*DAY, "CNSGH", "NLRTM", **filters)
    with pytest.raises(prkl.InvalidArgument, match="must be a code or a list of codes"):
        db.rates(*DAY, "CNSGH", "NLRTM", equipment=40)
    before = db.data_version
    with pytest.raises(prkl.ValidationError) as failed:
        db.apply([{**DIMENSIONED[0], "equipment": "99ZZ"}, {**DIMENSIONED[0], "term": "medium"},
                  DIMENSIONED[1]])
    assert [(e.row, e.field) for e in failed.value.errors] == [(1, "equipment"), (2, "term")]
    assert db.data_version == before
    assert "45G1" not in db.equipment() and "40HC" in db.equipment()
    assert db.add_equipment(["45G1", "40HC"]) == 1
    assert db.apply([{**DIMENSIONED[0], "equipment": "45G1"}]).prices == 1
    assert db.rates(*DAY, "CNSGH", "NLRTM", min_count=1, equipment="45G1")[0].count == 1


def test_a_contract_is_one_row_counted_on_every_day_it_is_valid(real_url):
    db = prkl.connect(real_url)
    year = ("2019-01-01", "2019-12-31")  # no prices of the dump
    result = db.apply([{"origin": "CNSGH", "destination": "NLRTM", "valid_from": year[0],
                        "valid_to": year[1], "price": 1000, "equipment": "40HC", "term": "long"},
                       {"origin": "CNSGH", "destination": "NLRTM", "day": "2019-07-01",
                        "price": 2000}], batch_id="year")
    assert (result.rows, result.prices) == (2, 2)
    days = db.rates(*year, "CNSGH", "north_europe_main", min_count=1)
    assert len(days) == 365 and all(d.count == (2 if str(d.day) == "2019-07-01" else 1)
                                    for d in days)
    assert db.rates(*year, "CNSGH", "NLRTM", min_count=1, term="long")[181].average_price == 1000
    months = db.rates(*year, "CNSGH", "NLRTM", min_count=1, bucket="month")
    assert [m.count for m in months][:3] == [31, 28, 31]
    # Valid from its first day, 'received' unless given: 30 days of age reach 2019-01-31.
    aged = db.rates(*year, "CNSGH", "NLRTM", min_count=1, max_age_days=30, term="long")
    assert [d.count for d in aged[29:32]] == [1, 1, 0]
    with pytest.raises(prkl.ValidationError) as failed:
        db.apply([{"origin": "CNSGH", "destination": "NLRTM", "valid_from": "2019-05-01",
                   "valid_to": "2019-04-01", "price": 10}])
    assert failed.value.errors[0].message == (
        "reversed range: valid_to 2019-04-01 is before valid_from 2019-05-01")
    capped = prkl.connect(real_url, max_batch_contracts=1)
    two = [{"origin": "CNSGH", "destination": "NLRTM", "valid_from": f"2020-0{m}-01",
            "valid_to": f"2020-0{m}-28", "price": 10} for m in (1, 2)]
    with pytest.raises(prkl.ValidationError, match="Options::max_batch_contracts"):
        capped.apply(two)


def test_the_copys_prices_answer_as_the_store_does(real_url):
    copied = prkl.connect(real_url)
    from_store = prkl.connect(real_url, max_copied_prices=0)
    assert copied.apply(DIMENSIONED, batch_id="dimensioned").prices == 5
    for days in [("2016-01-01", "2016-01-31"), ("2018-02-20", "2018-03-10")]:
        for filters in [dict(equipment="40HC"), dict(term="long"), {}]:
            expected = from_store.market(*days, "china_main", "north_europe_main", min_count=1,
                                         **filters).to_dict()
            for _ in range(2):  # into the copy, then from it
                assert copied.market(*days, "china_main", "north_europe_main", min_count=1,
                                     **filters).to_dict() == expected
    with pytest.raises(prkl.InvalidArgument, match="max_copied_prices is -1"):
        prkl.connect(real_url, max_copied_prices=-1)
