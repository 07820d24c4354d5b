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
