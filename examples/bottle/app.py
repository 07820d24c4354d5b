# SPDX-License-Identifier: MIT
"""The ratestask rates API from Bottle: how little a frontend needs on top of prkl.

    PRKL_DB=sqlite:rates.db PYTHONPATH=build/python gunicorn --threads 8 --chdir examples/bottle app:app

GET /rates?date_from=&date_to=&origin=&destination=[&bucket=week][&percentiles=25,50,75][&currency=EUR]

A store that cannot be reached is 503 with Retry-After; any other failure of the store is 500.
"""

import functools
import json
import os

import bottle

import prkl

app = bottle.Bottle()
db = prkl.connect(os.environ.get("PRKL_DB", "sqlite:prkl.db"))


def answer(status, body):
    bottle.response.status = status
    bottle.response.content_type = "application/json"
    return json.dumps(body)


def fail(status, message):
    return answer(status, {"error": message})


def storage_errors(route):
    """Installed on every route: a lost connection is worth asking again, other failures not."""
    @functools.wraps(route)
    def wrapper(*args, **kwargs):
        try:
            return route(*args, **kwargs)
        except (prkl.ConnectionLost, prkl.InDoubt) as e:
            bottle.response.set_header("Retry-After", "5")
            return fail(503, f"the rate store is unavailable: {e}")
        except prkl.StorageError as e:
            return fail(500, f"the rate store failed: {e}")
    return wrapper


app.install(storage_errors)


@app.get("/rates")
def rates():
    q = bottle.request.query
    for name in ("date_from", "date_to", "origin", "destination"):
        if not q.get(name):
            return fail(400, f"missing parameter '{name}'")
    asked = None
    if q.get("percentiles"):
        try:
            asked = [int(item) for item in q.percentiles.split(",")]
        except ValueError:
            asked = []
        if not asked or not all(-1000 < p < 1000 for p in asked):
            return fail(400, f"parameter 'percentiles': '{q.percentiles}' is not a list of "
                             "percentiles like 25,50,75")
    try:
        days = db.rates(q.date_from, q.date_to, q.origin, q.destination,
                        bucket=q.get("bucket") or "day", percentiles=asked,
                        currency=q.get("currency") or "USD")
    except prkl.InvalidArgument as e:
        return fail(400, str(e))
    except prkl.NotFound as e:
        return fail(404, str(e))
    out = []
    for d in days:
        values = d.to_dict()
        entry = {"day": values["day"], "average_price": values["average_price"]}
        entry.update((f"p{percent}", values[f"p{percent}"]) for percent in asked or ())
        out.append(entry)
    return answer(200, out)


@app.get("/ports")
def ports():
    q = bottle.request.query
    numbers = {}
    for name, default in (("limit", 100), ("offset", 0)):
        text = q.get(name) or str(default)
        if not text.isdigit() or int(text) > 1_000_000_000:
            return fail(400, f"parameter '{name}': '{text}' is not an integer in 0..1000000000")
        numbers[name] = int(text)
    try:
        found = db.ports(region=q.get("region") or None, search=q.get("search") or None,
                         **numbers)
    except prkl.NotFound as e:
        return fail(404, str(e))
    return answer(200, {"ports": [p.to_dict() for p in found]})


@app.get("/health")
def health():
    db.ping()
    return answer(200, {"status": "ok", "backend": db.backend})


@app.error(404)
@app.error(405)
def no_route(error):
    return fail(error.status_code, f"no route {bottle.request.method} {bottle.request.path}")
