"""The ratestask rates API from Bottle: how little a frontend needs on top of prkl.

    PRKL_DB=sqlite:rates.db PYTHONPATH=build/python gunicorn --threads 8 --chdir examples/bottle app:app
"""

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


@app.get("/rates")
def rates():
    q = bottle.request.query
    for name in ("date_from", "date_to", "origin", "destination"):
        if not q.get(name):
            return fail(400, f"missing parameter '{name}'")
    try:
        days = db.rates(q.date_from, q.date_to, q.origin, q.destination)
    except prkl.InvalidArgument as e:
        return fail(400, str(e))
    except prkl.NotFound as e:
        return fail(404, str(e))
    return answer(200, [{"day": d.day.isoformat(), "average_price": d.average_price} for d in days])


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
    try:
        db.ping()
    except prkl.Error as e:
        return fail(503, f"the rate store is unavailable: {e}")
    return answer(200, {"status": "ok", "backend": db.backend})


@app.error(404)
@app.error(405)
def no_route(error):
    return fail(error.status_code, f"no route {bottle.request.method} {bottle.request.path}")
