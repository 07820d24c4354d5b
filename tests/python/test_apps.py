# SPDX-License-Identifier: MIT
"""The Flask and Bottle examples over real HTTP: gunicorn on a free loopback port, urllib calls."""

import contextlib
import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import prkl
from prkl.auth import token_hash
from conftest import PSQL_ENV, XENETA, HeldCommits, cut_off, other_client, postgres_url, psql

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# The tests' tokens (made up here, so not secret): the apps are configured with their hashes.
WRITE_TOKEN = "prkl_tests-write-0123456789abcdefghijklmnopqrstuvwxyz"
READ_TOKEN = "prkl_tests-read-0123456789abcdefghijklmnopqrstuvwxyz"
TOKEN_ENV = {"PRKL_WRITE_TOKEN_HASHES": token_hash(WRITE_TOKEN),
             "PRKL_READ_TOKEN_HASHES": token_hash(READ_TOKEN)}
WRITE_AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}


class Server:
    """An example app under gunicorn, configured with the tests' token hashes (tokens=False: with
    none), whose calls send the write token unless told otherwise (token=None: no header)."""

    def __init__(self, app_dir, target, db_url, extra_args=(), env=None, tokens=True,
                 output=subprocess.PIPE):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(os.environ, PRKL_DB=db_url, **(TOKEN_ENV if tokens else {}), **(env or {}),
                   PYTHONPATH=os.pathsep.join([os.environ["PYTHONPATH"], str(app_dir)]))
        self.process = subprocess.Popen(
            # A worker that gunicorn 20.1 signals to stop while it is still booting (before it
            # has its own signal handlers) misses the signal and is killed only when the
            # graceful timeout ends; 5 s keeps a test's stop() well inside its wait.
            [sys.executable, "-m", "gunicorn", "--threads", "4", "--chdir", str(app_dir),
             "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "5", *extra_args, target],
            env=env, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self.process.stdout.read().decode()
                                       if self.process.stdout else "gunicorn did not start")
                time.sleep(0.1)

    def call(self, method, path, body=None, headers=None, token=WRITE_TOKEN):
        headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body,
                                         method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), json.loads(e.read())

    def get(self, path, **params):
        return self.call("GET", f"{path}?{urllib.parse.urlencode(params)}" if params else path)

    def post_json(self, path, payload, headers=None, token=WRITE_TOKEN):
        return self.call("POST", path, json.dumps(payload).encode(),
                         {"Content-Type": "application/json", **(headers or {})}, token=token)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def flask_server(real_url):
    server = Server(EXAMPLES / "flask", "app:create_app()", real_url)
    yield server
    server.stop()


@pytest.fixture
def bottle_server(real_url):
    server = Server(EXAMPLES / "bottle", "app:app", real_url)
    yield server
    server.stop()


RATESTASK_ANSWER = [1112, 1112, None, None, 1142, 1142, 1137, 1124, 1124, 1124]


def check_ratestask_rates(server):
    status, headers, body = server.get("/rates", date_from="2016-01-01", date_to="2016-01-10",
                                       origin="CNSGH", destination="north_europe_main")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert [d["average_price"] for d in body] == RATESTASK_ANSWER
    assert body[0] == {"day": "2016-01-01", "average_price": 1112}


def check_error_contract(server):
    cases = [
        ({"date_from": "2016-01-01", "date_to": "2016-01-10", "origin": "CNSGH"}, 400,
         "'destination'"),
        ({"date_from": "2016-13-01", "date_to": "2016-01-10", "origin": "CNSGH",
          "destination": "NLRTM"}, 400, "2016-13-01"),
        ({"date_from": "2016-01-10", "date_to": "2016-01-01", "origin": "CNSGH",
          "destination": "NLRTM"}, 400, "reversed"),
        ({"date_from": "1900-01-01", "date_to": "2016-01-01", "origin": "CNSGH",
          "destination": "NLRTM"}, 400, "maximum"),
        ({"date_from": "2016-01-01", "date_to": "2016-01-10", "origin": "ATLANTIS",
          "destination": "NLRTM"}, 404, "'ATLANTIS'"),
    ]
    for params, status, named in cases:
        got, _, body = server.get("/rates", **params)
        assert got == status, (params, body)
        assert named in body["error"]
    assert server.get("/nowhere")[0] == 404


def test_flask_ratestask_rates(flask_server):
    check_ratestask_rates(flask_server)


def test_flask_operations_task_rates(flask_server):
    status, _, body = flask_server.get("/rates", date_from="2016-01-01", date_to="2016-01-10",
                                       orig_code="CNSGH", dest_code="north_europe_main")
    assert status == 200
    rates = body["rates"]
    assert [r["day"] for r in rates][:2] == ["2016-01-10", "2016-01-09"]  # newest first
    # The unrounded average as a float, as the operations-task app answered it: 26686 / 24.
    assert rates[-1] == {"count": 24, "day": "2016-01-01", "price": 1111.9166666666667}
    assert rates[-3] == {"count": 0, "day": "2016-01-03", "price": None}
    assert rates[-4]["count"] == 1 and rates[-4]["price"] is None


def test_flask_error_contract(flask_server):
    check_error_contract(flask_server)
    assert flask_server.get("/ports", limit="many")[0] == 400
    assert flask_server.get("/ports", region="atlantis")[0] == 404
    assert flask_server.call("DELETE", "/rates")[0] == 405
    assert flask_server.call("POST", "/prices", b"{not json", {"Content-Type": "application/json"})[0] == 400


GARBAGE = ["", "x" * 900,  # (longer URLs meet gunicorn's own 4094-byte line limit)
            "-1", "99999999999999999999999", "1e3", "\u00e5\u00f8", "%00", "[]"]


def test_flask_never_answers_500_to_garbage(flask_server):
    for value in GARBAGE:
        for path, params in (
                ("/rates", {"date_from": value, "date_to": "2016-01-02", "origin": "CNSGH",
                            "destination": "NLRTM"}),
                ("/rates", {"date_from": "2016-01-01", "date_to": "2016-01-02", "orig_code": value,
                            "dest_code": "NLRTM", "scale": value}),
                ("/rates", {"date_from": "2016-01-01", "date_to": "2016-01-02", "origin": "CNSGH",
                            "destination": "NLRTM", "percentiles": value, "bucket": value,
                            "currency": value}),
                ("/rates/matrix", {"date_from": "2016-01-01", "date_to": "2016-01-02",
                                   "origins": value, "destinations": value}),
                ("/ports", {"limit": value, "offset": value, "search": value, "region": value})):
            status, _, body = flask_server.get(path, **params)
            assert 200 <= status < 500 and (status == 200 or body["error"]), (path, params, body)
        for payload in ({"batch_id": value, "rows": [[value] * 4, {"price": value}]},
                        {"rows": value}, [value], value):
            status, _, body = flask_server.post_json("/batches", payload)
            assert 400 <= status < 500, (payload, body)
            status, _, body = flask_server.post_json("/prices", {"date_from": value, "price": value})
            assert 400 <= status < 500, (value, body)


def test_flask_ports_regions_health(flask_server):
    status, _, body = flask_server.get("/ports", search="måløy")
    assert status == 200 and body == {"ports": [{"code": "NOMAY", "name": "Måløy", "region": "scandinavia"}]}
    in_region = flask_server.get("/ports", region="north_europe_main", limit=1000)[2]["ports"]
    assert len(in_region) == 8 and "GBFXT" in {p["code"] for p in in_region}  # uk_main's too
    assert flask_server.get("/ports/CNSGH")[2]["name"] == "Shanghai"
    assert flask_server.get("/ports/XXXXX")[0] == 404
    assert {r["slug"] for r in flask_server.get("/regions")[2]["regions"]} == {"china_main", "northern_europe"}
    status, _, body = flask_server.get("/health")
    assert status == 200 and body == {"status": "ok", "version": prkl.__version__}
    status, _, body = flask_server.get("/ready")
    assert status == 200, body
    assert body == {"status": "ready", "schema_version": prkl.SCHEMA_VERSION,
                    "readable_from": prkl.SCHEMA_VERSION, "standby": False,
                    "replay_lag_seconds": None}


def test_flask_price_upload(flask_server):
    price = {"date_from": "2016-02-01", "date_to": "2016-02-03", "origin_code": "CNSGH",
             "destination_code": "NLRTM", "price": 900}
    status, _, body = flask_server.post_json("/prices", price)
    assert status == 201 and body["prices"] == 3
    form = urllib.parse.urlencode({**price, "price": "1000"}).encode()
    status, _, body = flask_server.call("POST", "/prices", form,
                                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 201
    days = flask_server.get("/rates", date_from="2016-02-01", date_to="2016-02-03",
                            orig_code="CNSGH", dest_code="NLRTM")[2]["rates"]
    assert [d["count"] for d in days] == [2, 2, 2]
    assert flask_server.post_json("/prices", {**price, "origin_code": "XXXXX"})[0] == 404
    status, _, body = flask_server.post_json("/prices", {**price, "price": -3})
    assert status == 400 and "-3" in body["error"]
    status, _, body = flask_server.post_json("/prices", {**price, "date_to": "2016-01-01"})
    assert status == 400 and "reversed" in body["error"]
    assert flask_server.post_json("/prices", {"price": 1})[0] == 400


def test_flask_batches(flask_server):
    good = {"batch_id": "web-1", "rows": [
        {"origin": "CNSGH", "destination": "NLRTM", "day": "2016-03-01", "price": 700},
        ["CNSGH", "NLRTM", "2016-03-01", "2016-03-02", 800]]}
    status, headers, first = flask_server.post_json("/batches", good)
    assert status == 201 and first["prices"] == 3 and "Idempotent-Replayed" not in headers
    status, headers, again = flask_server.post_json("/batches", good)
    assert status == 201 and again == first and headers["Idempotent-Replayed"] == "true"

    bad = {"batch_id": "web-2", "rows": [
        {"origin": "CNSGH", "destination": "NLRTM", "day": "2016-03-40", "price": 700},
        {"origin": "CNXXX", "destination": "NLRTM", "day": "2016-03-01", "price": 0}]}
    status, _, body = flask_server.post_json("/batches", bad)
    assert status == 422
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(1, "day"), (2, "origin"), (2, "price")]

    csv_body = "origin,destination,day,price\nCNSGH,NLRTM,2016-03-05,650\n".encode()
    status, _, body = flask_server.call("POST", "/batches?batch_id=csv-1", csv_body,
                                        {"Content-Type": "text/csv"})
    assert status == 201 and body["prices"] == 1
    status, _, body = flask_server.call("POST", "/batches", csv_body, {"Content-Type": "text/csv"})
    assert status == 400 and "batch_id" in body["error"]
    status, _, body = flask_server.call("POST", "/batches?batch_id=csv-2",
                                        b"origin,destination,day,prize\nCNSGH,NLRTM,2016-03-05,1\n",
                                        {"Content-Type": "text/csv"})
    assert status == 400 and "prize" in body["error"]
    days = flask_server.get("/rates", date_from="2016-03-01", date_to="2016-03-05",
                            orig_code="CNSGH", dest_code="NLRTM")[2]["rates"]
    assert sum(d["count"] for d in days) == 4


def test_bottle(bottle_server):
    check_ratestask_rates(bottle_server)
    check_error_contract(bottle_server)
    status, _, body = bottle_server.get("/ports", search="oslo")
    assert status == 200 and body["ports"][0]["code"] == "NOOSL"
    assert bottle_server.get("/ports", limit="x")[0] == 400
    for value in GARBAGE:
        status, _, _ = bottle_server.get("/ports", limit=value, offset=value, region=value)
        assert 200 <= status < 500, value
    assert bottle_server.get("/health")[2]["status"] == "ok"


def test_flask_richer_answers(flask_server, real_url, tmp_path):
    base = {"date_from": "2016-01-01", "date_to": "2016-01-10", "origin": "CNSGH",
            "destination": "north_europe_main"}
    status, _, body = flask_server.get("/rates", **base, percentiles="25,50,75")
    assert status == 200 and list(body[0]) == ["day", "average_price", "p25", "p50", "p75"]
    assert body[0]["p25"] <= body[0]["p50"] <= body[0]["p75"]
    status, _, band = flask_server.get("/rates", **base, percentiles="2.5,50,97.5")
    assert status == 200 and list(band[0]) == ["day", "average_price", "p2.5", "p50", "p97.5"]
    assert band[0]["p2.5"] <= band[0]["p50"] <= band[0]["p97.5"]
    assert body[3]["p50"] is None  # a day below min_count
    weeks = flask_server.get("/rates", **base, bucket="week")[2]
    assert [w["day"] for w in weeks] == ["2015-12-28", "2016-01-04"]
    ops = flask_server.get("/rates", date_from="2016-01-01", date_to="2016-01-03",
                           orig_code="CNSGH", dest_code="north_europe_main", percentiles="50")[2]
    assert set(ops["rates"][-1]) == {"count", "day", "price", "p50"}

    status, _, body = flask_server.get("/rates/matrix", date_from="2016-01-01",
                                       date_to="2016-01-02", origins="CNSGH,china_main",
                                       destinations="north_europe_main", percentiles="50")
    assert status == 200
    assert [(lane["origin"], lane["destination"]) for lane in body["lanes"]] == [
        ("CNSGH", "north_europe_main"), ("china_main", "north_europe_main")]
    assert body["lanes"][0]["rates"][0]["average_price"] == 1112
    assert list(body["lanes"][0]["rates"][0]) == ["day", "average_price", "p50"]

    for params, named in (({"percentiles": "0"}, "percentile 0"),
                          ({"percentiles": "2.5.1"}, "'2.5.1'"),
                          ({"percentiles": "2.5555555"}, "'2.5555555'"),
                          ({"percentiles": "fifty"}, "'fifty'"), ({"percentiles": "1" * 30}, "percentiles"),
                          ({"bucket": "fortnight"}, "'fortnight'"),
                          ({"currency": "euro"}, "'euro'")):
        status, _, body = flask_server.get("/rates", **base, **params)
        assert status == 400 and named in body["error"], (params, body)
    status, _, body = flask_server.get("/rates/matrix", date_from="2016-01-01",
                                       date_to="2016-01-02",
                                       origins=",".join(["CNSGH"] * 11),
                                       destinations=",".join(["NLRTM"] * 10))
    assert status == 400 and "maximum of 100" in body["error"]
    assert flask_server.get("/rates", **base, currency="CHF")[0] == 404

    (tmp_path / "fx").mkdir()
    (tmp_path / "fx" / "2016-01-31.json").write_text(
        json.dumps({"base": "USD", "rates": {"EUR": 0.92}}))
    prkl.connect(real_url).import_exchange_rates(tmp_path / "fx")
    price = {"date_from": "2016-02-01", "date_to": "2016-02-01", "origin_code": "CNSGH",
             "destination_code": "NLRTM", "price": 920, "currency": "EUR"}
    status, _, body = flask_server.post_json("/prices", price)
    assert status == 201 and body["rates_used"] == [
        {"currency": "EUR", "day": "2016-01-31", "rate": "0.92"}]
    day = flask_server.get("/rates", date_from="2016-02-01", date_to="2016-02-01",
                           orig_code="CNSGH", dest_code="NLRTM", currency="EUR")[2]["rates"][0]
    assert day["count"] == 1 and day["price"] is None
    status, _, body = flask_server.post_json("/prices", {**price, "date_from": "2016-03-01",
                                                         "date_to": "2016-03-01"})
    assert status == 400 and "no EUR exchange rate for 2016-03-01" in body["error"]


def test_bottle_richer_answers(bottle_server):
    status, _, body = bottle_server.get("/rates", date_from="2016-01-01", date_to="2016-01-31",
                                        origin="CNSGH", destination="north_europe_main",
                                        bucket="month", percentiles="50")
    assert status == 200 and len(body) == 1 and list(body[0]) == ["day", "average_price", "p50"]
    assert bottle_server.get("/rates", date_from="2016-01-01", date_to="2016-01-31",
                             origin="CNSGH", destination="north_europe_main",
                             percentiles="x")[0] == 400


PORTS = ("INSERT INTO regions VALUES ('r', 'R', NULL); "
         "INSERT INTO ports VALUES ('CNSGH', 'Shanghai', 'r'), ('NLRTM', 'Rotterdam', 'r')")
BATCH = {"batch_id": "held", "rows": [
    {"origin": "CNSGH", "destination": "NLRTM", "day": "2016-01-01", "price": 900}]}
APPS = [(EXAMPLES / "flask", "app:create_app()"), (EXAMPLES / "bottle", "app:app")]


def two_port_postgres_store():
    url = postgres_url()
    prkl.connect(url, create=True)
    psql(url, PORTS)
    return url


@pytest.mark.parametrize("app_dir, target", APPS, ids=["flask", "bottle"])
def test_an_unreachable_store_is_503_with_retry_after(app_dir, target):
    url = two_port_postgres_store()
    server = Server(app_dir, target, url)
    try:
        assert server.get("/ready")[0] == 200
        with cut_off(url):
            status, headers, body = server.get("/rates", date_from="2016-01-01",
                                               date_to="2016-01-02", origin="CNSGH",
                                               destination="NLRTM")
            assert (status, headers.get("Retry-After")) == (503, "5"), body
            assert "unavailable" in body["error"]
            # Not ready, saying why; alive all the same.
            status, _, body = server.get("/ready")
            assert status == 503 and body["error"], body
            assert server.get("/health")[0] == 200
        assert server.get("/ready")[0] == 200
        assert server.get("/rates", date_from="2016-01-01", date_to="2016-01-02",
                          origin="CNSGH", destination="NLRTM")[0] == 200
    finally:
        server.stop()


def test_flask_a_batch_cut_off_while_it_commits_is_503_naming_its_batch_id():
    url = two_port_postgres_store()
    server = Server(EXAMPLES / "flask", "app:create_app()", url)
    held = HeldCommits(url)
    answers = []
    poster = threading.Thread(target=lambda: answers.append(server.post_json("/batches", BATCH)))
    poster.start()
    try:
        assert held.cut_waiting_commit(poster.is_alive)
    finally:
        poster.join()
        held.release()
    try:
        status, headers, body = answers[0]
        assert (status, headers.get("Retry-After"), body.get("batch_id")) == (503, "5", "held")
        status, headers, body = server.post_json("/batches", BATCH)
        assert status == 201 and "Idempotent-Replayed" not in headers
        assert server.post_json("/batches", BATCH)[1]["Idempotent-Replayed"] == "true"
    finally:
        server.stop()


def test_flask_any_other_storage_failure_is_500(backend, empty_url):
    prkl.connect(empty_url, create=True)
    sql = f"{PORTS}; CREATE UNIQUE INDEX one_price_a_day ON prices (orig_code, dest_code, day)"
    if backend == "sqlite":
        with contextlib.closing(sqlite3.connect(empty_url.removeprefix("sqlite:"))) as connection:
            connection.executescript(sql)
    else:
        psql(empty_url, sql)
    server = Server(EXAMPLES / "flask", "app:create_app()", empty_url)
    try:
        assert server.post_json("/batches", BATCH)[0] == 201
        status, headers, body = server.post_json("/batches", {**BATCH, "batch_id": "again"})
        assert status == 500 and "Retry-After" not in headers and "failed" in body["error"], body
    finally:
        server.stop()


# ---- The examples as parts of other applications -------------------------------------------

def example_module(name):
    """examples/<name>/app.py imported in this process (each under its own module name)."""
    import importlib.util
    directory = EXAMPLES / name
    sys.path.insert(0, str(directory))
    try:
        spec = importlib.util.spec_from_file_location(f"{name}_example", directory / "app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(directory))
    return module


def test_flask_blueprint_mounts_under_any_prefix(real_url):
    import flask
    example = example_module("flask")
    host = flask.Flask("host")
    host.config["PRKL_DB"] = real_url
    host.register_blueprint(example.rates, url_prefix="/freight")
    client = host.test_client()
    response = client.get("/freight/rates", query_string={
        "date_from": "2016-01-01", "date_to": "2016-01-10", "origin": "CNSGH",
        "destination": "north_europe_main"})
    assert response.status_code == 200
    assert [d["average_price"] for d in response.json] == RATESTASK_ANSWER
    assert client.get("/rates").status_code == 404  # only under the prefix
    response = client.get("/freight/ports/XXXXX")
    assert response.status_code == 404 and "XXXXX" in response.json["error"]
    assert client.get("/freight/openapi.json").json["servers"] == [{"url": "/freight"}]


def test_flask_configuration_from_environment(real_url, monkeypatch):
    monkeypatch.setenv("PRKL_DB", real_url)
    monkeypatch.setenv("PRKL_URL_PREFIX", "/v1")
    monkeypatch.setenv("PRKL_MAX_CONTENT_LENGTH", "1000")
    monkeypatch.setenv("PRKL_WRITE_TOKEN_HASHES", TOKEN_ENV["PRKL_WRITE_TOKEN_HASHES"])
    app = example_module("flask").create_app()
    assert app.config["PRKL_DB"] == real_url and app.config["MAX_CONTENT_LENGTH"] == 1000
    client = app.test_client()
    assert client.get("/v1/ports/CNSGH").json["name"] == "Shanghai"
    # An upload over the limit is refused before it is read, as JSON.
    body = b"origin,destination,date_from,date_to,price\n" + b"CNSGH,NLRTM,2016-01-01,2016-01-01,1\n" * 100
    response = client.post("/v1/batches?batch_id=big", data=body, content_type="text/csv",
                           headers=WRITE_AUTH)
    assert response.status_code == 413 and "error" in response.json
    assert prkl.connect(real_url).batch("big") is None


def test_flask_unexpected_errors_are_json(real_url, monkeypatch):
    example = example_module("flask")
    app = example.create_app(real_url)

    def broken():
        raise RuntimeError("a bug")
    monkeypatch.setattr(example, "get_db", broken)
    response = app.test_client().get("/ports/CNSGH")
    assert response.status_code == 500
    assert response.json == {"error": "internal error"}  # the bug's text stays in the log


def check_openapi_3(document, routes):
    """The OpenAPI 3.0 rules the document must keep (Debian 12 packages no OpenAPI validator):
    the required top-level fields, an operation object with responses for every path, parameters
    with name, place and schema (path ones required and present in the path), every $ref
    resolving inside the document, and exactly the app's routes described."""
    assert document["openapi"].startswith("3.0.")
    assert document["info"]["title"] and document["info"]["version"] == prkl.__version__

    def resolve(ref):
        assert ref.startswith("#/"), ref
        node = document
        for part in ref[2:].split("/"):
            assert part in node, f"unresolved $ref {ref}"
            node = node[part]
        return node

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                resolve(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(document)
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    described = set()
    for path, item in document["paths"].items():
        assert path.startswith("/")
        for method, operation in item.items():
            assert method in methods, (path, method)
            described.add((method.upper(), path))
            assert operation["responses"], (path, method)
            for status, response in operation["responses"].items():
                assert status == "default" or (status.isdigit() and len(status) == 3)
                response = resolve(response["$ref"]) if "$ref" in response else response
                assert response["description"]
            for parameter in operation.get("parameters", []):
                assert parameter["in"] in {"query", "header", "path", "cookie"}
                assert parameter["name"] and "schema" in parameter
                if parameter["in"] == "path":
                    assert parameter["required"] is True
                    assert "{" + parameter["name"] + "}" in path
    assert described == routes


def test_flask_openapi_document_describes_every_route(real_url):
    app = example_module("flask").create_app(real_url)
    routes = {(method, str(rule).replace("<", "{").replace(">", "}"))
              for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    check_openapi_3(response.json, routes)
    json.dumps(response.json)  # plain JSON all through


@pytest.mark.parametrize("app_dir,target", APPS)
def test_gunicorn_preload_with_several_workers(real_url, app_dir, target):
    server = Server(app_dir, target, real_url, extra_args=("--preload", "--workers", "2"))
    try:
        for _ in range(8):  # spread over both workers
            status, _, body = server.get("/rates", date_from="2016-01-01",
                                         date_to="2016-01-10", origin="CNSGH",
                                         destination="north_europe_main")
            assert status == 200 and [d["average_price"] for d in body] == RATESTASK_ANSWER
    finally:
        server.stop()


def wsgi_call(app, method, path, query="", extra=None):
    from wsgiref.util import setup_testing_defaults
    environ = dict(extra or {})
    setup_testing_defaults(environ)
    environ.update(REQUEST_METHOD=method, PATH_INFO=path, QUERY_STRING=query)
    started = {}

    def start_response(status, headers, exc_info=None):
        started.update(status=int(status.split()[0]), headers=dict(headers))
    body = b"".join(app(environ, start_response))
    return started["status"], started["headers"], body


def test_bottle_every_error_is_json(real_url, monkeypatch):
    monkeypatch.setenv("PRKL_DB", real_url)
    example = example_module("bottle")
    cases = [("GET", "/nowhere", "", 404), ("POST", "/rates", "", 405),
             ("GET", "/rates", "date_from=2016-01-01&date_to=2016-01-02&origin=CNSGH", 400),
             ("GET", "/ports", "region=atlantis", 404)]
    for method, path, query, status in cases:
        got, headers, body = wsgi_call(example.app, method, path, query)
        assert got == status, (path, body)
        assert headers["Content-Type"].startswith("application/json")
        assert "error" in json.loads(body)

    def broken():
        raise RuntimeError("a bug")
    monkeypatch.setattr(example, "get_db", broken)
    got, headers, body = wsgi_call(example.app, "GET", "/ready")
    assert got == 500 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"error": "internal error"}


def test_operations_task_route_answers_as_that_app_does(tmp_path):
    """The operations-task app's own SQL (xeneta/operations-task rates/rates.py) and its
    float(AVG(price)), run with psycopg2 on the operations-task dump as psql loaded it, against
    the Flask route on the same database through prkl: the busiest lanes over the whole month."""
    import psycopg2
    url = postgres_url()
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f",
                    str(XENETA / "operations-task-2021.sql")], check=True, env=PSQL_ENV,
                   capture_output=True, timeout=300)
    prkl.connect(url, create=True).close()  # prkl init: adopts the tables as they are
    client = example_module("flask").create_app(url).test_client()
    original = psycopg2.connect(url)
    cursor = original.cursor()
    cursor.execute("SELECT orig_code, dest_code FROM prices GROUP BY 1, 2 "
                   "ORDER BY count(*) DESC, 1, 2 LIMIT 25")
    lanes = cursor.fetchall()
    compared = 0
    for orig_code, dest_code in lanes:
        cursor.execute(OPERATIONS_TASK_SQL, {"date_from": "2021-01-01", "date_to": "2021-01-31",
                                             "orig_code": orig_code, "dest_code": dest_code})
        # The app's aggregate_to_dto(); a day without prices has count 0 here, where the app's
        # LEFT JOIN gave null.
        expected = [{"price": float(price) if price is not None else None,
                     "day": day.isoformat(), "count": count or 0}
                    for price, day, count in cursor.fetchall()]
        response = client.get("/rates", query_string={
            "date_from": "2021-01-01", "date_to": "2021-01-31", "orig_code": orig_code,
            "dest_code": dest_code})
        assert response.status_code == 200
        assert response.get_json()["rates"] == expected, (orig_code, dest_code)
        compared += sum(1 for day in expected if day["price"] is not None)
    original.close()
    assert compared > 500  # days with an average, each to the last bit of its float


# rates/rates.py of xeneta/operations-task, the query behind GET /rates.
OPERATIONS_TASK_SQL = """
SELECT CASE WHEN a.count < 3 THEN null ELSE a.price END AS price, d.day, a.count
FROM (SELECT (generate_series(%(date_from)s, %(date_to)s, '1 day'::interval))::date AS day) d
LEFT OUTER JOIN (
    SELECT AVG(price) AS price, day, COUNT(*) AS count FROM prices
    WHERE orig_code = %(orig_code)s AND dest_code = %(dest_code)s
      AND day >= %(date_from)s AND day <= %(date_to)s
    GROUP BY day, orig_code, dest_code) AS a ON d.day = a.day
ORDER BY day DESC"""


def test_decimals_keep_their_exact_text_in_json(real_url, monkeypatch):
    # 2016-01-02's average is exactly 1112: a float would print 1112.0, the scale asks for 1112.00.
    query = {"date_from": "2016-01-02", "date_to": "2016-01-02", "orig_code": "CNSGH",
             "dest_code": "north_europe_main"}
    flask_app = example_module("flask").create_app(real_url)
    body = flask_app.test_client().get("/rates", query_string=query).get_data(as_text=True)
    assert '"price": 1112.0' in body  # float(AVG(price)), as the operations-task app gave it
    body = flask_app.test_client().get("/rates", query_string={**query, "scale": "2"}).get_data(
        as_text=True)
    assert '"price": 1112.00' in body
    body = flask_app.test_client().get("/rates", query_string={**query, "scale": "4"}).get_data(
        as_text=True)
    assert '"price": 1112.0000' in body
    monkeypatch.setenv("PRKL_DB", real_url)
    bottle_app = example_module("bottle").app
    _, _, body = wsgi_call(bottle_app, "GET", "/rates", "date_from=2016-01-02&date_to=2016-01-02"
                           "&origin=CNSGH&destination=north_europe_main&percentiles=50")
    assert json.loads(body)[0]["average_price"] == 1112


def scrape(text):
    """Every sample of a Prometheus text page: {(name, sorted labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_flask_metrics_count_requests_and_prkl_calls(real_url):
    client = example_module("flask").create_app(real_url).test_client()
    before = scrape(client.get("/metrics").get_data(as_text=True))
    for _ in range(3):
        assert client.get("/rates", query_string={
            "date_from": "2016-01-01", "date_to": "2016-01-10", "origin": "CNSGH",
            "destination": "north_europe_main"}).status_code == 200
    assert client.get("/ports/XXXXX").status_code == 404
    assert client.get("/no/such/route").status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    after = scrape(response.get_data(as_text=True))
    assert sample(after, "http_requests_total", route="/rates", method="GET", status="200") == 3
    assert sample(after, "http_requests_total", route="/ports/<code>", method="GET",
                  status="404") == 1
    assert sample(after, "http_requests_total", route="<unmatched>", method="GET",
                  status="404") == 1
    assert sample(after, "http_request_duration_seconds_count", route="/rates", method="GET") == 3
    # prkl's own metrics, of this process: deltas, since other tests ran in it before.
    assert (sample(after, "prkl_operation_duration_seconds_count", operation="rates") -
            sample(before, "prkl_operation_duration_seconds_count", operation="rates")) == 3
    assert (sample(after, "prkl_operation_errors_total", operation="port", type="not_found") -
            sample(before, "prkl_operation_errors_total", operation="port", type="not_found")) == 1


def test_flask_metrics_add_up_every_gunicorn_worker(real_url, tmp_path):
    """prometheus_client's multiprocess mode: whichever worker answers the scrape reports the
    requests of both, and prkl's metrics of both (copied by each worker once a second)."""
    metrics_dir = tmp_path / "metrics"  # its own: prometheus_client reads every *.db in it
    metrics_dir.mkdir()
    server = Server(EXAMPLES / "flask", "app:create_app()", real_url,
                    extra_args=("--preload", "--workers", "2"),
                    env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    try:
        requests = 24
        for _ in range(requests):
            status, _, _ = server.get("/rates", date_from="2016-01-01", date_to="2016-01-10",
                                      origin="CNSGH", destination="north_europe_main")
            assert status == 200
        time.sleep(2.5)  # two copies of every worker's prkl metrics
        for _ in range(6):
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics",
                                        timeout=30) as response:
                samples = scrape(response.read().decode())
            assert sample(samples, "http_requests_total", route="/rates", method="GET",
                          status="200") == requests
            assert sample(samples, "prkl_operation_duration_seconds_count",
                          operation="rates") == requests
            assert sample(samples, "prkl_operation_duration_seconds_bucket", operation="rates",
                          le="+Inf") == requests
        pids = {p.name.rsplit("_", 1)[-1] for p in metrics_dir.glob("counter_*.db")}
        assert len(pids) == 2, "both workers answered requests"
    finally:
        server.stop()


def test_bottle_metrics_count_requests_and_prkl_calls(real_url, monkeypatch):
    monkeypatch.setenv("PRKL_DB", real_url)
    example = example_module("bottle")
    query = "date_from=2016-01-01&date_to=2016-01-10&origin=CNSGH&destination=north_europe_main"
    before = scrape(wsgi_call(example.app, "GET", "/metrics")[2].decode())
    for _ in range(2):
        assert wsgi_call(example.app, "GET", "/rates", query)[0] == 200
    assert wsgi_call(example.app, "GET", "/rates", "date_from=x")[0] == 400
    assert wsgi_call(example.app, "GET", "/nowhere")[0] == 404
    status, headers, body = wsgi_call(example.app, "GET", "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    after = scrape(body.decode())

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)
    assert delta("http_requests_total", route="/rates", method="GET", status="200") == 2
    assert delta("http_requests_total", route="/rates", method="GET", status="400") == 1
    assert delta("http_requests_total", route="<unmatched>", method="GET", status="404") == 1
    assert delta("prkl_operation_duration_seconds_count", operation="rates") == 2


@pytest.mark.parametrize("app_dir, target", APPS, ids=["flask", "bottle"])
def test_ready_says_when_the_schema_is_not_one_this_prkl_serves(app_dir, target, empty_url):
    prkl.connect(empty_url, create=True).close()
    server = Server(app_dir, target, empty_url)
    def run(sql):
        other_client(empty_url, sql)
    try:
        assert server.get("/ready")[0] == 200
        # A store from before schema versions: init records one.
        run("DELETE FROM prkl_meta WHERE key = 'schema_version'")
        status, _, body = server.get("/ready")
        assert status == 503 and "run 'prkl init'" in body["error"] and body["schema_version"] == 0
        prkl.connect(empty_url).init()
        assert server.get("/ready")[0] == 200
        # Migrated by a newer prkl that older ones cannot serve from.
        run(f"UPDATE prkl_meta SET value = {prkl.SCHEMA_VERSION + 1} "
            "WHERE key IN ('schema_version', 'schema_readable_from')")
        status, _, body = server.get("/ready")
        assert status == 503 and "newer prkl" in body["error"], body
        # An older prkl's init never lowers what a newer one recorded.
        prkl.connect(empty_url).init()
        assert server.get("/ready")[0] == 503
        assert server.get("/health")[0] == 200
    finally:
        server.stop()


def test_flask_logs_one_json_line_per_request(real_url, caplog):
    app = example_module("flask").create_app(real_url)
    app.config.update(TOKEN_ENV)
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="prkl.requests"):
        client.get("/rates", query_string={"date_from": "2016-01-01", "date_to": "2016-01-02",
                                           "origin": "CNSGH", "destination": "NLRTM"})
        client.post("/batches", headers=WRITE_AUTH, json={"batch_id": "logged-web", "rows": [
            {"origin": "CNSGH", "destination": "NLRTM", "day": "2016-03-01", "price": 700}]})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "prkl.requests"]
    assert lines[0]["method"] == "GET" and lines[0]["route"] == "/rates"
    assert lines[0]["status"] == 200 and lines[0]["seconds"] >= 0
    assert {k: v for k, v in lines[1].items() if k != "seconds"} == {
        "method": "POST", "route": "/batches", "status": 201, "batch_id": "logged-web"}


def test_flask_answers_carry_an_etag_of_the_data_version_and_304_when_unchanged(real_url):
    """A commit by prkl or by any SQL client moves the tag; until then If-None-Match is 304."""
    app = example_module("flask").create_app(real_url)
    app.config["PRKL_CACHE_CONTROL"] = "public, max-age=2"
    app.config.update(TOKEN_ENV)
    client = app.test_client()
    query = {"date_from": "2016-01-01", "date_to": "2016-01-10", "origin": "CNSGH",
             "destination": "north_europe_main"}
    first = client.get("/rates", query_string=query)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=2"
    again = client.get("/rates", query_string=query, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["ETag"] == tag and not again.data
    # Another question is another tag.
    other = client.get("/rates", query_string={**query, "destination": "NLRTM"})
    assert other.headers["ETag"] != tag
    # A batch through prkl moves it...
    prkl.connect(real_url).apply([["CNSGH", "NLRTM", "2016-01-05", 1000]], batch_id="moves-tag")
    moved = client.get("/rates", query_string=query, headers={"If-None-Match": tag})
    assert moved.status_code == 200 and moved.headers["ETag"] != tag
    # ...and so does a plain SQL write by another client.
    tag = moved.headers["ETag"]
    sql = ("INSERT INTO prices (orig_code, dest_code, day, price) "
           "VALUES ('CNSGH', 'NLRTM', '2016-01-05', 1001)")
    other_client(real_url, sql)
    after_sql = client.get("/rates", query_string=query, headers={"If-None-Match": tag})
    assert after_sql.status_code == 200 and after_sql.headers["ETag"] != tag
    assert after_sql.json[4]["average_price"] != moved.json[4]["average_price"]
    # Ports and regions too; answers in another currency are never tagged.
    ports = client.get("/ports/CNSGH")
    assert client.get("/ports/CNSGH", headers={"If-None-Match": ports.headers["ETag"]}
                      ).status_code == 304
    euros = client.get("/rates", query_string={**query, "currency": "EUR"})
    assert "ETag" not in euros.headers and euros.headers["Cache-Control"] == "no-store"
    unknown = client.get("/ports/XXXXX")
    assert unknown.status_code == 404 and unknown.headers["Cache-Control"] == "no-store"
    # Writes are never tagged.
    posted = client.post("/batches", headers=WRITE_AUTH, json={"batch_id": "untagged", "rows": [
        {"origin": "CNSGH", "destination": "NLRTM", "day": "2016-03-01", "price": 700}]})
    assert posted.status_code == 201 and "ETag" not in posted.headers


def test_a_matrix_too_large_to_answer_is_422_naming_the_limit(flask_server, bottle_server):
    regions = ["china_main", "north_europe_main", "baltic", "scandinavia", "uk_main",
               "northern_europe", "china_south_main", "china_east_main", "poland_main",
               "stockholm_area"]
    params = {"date_from": "2016-01-01", "date_to": "2020-12-31", "origins": ",".join(regions),
              "destinations": ",".join(regions),
              "percentiles": ",".join(str(p) for p in range(1, 100))}
    status, _, body = flask_server.get("/rates/matrix", **params)
    assert status == 422, body
    assert "more than the maximum of 1000000 (Options::max_answer_values)" in body["error"]
    status, _, body = bottle_server.get("/rates", date_from="2016-01-01", date_to="2020-12-31",
                                        origin="china_main", destination="north_europe_main",
                                        percentiles=",".join(str(p) for p in range(1, 100)),
                                        bucket="day")
    assert status == 200, body  # one lane of 5 years fits: 1827 x 104 values


@pytest.mark.parametrize("value", ["5_0", " 50", "+50", "\uff15\uff10", "50.0.0", "0x32", "2.5e1"])
def test_numbers_are_ascii_digits_in_both_apps(flask_server, bottle_server, value):
    for server in (flask_server, bottle_server):
        status, _, body = server.get("/rates", date_from="2016-01-01", date_to="2016-01-02",
                                     origin="CNSGH", destination="NLRTM", percentiles=value)
        assert status == 400 and "is not a list of percentiles" in body["error"], body
        status, _, body = server.get("/ports", limit=value)
        assert status == 400 and "is not a whole number" in body["error"], body


def test_market_rates_and_rank_in_both_apps(flask_server, bottle_server):
    month = {"date_from": "2016-01-01", "date_to": "2016-01-31"}
    for server in (flask_server, bottle_server):
        status, _, body = server.get("/market-rates", **month, origin="china_main",
                                     destination="north_europe_main", scale="2")
        assert status == 200, body
        assert body["asked"] == {"origin": "china_main", "destination": "north_europe_main"}
        assert body["answered"]["steps"] == 0 and len(body["days"]) == 31
        first = body["days"][0]
        assert list(first) == ["day", "count", "low", "midlow", "median", "mean", "midhigh", "high"]
        assert float(first["low"]) <= float(first["median"]) <= float(first["high"])
        status, _, stepped = server.get("/market-rates", **month, origin="CNSGH",
                                        destination="NLRTM", min_count="50", fallback="true")
        assert status == 200 and stepped["answered"]["steps"] > 0, stepped
        status, _, ranks = server.get("/market-rates/rank", **month, origin="china_main",
                                      destination="north_europe_main", price=first["median"])
        assert status == 200 and len(ranks) == 31, ranks
        assert 0.4 <= float(ranks[0]["percent_rank"]) <= 0.6
        for path, params, named in (
                ("/market-rates", {"fallback": "maybe"}, "'maybe'"),
                ("/market-rates", {"min_count": "0"}, "min_count"),
                ("/market-rates", {"scale": "10"}, "scale"),
                ("/market-rates/rank", {"price": "12.5.1"}, "'12.5.1'"),
                ("/market-rates/rank", {"price": "-3"}, "'-3'")):
            query = {**month, "origin": "china_main", "destination": "north_europe_main",
                     "price": "100", **params}
            status, _, body = server.get(path, **query)
            assert status == 400 and named in body["error"], (server, path, params, body)
        status, _, body = server.get("/market-rates", **month, origin="atlantis",
                                     destination="north_europe_main")
        assert status == 404 and "'atlantis'" in body["error"], body


def test_both_apps_filter_by_equipment_term_and_age(flask_server, bottle_server, real_url):
    day = "2018-03-01"  # the dump has no prices on it
    rows = [{"origin": "CNSGH", "destination": "NLRTM", "day": day, "price": price,
             "equipment": equipment, "term": term, "received": received}
            for price, equipment, term, received in ((100, "40HC", "short", "2018-02-28"),
                                                     (200, "40HC", "long", "2017-12-01"),
                                                     (600, "40HC", "long", ""),
                                                     (1000, "20DC", "", ""))]
    prkl.connect(real_url).apply(rows, batch_id="dimensioned")
    lane = {"date_from": day, "date_to": day, "origin": "CNSGH", "destination": "NLRTM"}
    for server in (flask_server, bottle_server):
        status, _, body = server.get("/rates", **lane, equipment="40HC")
        assert status == 200 and body == [{"day": day, "average_price": 300}], body
        status, _, body = server.get("/rates", **lane, equipment="40HC,20DC", max_age_days="1")
        assert status == 200 and body == [{"day": day, "average_price": 567}], body
        status, _, body = server.get("/market-rates", **lane, term="long", min_count="1")
        assert status == 200 and body["days"][0]["count"] == 2, body
        assert body["days"][0]["median"] == "400", body
        status, _, body = server.get("/market-rates/rank", **lane, term="long", price="200")
        assert status == 200 and body[0]["percent_rank"] == "0.000000", body
        for params, named in (({"equipment": "99ZZ"}, "'99ZZ'"), ({"term": "medium"}, "'medium'"),
                              ({"max_age_days": "-1"}, "max_age_days"),
                              ({"equipment": "40HC,"}, "''")):
            for path in ("/rates", "/market-rates", "/market-rates/rank"):
                status, _, body = server.get(path, **lane, price="100", **params)
                assert status == 400 and named in body["error"], (server, path, params, body)
    status, _, body = flask_server.get("/rates/matrix", date_from=day, date_to=day,
                                       origins="CNSGH", destinations="NLRTM,north_europe_main",
                                       term="short")
    assert status == 200, body
    assert [lane["rates"][0]["average_price"] for lane in body["lanes"]] == [None, None], body


def test_contracts_posted_as_a_batch_count_in_both_apps(flask_server, bottle_server):
    rows = [{"origin": "CNSGH", "destination": "NLRTM", "valid_from": "2019-01-01",
             "valid_to": "2019-06-30", "price": price, "term": "long"} for price in (900, 1100)]
    status, _, body = flask_server.post_json("/batches", {"batch_id": "contracts", "rows": rows})
    assert status == 201 and body["prices"] == 2, body
    for server in (flask_server, bottle_server):
        status, _, body = server.get("/market-rates", date_from="2019-06-29", date_to="2019-07-01",
                                     origin="CNSGH", destination="NLRTM", min_count="2")
        assert status == 200, body
        assert [(d["count"], d["mean"]) for d in body["days"]] == [
            (2, "1000"), (2, "1000"), (0, None)], body
