# SPDX-License-Identifier: MIT
"""The ratestask rates API from Bottle: how little a frontend needs on top of prkl.

    PRKL_DB=sqlite:rates.db PYTHONPATH=build/python gunicorn --threads 8 --chdir examples/bottle app:app

GET /rates?date_from=&date_to=&origin=&destination=[&bucket=week][&percentiles=25,50,75][&currency=EUR]
GET /market-rates?date_from=&date_to=&origin=&destination=[&fallback=true][&min_count=][&scale=]
GET /market-rates/rank?price=&date_from=&date_to=&origin=&destination=[&min_count=]
    every question also takes [&equipment=40HC,20DC][&term=short|long][&max_age_days=N]

GET /ports?search=&region=&limit=&offset=,  GET /health (liveness),  GET /ready (readiness)

GET /metrics   Prometheus: requests by route, method and status, and prkl's own metrics (under
               gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR: see prkl.prometheus)

Every error is JSON, {"error": "..."}, never Bottle's HTML page: 400 for a bad parameter, 404 for
an unknown port, region or route, 405, 503 with Retry-After when the store cannot be reached, and
500 for any other failure. The store (PRKL_DB; reads from PRKL_READ_DB when set, a standby of it:
see docs/operations.md) is opened on first use in each worker process, so `gunicorn --preload`
never shares a connection across a fork; a relative SQLite path is resolved against the directory
the server was started from ($PWD, which `gunicorn --chdir` leaves alone), and a store that cannot
be opened is 503 saying why.

Tokens as in the Flask example (prkl.auth, from the environment): every route but GET/HEAD/OPTIONS
needs a write token, none configured means none is accepted; reads are public unless
PRKL_AUTH_READS is true; /health and /ready are always public.
"""

import functools
import json
import os
import threading
import time

import bottle
import simplejson

import prkl
from prkl import auth, web
from prkl.prometheus import WebMetrics

app = bottle.Bottle()
_connection = {"pid": None, "db": None}
_connection_lock = threading.Lock()


def get_db():
    """This process's prkl database: thread-safe, but opened after any fork."""
    with _connection_lock:
        if _connection["db"] is None or _connection["pid"] != os.getpid():
            _connection["db"] = web.connect(os.environ.get("PRKL_DB", "sqlite:prkl.db"),
                                            os.environ.get("PRKL_READ_DB") or None)
            _connection["pid"] = os.getpid()
        return _connection["db"]


def answer(status, body):
    bottle.response.status = status
    bottle.response.content_type = "application/json"
    # Decimals (averages asked with a scale) as JSON numbers with their exact text.
    return simplejson.dumps(body, use_decimal=True)


def fail(status, message):
    return answer(status, {"error": message})


def prkl_errors(route):
    """Installed on every route: each prkl error gets its status, whichever route raised it."""
    @functools.wraps(route)
    def wrapper(*args, **kwargs):
        try:
            return route(*args, **kwargs)
        except prkl.AnswerTooLarge as e:
            return fail(422, str(e))
        except prkl.InvalidArgument as e:
            return fail(400, str(e))
        except prkl.NotFound as e:
            return fail(404, str(e))
        except prkl.ValidationError as e:
            return answer(422, {"error": str(e), "errors": [row.to_dict() for row in e.errors]})
        except (prkl.ConnectionLost, prkl.InDoubt) as e:
            # A lost connection is worth asking again; other failures of the store are not.
            bottle.response.set_header("Retry-After", "5")
            return fail(503, f"the rate store is unavailable: {e}")
        except prkl.Busy as e:
            bottle.response.set_header("Retry-After", "1")
            return fail(503, f"the rate store is busy: {e}")
        except prkl.StorageError as e:
            return fail(500, f"the rate store failed: {e}")
        except (web.BadInput, web.TooLarge, web.StoreUnavailable) as e:
            return fail(e.status, str(e))
    return wrapper


# The token settings, read once at import: a setting that cannot be used stops the app here.
_tokens = auth.Tokens.from_config(os.environ)
# Always public: probes carry no data.
PUBLIC = {"/health", "/ready"}


def authorize(route):
    """Installed on every route, outermost of prkl's: no token, no write (and no read, with
    PRKL_AUTH_READS); refusals are counted like any other answer."""
    @functools.wraps(route)
    def wrapper(*args, **kwargs):
        if bottle.request.route.rule not in PUBLIC:
            refused = _tokens.check(bottle.request.get_header("Authorization"),
                                    write=bottle.request.method not in auth.READ_METHODS)
            if refused is not None:
                for name, value in refused.headers.items():
                    bottle.response.set_header(name, value)
                return fail(refused.status, refused.message)
        return route(*args, **kwargs)
    return wrapper


_metrics = WebMetrics()


def count_requests(route):
    """Times every routed request and counts it by its route's pattern and its status."""
    @functools.wraps(route)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        status = 500
        try:
            result = route(*args, **kwargs)
            status = bottle.response.status_code
            return result
        except bottle.HTTPResponse as response:
            status = response.status_code
            raise
        finally:
            _metrics.observe(bottle.request.method, bottle.request.route.rule, status,
                             time.perf_counter() - started)
    return wrapper


# Bottle applies the plugin installed last innermost: the counting sees prkl's errors as the
# statuses they become.
app.install(count_requests)
app.install(authorize)
app.install(prkl_errors)


@app.get("/rates")
def rates():
    q = bottle.request.query
    for name in ("date_from", "date_to", "origin", "destination"):
        if not q.get(name):
            return fail(400, f"missing parameter '{name}'")
    asked = web.percentiles(q.get("percentiles"))
    days = get_db().rates(q.date_from, q.date_to, q.origin, q.destination,
                          bucket=q.get("bucket") or "day", percentiles=asked,
                          currency=q.get("currency") or "USD", **web.price_filter(q.get))
    out = []
    for d in days:
        values = d.to_dict()
        entry = {"day": values["day"], "average_price": values["average_price"]}
        keys = [web.percentile_key(percent) for percent in asked or ()]
        entry.update((key, values[key]) for key in keys)
        out.append(entry)
    return answer(200, out)


def market_options(q, min_count):
    return {"bucket": q.get("bucket") or "day", "currency": q.get("currency") or "USD",
            "min_count": web.whole_number(q.get("min_count"), "min_count", min_count, 1),
            **web.price_filter(q.get)}


@app.get("/market-rates")
def market_rates():
    q = bottle.request.query
    for name in ("date_from", "date_to", "origin", "destination"):
        if not q.get(name):
            return fail(400, f"missing parameter '{name}'")
    body = get_db().market_json(q.date_from, q.date_to, q.origin, q.destination,
                                fallback=web.flag(q.get("fallback"), "fallback"),
                                scale=web.whole_number(q.get("scale"), "scale", 0, 0, 9),
                                **market_options(q, 3))
    bottle.response.content_type = "application/json"
    return body + "\n"


@app.get("/market-rates/rank")
def market_rank():
    q = bottle.request.query
    for name in ("price", "date_from", "date_to", "origin", "destination"):
        if not q.get(name):
            return fail(400, f"missing parameter '{name}'")
    body = get_db().rank_json(q.price, q.date_from, q.date_to, q.origin, q.destination,
                              **market_options(q, 1))
    bottle.response.content_type = "application/json"
    return body + "\n"


@app.get("/ports")
def ports():
    q = bottle.request.query
    # str.isdigit() takes other scripts' digits too ("５"): the one rule of prkl.web instead.
    numbers = {name: web.whole_number(q.get(name), name, default)
               for name, default in (("limit", 100), ("offset", 0))}
    found = get_db().ports(region=q.get("region") or None, search=q.get("search") or None,
                           **numbers)
    return answer(200, {"ports": [p.to_dict() for p in found]})


@app.get("/metrics")
def metrics():
    body, content_type = _metrics.exposition()
    bottle.response.content_type = content_type
    return body


@app.get("/health")
def health():
    """Liveness: the process answers, whatever the store does."""
    return answer(200, {"status": "ok", "version": prkl.__version__})


@app.get("/ready")
def ready():
    """Readiness: the store answers with a schema this prkl serves, and a standby is at most
    PRKL_MAX_REPLAY_LAG seconds (30) behind; 503 with the reason."""
    try:
        state = get_db().readiness(float(os.environ.get("PRKL_MAX_REPLAY_LAG", 30)))
    except (web.StoreUnavailable, prkl.Error) as e:
        # A store that cannot even be opened is not ready either: never a 404 or a 500 here.
        return answer(503, {"error": str(e)})
    ready, reason = state.pop("ready"), state.pop("reason")
    if not ready:
        return answer(503, {"error": reason, **state})
    return answer(200, {"status": "ready", **state})


def json_error(error):
    """Bottle's answer to whatever no route handled (404, 405, an uncaught exception: 500) as
    JSON in place of its HTML page."""
    bottle.response.content_type = "application/json"
    if "bottle.route" not in bottle.request.environ:  # no route took it: counted here
        _metrics.observe(bottle.request.method, "<unmatched>", error.status_code, 0.0)
    if error.status_code == 404:
        message = f"no route {bottle.request.method} {bottle.request.path}"
    elif error.status_code == 405:
        message = f"{bottle.request.method} is not allowed on {bottle.request.path}"
    elif error.status_code >= 500:
        message = "internal error"
    else:
        message = str(error.body)
    return json.dumps({"error": message})


app.default_error_handler = json_error
