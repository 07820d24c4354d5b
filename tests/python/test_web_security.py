# SPDX-License-Identifier: MIT
"""The web examples against hostile or careless clients: bearer tokens for writes (and reads when
asked), bodies bounded however they come, JSON depth and duplicate keys, batch ids that are text,
and the CSV of a batch read by prkl's own reader, as the prkl tool reads it."""

import hashlib
import http.client
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import prkl
from prkl import auth
from test_apps import (APPS, EXAMPLES, READ_TOKEN, TOKEN_ENV, WRITE_AUTH, WRITE_TOKEN, Server,
                       example_module, wsgi_call)

ROW = {"origin": "CNSGH", "destination": "NLRTM", "day": "2016-03-01", "price": 700}
PRICE = {"date_from": "2016-02-01", "date_to": "2016-02-03", "origin_code": "CNSGH",
         "destination_code": "NLRTM", "price": 900}
BUILD = Path(prkl.__file__).resolve().parents[2]


def flask_client(url, **config):
    app = example_module("flask").create_app(url)
    app.config.update(config)
    return app, app.test_client()


def write_routes(app):
    """Every (method, path) of the app that is not a read, with its path's variables filled."""
    return sorted((method, str(rule).replace("<code>", "CNSGH"))
                  for rule in app.url_map.iter_rules() if rule.endpoint != "static"
                  for method in rule.methods - auth.READ_METHODS)


# ---- Tokens ---------------------------------------------------------------------------------

def test_with_no_token_configured_every_write_is_refused(real_url):
    app, client = flask_client(real_url)
    routes = write_routes(app)
    assert ("POST", "/prices") in routes and ("POST", "/batches") in routes
    for method, path in routes:
        for headers in ({}, WRITE_AUTH, {"Authorization": "Bearer "}, {"Authorization": "Basic eDp5"}):
            response = client.open(path, method=method, json={"batch_id": "x", "rows": [ROW]},
                                   headers=headers)
            assert response.status_code == 401, (method, path, headers, response.json)
            assert response.headers["WWW-Authenticate"].startswith('Bearer realm="prkl"')
    assert prkl.connect(real_url).batch("x") is None
    # Reads stay public.
    assert client.get("/ports/CNSGH").status_code == 200


def test_tokens_over_http(real_url):
    server = Server(EXAMPLES / "flask", "app:create_app()", real_url)
    try:
        payload = {"batch_id": "tokened", "rows": [ROW]}
        status, headers, body = server.post_json("/batches", payload, token=None)
        assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="prkl"', body
        assert "bearer token" in body["error"]
        status, headers, body = server.post_json("/batches", payload, token="prkl_not-known")
        assert status == 401, body
        assert headers["WWW-Authenticate"] == 'Bearer realm="prkl", error="invalid_token"'
        status, headers, body = server.post_json("/batches", payload, token=READ_TOKEN)
        assert status == 403 and "only read" in body["error"], body
        assert 'error="insufficient_scope"' in headers["WWW-Authenticate"]
        assert prkl.connect(real_url).batch("tokened") is None
        status, _, body = server.post_json("/batches", payload)
        assert status == 201, body
        status, _, body = server.post_json("/prices", PRICE, token=READ_TOKEN)
        assert status == 403, body
        assert server.post_json("/prices", PRICE)[0] == 201
        # Reads: public by default.
        assert server.call("GET", "/ports?search=oslo", token=None)[0] == 200
    finally:
        server.stop()


def test_bottle_protects_any_write_route_it_is_given(monkeypatch, real_url):
    monkeypatch.setenv("PRKL_DB", real_url)
    monkeypatch.delenv("PRKL_WRITE_TOKEN_HASHES", raising=False)
    example = example_module("bottle")  # no token configured
    example.app.post("/written")(lambda: "written")
    status, headers, body = wsgi_call(example.app, "POST", "/written")
    assert status == 401 and headers["Www-Authenticate"] == 'Bearer realm="prkl"'  # Bottle's case
    monkeypatch.setenv("PRKL_WRITE_TOKEN_HASHES", TOKEN_ENV["PRKL_WRITE_TOKEN_HASHES"])
    example = example_module("bottle")
    example.app.post("/written")(lambda: "written")
    assert wsgi_call(example.app, "POST", "/written")[0] == 401
    assert wsgi_call(example.app, "POST", "/written", "",
                     {"HTTP_AUTHORIZATION": f"Bearer {WRITE_TOKEN}"})[2] == b"written"


@pytest.mark.parametrize("app_dir, target", APPS, ids=["flask", "bottle"])
def test_reads_need_a_token_when_the_setting_says_so(app_dir, target, real_url):
    server = Server(app_dir, target, real_url, env={"PRKL_AUTH_READS": "true"})
    rates = "/rates?date_from=2016-01-01&date_to=2016-01-02&origin=CNSGH&destination=NLRTM"
    try:
        for path in (rates, "/ports?search=oslo", "/metrics"):
            status, headers, _ = call_raw(server, "GET", path, token=None)
            assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="prkl"', path
            assert call_raw(server, "GET", path, token="prkl_wrong")[0] == 401
            assert call_raw(server, "GET", path, token=READ_TOKEN)[0] == 200, path
            assert call_raw(server, "GET", path, token=WRITE_TOKEN)[0] == 200, path  # writers read
        # Probes and the description stay public.
        for path in ("/health", "/ready") + (("/openapi.json",) if target != "app:app" else ()):
            assert call_raw(server, "GET", path, token=None)[0] == 200, path
    finally:
        server.stop()


def call_raw(server, method, path, body=None, headers=None, token=WRITE_TOKEN):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, response.headers, data  # headers: looked up ignoring case


def test_no_token_or_hash_is_logged_or_echoed(real_url, tmp_path, caplog):
    secrets_ = [WRITE_TOKEN, READ_TOKEN, "prkl_wrong-token-xyz", *TOKEN_ENV.values()]
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as output:
        server = Server(EXAMPLES / "flask", "app:create_app()", real_url, output=output,
                        extra_args=("--access-logfile", "-", "--log-level", "debug"),
                        env={"PRKL_AUTH_READS": "true"})
        answers = []
        try:
            for token in (WRITE_TOKEN, READ_TOKEN, "prkl_wrong-token-xyz", None):
                answers.append(call_raw(server, "POST", "/batches", json.dumps(
                    {"batch_id": f"log-{len(answers)}", "rows": [ROW]}).encode(),
                    {"Content-Type": "application/json"}, token=token))
                answers.append(call_raw(server, "GET", "/ports/CNSGH", token=token))
                answers.append(call_raw(server, "GET", "/ports/XXXXX", token=token))
        finally:
            server.stop()
    assert [a[0] for a in answers[:3]] == [201, 200, 404]
    assert [a[0] for a in answers[3:6]] == [403, 200, 404]
    text = log.read_text() + "".join(f"{a[0]} {a[1].items()} {a[2]}" for a in answers)
    assert "POST /batches" in text  # the access log is there...
    for secret in secrets_:
        assert secret not in text  # ...and no token or hash in it, nor in any answer
    # In process, every logger at DEBUG, a refused and an accepted write and a failing one.
    app, client = flask_client(real_url, **TOKEN_ENV)
    with caplog.at_level(logging.DEBUG):
        for token in (WRITE_TOKEN, READ_TOKEN, "prkl_wrong-token-xyz"):
            for payload in ({"batch_id": "c", "rows": [ROW]}, {"rows": 1}, {"batch_id": "d",
                                                                            "rows": [{}]}):
                response = client.post("/batches", json=payload,
                                       headers={"Authorization": f"Bearer {token}"})
                assert all(s not in response.get_data(as_text=True) + str(response.headers)
                           for s in secrets_)
    logged = "".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "/batches" in logged
    assert all(s not in logged for s in secrets_)


def test_token_settings(tmp_path, monkeypatch):
    token, digest = subprocess.run([sys.executable, "-m", "prkl.auth", "new-token"], check=True,
                                   capture_output=True, text=True).stdout.split()
    assert token.startswith("prkl_") and len(token) > 40
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert subprocess.run([sys.executable, "-m", "prkl.auth", "hash"], input=token + "\n",
                          capture_output=True, text=True).stdout.strip() == digest
    # A token where its hash belongs stops the app, without repeating it.
    monkeypatch.setenv("PRKL_WRITE_TOKEN_HASHES", token)
    with pytest.raises(auth.ConfigError) as caught:
        example_module("flask").create_app("sqlite::memory:")
    assert token not in str(caught.value) and "entry 1" in str(caught.value)
    monkeypatch.delenv("PRKL_WRITE_TOKEN_HASHES")
    # A token file: write and read hashes, comments.
    other = auth.new_token()
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(f"# ops\nwrite {digest}\nread {auth.token_hash(other)}  # dashboards\n")
    tokens = auth.Tokens.from_config({"PRKL_TOKEN_FILE": str(tokens_file)})
    assert tokens.check(f"Bearer {token}", write=True) is None
    assert tokens.check(f"Bearer {other}", write=True).status == 403
    assert tokens.check(f"bearer {other}", write=False) is None
    tokens_file.write_text(f"writer {digest}\n")
    with pytest.raises(auth.ConfigError, match="line 1"):
        auth.Tokens.from_config({"PRKL_TOKEN_FILE": str(tokens_file)})
    with pytest.raises(auth.ConfigError, match="PRKL_AUTH_READS"):
        auth.Tokens.from_config({"PRKL_AUTH_READS": "maybe"})


def test_every_configured_hash_is_compared(monkeypatch):
    """No early exit: a match on the first hash costs as many comparisons as no match."""
    hashes = [auth.token_hash(auth.new_token()) for _ in range(3)]
    tokens = auth.Tokens(hashes[:2], hashes[2:])
    counted = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: counted.append(1) or real(a, b))
    for header in (f"Bearer {'x' * 43}", "Bearer prkl_unknown"):
        counted.clear()
        tokens.check(header, write=True)
        assert len(counted) == 3


# ---- Bodies ---------------------------------------------------------------------------------

def worker_pid(server):
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    deadline = time.monotonic() + 10
    while not children.read_text().split():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return int(children.read_text().split()[0])


def peak_rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def post_chunked(server, path, content_type, first, size, token=WRITE_TOKEN):
    """POSTs `first` and then zeros up to `size` bytes as a chunked body (no Content-Length);
    the answer's status and body."""
    def pieces():
        yield first
        piece = b"0" * (1 << 20)
        for _ in range(size // len(piece)):
            yield piece
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        connection.request("POST", path, body=pieces(), encode_chunked=True, headers={
            "Content-Type": content_type, "Authorization": f"Bearer {token}",
            "Transfer-Encoding": "chunked"})
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before the client has sent everything
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_a_chunked_body_over_the_limit_is_413_in_bounded_memory(real_url):
    server = Server(EXAMPLES / "flask", "app:create_app()", real_url,
                    env={"PRKL_MAX_CONTENT_LENGTH": str(1 << 20)})
    try:
        assert server.get("/ready")[0] == 200
        pid = worker_pid(server)
        before = peak_rss_mib(pid)
        sent = 256 << 20
        for path, ctype, first in (("/prices", "application/json", b'{"price": "'),
                                   ("/prices", "application/x-www-form-urlencoded", b"price="),
                                   ("/batches?batch_id=big", "text/csv",
                                    b"origin,destination,day,price\n"),
                                   ("/batches", "application/json", b'{"rows": ["')):
            status, body = post_chunked(server, path, ctype, first, sent)
            assert status == 413, (path, ctype, body)
            assert "limit of 1048576 bytes" in json.loads(body)["error"]
        grown = peak_rss_mib(pid) - before
        print(f"4 x 256 MiB chunked: the worker's peak RSS grew {grown:.1f} MiB")
        # Before: the worker held each body whole (256 MiB and more). Under the sanitizers (the
        # worker preloads ASan) the peak is ASan's quarantine of freed memory, not the app's.
        if os.environ.get("PRKL_SANITIZED") != "1":
            assert grown < 32, f"the worker's peak RSS grew by {grown:.0f} MiB"
        # Under the limit, chunked is fine.
        status, body = post_chunked(server, "/prices", "application/json",
                                    json.dumps(PRICE).encode(), 0)
        assert status == 201, body
        assert prkl.connect(real_url).batch("big") is None
    finally:
        server.stop()


# ---- JSON -----------------------------------------------------------------------------------

def test_deep_json_is_400_naming_the_limit(real_url):
    _, client = flask_client(real_url, **TOKEN_ENV)
    for deep in ("[" * 100_000 + "]" * 100_000, "[" * 100_000, '{"rows": ' * 50_000 + "1",
                 "[" * 33 + "]" * 33):
        for path in ("/batches", "/prices"):
            response = client.post(path, data=deep, content_type="application/json",
                                   headers=WRITE_AUTH)
            assert response.status_code == 400, (path, response.json)
            assert "deeper than 32 levels" in response.json["error"]
    # 32 levels is no problem of depth (and strings may hold brackets).
    response = client.post("/batches", data='{"batch_id": "[[[[", "rows": [' + "[" * 30 + "]" * 30
                           + "]}", content_type="application/json", headers=WRITE_AUTH)
    assert response.status_code == 400 and "deeper" not in response.json["error"]


def test_duplicate_json_keys_and_non_text_batch_ids_are_refused(real_url):
    _, client = flask_client(real_url, **TOKEN_ENV)
    cases = [
        ('{"batch_id": "a", "rows": [], "batch_id": "b"}', "'batch_id' appears twice"),
        ('{"batch_id": "dup-row", "rows": [{"origin": "CNSGH", "destination": "NLRTM", '
         '"day": "2016-03-01", "price": 700, "price": 1}]}', "'price' appears twice"),
        (json.dumps({"batch_id": {"id": 1}, "rows": [ROW]}), "'batch_id' must be a string, not an object"),
        (json.dumps({"batch_id": ["x"], "rows": [ROW]}), "not an array"),
        (json.dumps({"batch_id": 17, "rows": [ROW]}), "not a number"),
        (json.dumps({"batch_id": True, "rows": [ROW]}), "not a boolean"),
    ]
    for body, named in cases:
        response = client.post("/batches", data=body, content_type="application/json",
                               headers=WRITE_AUTH)
        assert response.status_code == 400 and named in response.json["error"], (body, response.json)
    response = client.post("/prices", data='{"price": 1, "price": 2}',
                           content_type="application/json", headers=WRITE_AUTH)
    assert response.status_code == 400 and "'price' appears twice" in response.json["error"]
    db = prkl.connect(real_url)
    for batch_id in ("a", "b", "dup-row", "{'id': 1}", "['x']", "17", "True"):
        assert db.batch(batch_id) is None


def test_a_batch_id_that_is_not_utf8_is_refused_as_sent(real_url):
    _, client = flask_client(real_url, **TOKEN_ENV)
    csv_body = b"origin,destination,day,price\nCNSGH,NLRTM,2016-03-05,650\n"
    response = client.post("/batches?batch_id=%FF", data=csv_body, content_type="text/csv",
                           headers=WRITE_AUTH)
    assert response.status_code == 400, response.json
    assert response.json["error"] == ("parameter 'batch_id': '%FF' is not UTF-8 text once "
                                      "percent-decoded")
    for path, kwargs in (("/batches", {"data": csv_body, "content_type": "text/csv"}),
                         ("/prices", {"json": PRICE})):
        response = client.post(path, headers={**WRITE_AUTH, "Idempotency-Key": "k\xff"}, **kwargs)
        assert response.status_code == 400
        assert response.json["error"] == r"header Idempotency-Key: 'k\xff' is not UTF-8 text"
    # Good UTF-8 still goes through, percent-encoded or not.
    response = client.post("/batches?batch_id=%C3%A5-1", data=csv_body, content_type="text/csv",
                           headers=WRITE_AUTH)
    assert response.status_code == 201 and response.json["batch_id"] == "å-1"
    assert prkl.connect(real_url).batch("\ufffd") is None


# ---- CSV: one reader --------------------------------------------------------------------------

def test_a_csv_row_with_a_field_too_many_is_refused_as_the_prkl_tool_refuses_it(real_url, tmp_path):
    csv_body = (b"origin,destination,day,price\nCNSGH,NLRTM,2016-03-05,650\n"
                b"CNSGH,NLRTM,2016-03-06,1,250\n")
    _, client = flask_client(real_url, **TOKEN_ENV)
    response = client.post("/batches?batch_id=extra", data=csv_body, content_type="text/csv",
                           headers=WRITE_AUTH)
    assert response.status_code == 400, response.json
    web_message = response.json["error"]
    assert web_message == "CSV: line 3: more fields than the header's 4"
    assert prkl.connect(real_url).batch("extra") is None
    path = tmp_path / "extra.csv"
    path.write_bytes(csv_body)
    tool = subprocess.run([str(BUILD / "prkl"), "--db", real_url, "batch", "apply", str(path),
                           "--id", "extra"], capture_output=True, text=True)
    assert tool.returncode == 2, tool.stderr
    assert f"{path}: line 3: more fields than the header's 4" in tool.stderr
    assert web_message.removeprefix("CSV") in tool.stderr
    assert prkl.connect(real_url).batch("extra") is None
    # The same reader's other rules: a broken quote, an unknown column, both named.
    for body, named in ((b'origin,destination,day,price\n"CNSGH,NLRTM,2016-03-05,1\n', "line 2"),
                        (b"origin,destination,day,prize\nCNSGH,NLRTM,2016-03-05,1\n", "'prize'")):
        response = client.post("/batches?batch_id=broken", data=body, content_type="text/csv",
                               headers=WRITE_AUTH)
        assert response.status_code == 400 and named in response.json["error"], response.json
    # Row errors name the file's line, as the tool's do.
    response = client.post("/batches?batch_id=bad-row", content_type="text/csv", headers=WRITE_AUTH,
                           data=b"origin,destination,day,price\nCNSGH,NLRTM,2016-03-05,650\n"
                                b"CNSGH,NLRTM,2016-03-40,650\n")
    assert response.status_code == 422 and response.json["errors"][0]["row"] == 2
    # And the binding takes bytes directly.
    with pytest.raises(prkl.InvalidArgument, match="line 3: more fields"):
        prkl.connect(real_url).validate(csv_body)
