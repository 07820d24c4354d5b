# SPDX-License-Identifier: MIT
"""What a read costs the Flask example: the data version is read once per request, by the call
that answers, ETag or not; public reads do not look at tokens."""

import prkl

from test_apps import TOKEN_ENV, example_module, sample, scrape

QUERY = {"date_from": "2016-01-01", "date_to": "2016-01-10", "origin": "CNSGH",
         "destination": "north_europe_main"}


def version_reads(client):
    # /metrics itself reads no version.
    return sample(scrape(client.get("/metrics").get_data(as_text=True)),
                  "prkl_version_reads_total")


def test_each_cacheable_read_reads_the_data_version_once(real_url):
    app = example_module("flask").create_app(real_url)
    app.config.update(TOKEN_ENV)
    client = app.test_client()
    first = client.get("/rates", query_string=QUERY)  # opens the store
    tag = first.headers["ETag"]
    asks = [
        ("/rates", QUERY, {}, 200),
        ("/rates", QUERY, {"If-None-Match": tag}, 304),
        ("/rates", {**QUERY, "destination": "NLRTM"}, {"If-None-Match": tag}, 200),
        ("/rates", {"date_from": "2016-01-01", "date_to": "2016-01-10", "orig_code": "CNSGH",
                    "dest_code": "NLRTM"}, {}, 200),
        ("/rates/matrix", {"date_from": "2016-01-01", "date_to": "2016-01-10",
                           "origins": "CNSGH,china_main", "destinations": "NLRTM"}, {}, 200),
        ("/ports", {"region": "china_main"}, {}, 200),
        ("/ports/CNSGH", {}, {}, 200),
        ("/regions", {}, {}, 200),
    ]
    for path, query, headers, status in asks:
        before = version_reads(client)
        response = client.get(path, query_string=query, headers=headers)
        assert response.status_code == status, (path, response.data[:200])
        assert response.headers["ETag"] and response.headers["Cache-Control"] == "no-cache"
        assert version_reads(client) - before == 1, (path, headers)


def test_the_etag_is_the_version_the_answer_was_read_at(real_url):
    """The tag moves with a write between two reads, and a tag taken before a write is never
    answered 304 after it."""
    app = example_module("flask").create_app(real_url)
    client = app.test_client()
    tag = client.get("/rates", query_string=QUERY).headers["ETag"]
    db = prkl.connect(real_url)
    body, version = db.rates_json(QUERY["date_from"], QUERY["date_to"], QUERY["origin"],
                                  QUERY["destination"], with_version=True)
    assert version == db.data_version() and isinstance(body, str)
    db.apply([["CNSGH", "NLRTM", "2016-01-05", 1000]], batch_id="moves-the-tag")
    assert db.rates_json(QUERY["date_from"], QUERY["date_to"], QUERY["origin"],
                         QUERY["destination"], with_version=True)[1] != version
    moved = client.get("/rates", query_string=QUERY, headers={"If-None-Match": tag})
    assert moved.status_code == 200 and moved.headers["ETag"] != tag
    # Without with_version the answers are what they were.
    assert isinstance(db.port("CNSGH"), prkl.Port)
    port, token = db.port("CNSGH", with_version=True)
    assert port.code == "CNSGH" and token == db.data_version()


def test_public_reads_ignore_the_authorization_header(real_url):
    """Reads are public by default: a garbage Authorization header on a read is not looked at
    (it costs nothing), while reads protected by PRKL_AUTH_READS still check it."""
    app = example_module("flask").create_app(real_url)
    app.config.update(TOKEN_ENV)
    client = app.test_client()
    garbage = {"Authorization": "Bearer !!not a token!!"}
    assert client.get("/rates", query_string=QUERY, headers=garbage).status_code == 200
    app.config["PRKL_AUTH_READS"] = True
    assert client.get("/rates", query_string=QUERY, headers=garbage).status_code == 401
