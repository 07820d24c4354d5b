# SPDX-License-Identifier: MIT
"""A real Varnish (Debian's varnish) in front of the Flask example under gunicorn, configured
with examples/varnish/prkl.vcl: answers are cached, a batch through the app is visible through
the cache at once, and a write by another SQL client within the answers' max-age."""

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import other_client
from test_apps import EXAMPLES, Server, sample, scrape

VCL = EXAMPLES / "varnish" / "prkl.vcl"
MAX_AGE = 1
QUERY = ("/rates?date_from=2016-01-01&date_to=2016-01-10&origin=CNSGH"
         "&destination=north_europe_main")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Varnish:
    def __init__(self, port, backend_port, workdir):
        self.port = port
        vcl = workdir / "prkl.vcl"
        vcl.write_text(VCL.read_text().replace('.port = "8000";', f'.port = "{backend_port}";'))
        varnishd = "varnishd" if subprocess.run(["which", "varnishd"], capture_output=True
                                                ).returncode == 0 else "/usr/sbin/varnishd"
        # In the foreground, without dropping to the varnish user (-j none), so that it can use
        # the test's private directory.
        self.process = subprocess.Popen(
            [varnishd, "-F", "-j", "none", "-n", str(workdir / "state"), "-a",
             f"127.0.0.1:{port}", "-T", "127.0.0.1:0", "-f", str(vcl), "-s", "malloc,32m"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            # Not ours: the sanitizer runtimes a sanitized test run preloads stay out of it.
            env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.process.kill()
                    raise RuntimeError("varnishd did not start: " +
                                       self.process.stdout.read().decode())
                time.sleep(0.1)

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as r:
            return r.status, r.headers.get("X-Cache"), r.read()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def cached_app(real_url, tmp_path):
    varnish_port = free_port()
    app = Server(EXAMPLES / "flask", "app:create_app()", real_url, env={
        "PRKL_CACHE_CONTROL": f"public, max-age={MAX_AGE}",
        "PRKL_VARNISH_URL": f"http://127.0.0.1:{varnish_port}/"})
    workdir = tmp_path / "varnish"
    workdir.mkdir()
    try:
        varnish = Varnish(varnish_port, app.port, workdir)
    except Exception:
        app.stop()
        raise
    yield app, varnish
    varnish.stop()
    app.stop()


def test_varnish_serves_from_cache_and_never_longer_than_the_bound(cached_app, real_url):
    app, varnish = cached_app
    status, first, body = varnish.get(QUERY)
    assert (status, first) == (200, "MISS")
    hits = sum(varnish.get(QUERY)[1] == "HIT" for _ in range(20))
    assert hits == 20  # within max-age: from the cache

    # A batch through the app: the next answer through the cache is the new one, at once.
    status, _, _ = app.post_json("/batches", {"batch_id": "through-varnish", "rows": [
        {"origin": "CNSGH", "destination": "NLRTM", "day": "2016-01-03", "price": 500}] * 3})
    assert status == 201
    status, cache, after_batch = varnish.get(QUERY)
    assert cache == "MISS" and after_batch != body
    direct = app.call("GET", QUERY)[2]
    assert [d["average_price"] for d in direct][2] == 500  # Jan 3 had no prices before

    # Another client's SQL write: seen once the cached answer's max-age is over (revalidated).
    sql = ("INSERT INTO prices (orig_code, dest_code, day, price) VALUES "
           "('CNSGH', 'NLRTM', '2016-01-03', 800)")
    other_client(real_url, sql)
    written = time.monotonic()
    while True:
        _, _, now = varnish.get(QUERY)
        if now != after_batch:
            break
        assert time.monotonic() - written < MAX_AGE + 1.5, "stale past the bound"
        time.sleep(0.05)
    seen_after = time.monotonic() - written
    assert seen_after <= MAX_AGE + 1.5

    # Unchanged data after expiry: Varnish revalidates (304 from the app) and keeps serving.
    time.sleep(MAX_AGE + 0.2)
    status, cache, again = varnish.get(QUERY)
    assert status == 200 and again == now
    with urllib.request.urlopen(f"http://127.0.0.1:{app.port}/metrics", timeout=30) as r:
        samples = scrape(r.read().decode())
    assert sample(samples, "http_requests_total", route="/rates", method="GET", status="304") >= 1
    # Errors are never cached.
    for _ in range(2):
        with pytest.raises(urllib.error.HTTPError) as error:
            varnish.get("/ports/XXXXX")
        assert error.value.code == 404 and error.value.headers.get("X-Cache") == "MISS"
