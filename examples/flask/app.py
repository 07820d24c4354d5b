# SPDX-License-Identifier: MIT
"""The ratestask and operations-task rates APIs, served by prkl from Flask.

    PRKL_DB=sqlite:rates.db PYTHONPATH=build/python gunicorn --threads 8 --chdir examples/flask 'app:create_app()'

In another Flask app, mount the routes under any prefix and configure them through app.config:

    from app import rates
    app.config["PRKL_DB"] = "postgresql://..."
    app.register_blueprint(rates, url_prefix="/freight")

create_app() reads every PRKL_* environment variable into app.config (PRKL_DB, the store's URL;
PRKL_READ_DB, a standby of it that answers the reads, see docs/operations.md; PRKL_URL_PREFIX; PRKL_MAX_CONTENT_LENGTH, the largest upload in bytes, 64 MiB by default). The
store is opened on first use in each worker process, so `gunicorn --preload` never shares a
connection across a fork. A relative SQLite path is resolved against the directory the server
was started from ($PWD, which `gunicorn --chdir` leaves alone), not the one it runs in.

Writes need `Authorization: Bearer <token>` with a write token, and with no token configured
every write is refused; reads are public unless PRKL_AUTH_READS is true (prkl.auth: the token
settings, and `python3 -m prkl.auth new-token`). /health, /ready and /openapi.json are always
public; /metrics is a read.

GET  /rates?date_from=&date_to=&origin=&destination=     ratestask: [{"day", "average_price"}, ...]
GET  /rates?date_from=&date_to=&orig_code=&dest_code=    operations-task: {"rates": [{"count", "day", "price"}]}
     both also take &bucket=day|week|month, &percentiles=25,50,75 (adds "p25", ... keys) and
     &currency=EUR (each day converted at its own exchange rate); every question below takes
     &equipment=40HC,20DC, &term=short|long and &max_age_days=N (which prices count)
GET  /rates/matrix?date_from=&date_to=&origins=a,b&destinations=c,d (same options, up to 100 pairs)
     {"lanes": [{"origin", "destination", "rates": [ratestask entries]}]}
GET  /market-rates?date_from=&date_to=&origin=&destination=[&fallback=true][&min_count=3][&scale=0]
     the band per day: {"asked", "answered": {..., "steps"}, "days": [{"day", "count", "low",
     "midlow", "median", "mean", "midhigh", "high"}]}, values as decimal strings
GET  /market-rates/rank?price=&date_from=&date_to=&origin=&destination=[&min_count=1]
     [{"day", "count", "percent_rank", "cume_dist"}]; both take &bucket= and &currency=
POST /prices    date_from, date_to, origin_code, destination_code, price[, currency] (JSON or form)
POST /batches   a CSV body (?batch_id= or Idempotency-Key) or JSON {"batch_id", "rows": [...]}
GET  /ports?search=&region=&limit=&offset=,  GET /ports/<code>,  GET /regions
GET  /health         liveness: the process answers
GET  /ready          readiness: the store answers with a schema this prkl serves; 503 and why
GET  /openapi.json   the OpenAPI 3 description of all of the above
GET  /metrics        Prometheus: requests by route, method and status, and prkl's own metrics

Bad input is 400 with {"error": "..."} naming the parameter and value; an unknown port or region
is 404; a batch with bad rows is 422 with every row error; an upload over the size limit is 413
(a chunked one too, counted as it comes); no token or a wrong one is 401, a read-only token on a
write 403. A store that cannot be opened or reached is 503
with Retry-After (nothing was written); so is a write whose connection was lost while it
committed, with the "batch_id" to send it again with (it lands once). Any other failure of the
store is 500, and so is any other failure: every error is JSON, never an HTML page.
"""

import hashlib
import io
import json
import logging
import os
import threading
import time
import urllib.parse
import urllib.request
import uuid

import flask
from flask import Blueprint, Flask, current_app, g, jsonify, request, url_for
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.utils import cached_property

import simplejson
from flask.json.provider import DefaultJSONProvider

import prkl
from prkl import auth, web
from prkl.prometheus import WebMetrics

from openapi import openapi_document


class BadRequest(Exception):
    status = 400


StoreUnavailable = web.StoreUnavailable


# Seconds a client is told to wait before asking again after a lost connection.
RETRY_AFTER = "5"


def required(args, name):
    value = args.get(name)
    if value is None or value == "":
        raise BadRequest(f"missing parameter '{name}'")
    return value


def integer(args, name, default, minimum=0, maximum=1_000_000_000):
    return web.whole_number(args.get(name), name, default, minimum, maximum)


def percentiles(args):
    return web.percentiles(args.get("percentiles"))


def codes(args, name):
    return [code for code in required(args, name).split(",") if code]


def answer_options(args):
    """The options every rates route shares; prkl itself judges their values."""
    return {"bucket": args.get("bucket") or "day", "percentiles": percentiles(args),
            "currency": args.get("currency") or "USD", **web.price_filter(args.get)}


rates = Blueprint("prkl_rates", __name__)

# Uploads are whole CSV batches; this bounds what one request may make the worker hold.
DEFAULT_MAX_CONTENT_LENGTH = 64 * 1024 * 1024


class _Connection:
    """The store of one app in one process, opened on first use. A prkl database is safe to
    share between threads (it pools its connections), but not across fork: gunicorn --preload
    imports the app before forking its workers, so each worker opens its own here."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pid = None
        self.db = None

    def get(self, url, read_url=None):
        with self.lock:
            if self.db is None or self.pid != os.getpid():
                self.db = web.connect(url, read_url)
                self.pid = os.getpid()
            return self.db


def get_db():
    """The app's prkl database (app.config["PRKL_DB"], reading from PRKL_READ_DB if set)."""
    connection = current_app.extensions.get("prkl")
    if connection is None:
        connection = current_app.extensions.setdefault("prkl", _Connection())
    db = connection.db
    if db is not None and connection.pid == os.getpid():
        return db  # opened in this process already: no lock on every request
    return connection.get(current_app.config.get("PRKL_DB", "sqlite:prkl.db"),
                          current_app.config.get("PRKL_READ_DB"))


def exact_json(value, status=200):
    """A JSON response whose decimal.Decimal values are numbers with their exact text (1112.50),
    whichever JSON provider the host app has (Flask's own writes Decimals as strings)."""
    return current_app.response_class(simplejson.dumps(value, use_decimal=True) + "\n",
                                      status=status, mimetype="application/json")


class ExactJSONProvider(DefaultJSONProvider):
    """jsonify() with Decimals as exact JSON numbers, for the standalone app."""

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return simplejson.dumps(obj, use_decimal=True, **kwargs)


def error(status, message, **extra):
    return jsonify({"error": message, **extra}), status


@rates.errorhandler(BadRequest)
@rates.errorhandler(web.BadInput)
def bad_request(e):
    return error(400, str(e))


@rates.errorhandler(web.TooLarge)
def too_large(e):
    return error(413, str(e))


@rates.errorhandler(StoreUnavailable)
def store_unavailable(e):
    return error(503, str(e))


@rates.errorhandler(prkl.InvalidArgument)
def invalid(e):
    return error(400, str(e))


@rates.errorhandler(prkl.AnswerTooLarge)
def answer_too_large(e):
    # The question is well formed but asks more than the store answers at once.
    return error(422, str(e))


@rates.errorhandler(prkl.NotFound)
def not_found(e):
    return error(404, str(e))


@rates.errorhandler(prkl.ValidationError)
def invalid_rows(e):
    return error(422, str(e), errors=[row.to_dict() for row in e.errors])


@rates.errorhandler(prkl.ConnectionLost)
def unreachable(e):
    body, status = error(503, f"the rate store is unavailable: {e}")
    return body, status, {"Retry-After": RETRY_AFTER}


@rates.errorhandler(prkl.Busy)
def busy(e):
    # Writers kept adding lanes under the read; nothing is wrong with the question.
    body, status = error(503, f"the rate store is busy: {e}")
    return body, status, {"Retry-After": "1"}


@rates.errorhandler(prkl.InDoubt)
def in_doubt(e):
    # The batch id makes the retry safe: it lands once whether or not this one did.
    batch_id = g.get("batch_id")
    body, status = error(503, f"the write may or may not have landed; send it again with "
                              f"batch_id (or Idempotency-Key) '{batch_id}': {e}",
                         batch_id=batch_id)
    return body, status, {"Retry-After": RETRY_AFTER}


@rates.errorhandler(prkl.StorageError)
def store_failed(e):
    return error(500, f"the rate store failed: {e}")


@rates.errorhandler(HTTPException)
def http_error(e):
    """Flask's own errors (413 for an upload over MAX_CONTENT_LENGTH, 404, 405) as JSON."""
    return error(e.code, f"{e.name}: {e.description}")


@rates.errorhandler(Exception)
def unexpected(e):
    """Anything else is a bug worth logging in full, and still a JSON answer."""
    if isinstance(e, HTTPException):
        return http_error(e)
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error(500, "internal error")


def ratestask_fields(options):
    return ("day", "average_price") + (("percentiles",) if options["percentiles"] else ())


@rates.get("/rates")
def rates_route():
    db = get_db()
    args = request.args
    date_from, date_to = required(args, "date_from"), required(args, "date_to")
    options = answer_options(args)
    # Each answer comes with the data version it was read at, which tags it (ETag): the version
    # is read once per request, by the call that answers.
    if "orig_code" in args or "dest_code" in args:
        # operations-task: newest day first, count 0 not null, and the price as that app gave
        # it, float(AVG(price)): the unrounded average as the nearest float. ?scale=N gives the
        # exact average rounded half away from zero to N places instead (percentiles, which
        # that app did not have, are rounded to 2 places unless asked otherwise).
        scale = integer(args, "scale", None)
        days, version = db.rates(date_from, date_to, required(args, "orig_code"),
                                 required(args, "dest_code"), min_count=3,
                                 scale=2 if scale is None else scale, with_version=True,
                                 **options)
        out = []
        for d in reversed(days):
            values = d.to_dict()
            price = d.average_float if scale is None else values["average_price"]
            values.pop("average_price")
            entry = {"count": d.count, "day": values.pop("day"), "price": price}
            entry.update((k, v) for k, v in values.items() if k.startswith("p"))
            out.append(entry)
        return versioned(exact_json({"rates": out}), version)
    # Written as JSON by prkl itself: no Python object per day on the hot path.
    body, version = db.rates_json(date_from, date_to, required(args, "origin"),
                                  required(args, "destination"), fields=ratestask_fields(options),
                                  with_version=True, **options)
    return versioned(current_app.response_class(body + "\n", mimetype="application/json"),
                     version)


@rates.get("/rates/matrix")
def rates_matrix():
    args = request.args
    options = answer_options(args)
    body, version = get_db().rates_matrix_json(
        required(args, "date_from"), required(args, "date_to"), codes(args, "origins"),
        codes(args, "destinations"), fields=ratestask_fields(options), with_version=True,
        **options)
    return versioned(current_app.response_class(body + "\n", mimetype="application/json"),
                     version)


def market_options(args, min_count):
    return {"bucket": args.get("bucket") or "day", "currency": args.get("currency") or "USD",
            "min_count": integer(args, "min_count", min_count, minimum=1),
            **web.price_filter(args.get)}


@rates.get("/market-rates")
def market_rates():
    args = request.args
    body = get_db().market_json(
        required(args, "date_from"), required(args, "date_to"), required(args, "origin"),
        required(args, "destination"), fallback=web.flag(args.get("fallback"), "fallback"),
        scale=integer(args, "scale", 0, maximum=9), **market_options(args, 3))
    return current_app.response_class(body + "\n", mimetype="application/json")


@rates.get("/market-rates/rank")
def market_rank():
    args = request.args
    body = get_db().rank_json(
        required(args, "price"), required(args, "date_from"), required(args, "date_to"),
        required(args, "origin"), required(args, "destination"), **market_options(args, 1))
    return current_app.response_class(body + "\n", mimetype="application/json")


def apply_status(result):
    body = {k: v for k, v in result.to_dict().items() if k != "replayed"}
    # A retried batch id gets the first answer again; the header tells it was a replay.
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return jsonify(body), 201, headers


def idempotency_key():
    return web.header_text(request.headers.get("Idempotency-Key"), "Idempotency-Key")


@rates.post("/prices")
def upload_price():
    db = get_db()
    data = web.loads(request.get_data()) if request.is_json else request.form
    if not isinstance(data, dict) and not hasattr(data, "getlist"):
        raise BadRequest("expected a JSON object or a form")
    row = {"origin": required(data, "origin_code"),
           "destination": required(data, "destination_code"),
           "date_from": required(data, "date_from"), "date_to": required(data, "date_to"),
           "price": str(required(data, "price"))}
    if data.get("currency"):
        row["currency"] = str(data.get("currency"))
    batch_id = g.batch_id = idempotency_key() or f"price-{uuid.uuid4()}"
    errors = db.validate([row])
    unknown = [e for e in errors if e.message.startswith("unknown port")]
    if unknown:
        return error(404, unknown[0].message)
    if errors:
        return error(400, "; ".join(f"{e.field}: {e.message}" for e in errors))
    return apply_status(db.apply([row], batch_id=batch_id))


# Settings prkl.auth reads from app.config.
TOKEN_SETTINGS = ("PRKL_WRITE_TOKEN_HASHES", "PRKL_READ_TOKEN_HASHES", "PRKL_TOKEN_FILE",
                  "PRKL_AUTH_READS")
# Always public: probes and the API's description carry no data.
PUBLIC = {"prkl_rates.health", "prkl_rates.ready", "prkl_rates.openapi"}


def tokens(app=None):
    """The app's prkl.auth.Tokens, made from its config (again if the config changed)."""
    app = app or current_app
    # Compared, not hashed, on every request: the values as they are (a list as a tuple, so
    # that one changed in place counts as a change), no repr() of each.
    key = tuple(tuple(v) if isinstance(v, list) else v
                for v in map(app.config.get, TOKEN_SETTINGS))
    cached = app.extensions.get("prkl_tokens")
    if cached is None or cached[0] != key:
        cached = app.extensions["prkl_tokens"] = (key, auth.Tokens.from_config(app.config))
    return cached[1]


@rates.before_request
def authorize():
    """First of all: no token, no write (and no read, with PRKL_AUTH_READS)."""
    if request.endpoint in PUBLIC:
        return None
    policy = tokens()
    write = request.method not in auth.READ_METHODS
    if not write and not policy.protect_reads:
        return None  # a public read: nothing to look at
    refused = policy.check(request.headers.get("Authorization"), write=write)
    if refused is None:
        return None
    body, status = error(refused.status, refused.message)
    return body, status, {**refused.headers, "Cache-Control": "no-store"}


@rates.before_request
def bounded_body():
    """The body of a write, read here and no further than MAX_CONTENT_LENGTH, whether it came
    with a Content-Length or chunked (Werkzeug 2.2 checks neither before get_data() and
    get_json() read it whole); what the route reads afterwards is this copy."""
    if request.method in auth.READ_METHODS:
        return None
    environ = request.environ
    length = environ.get("CONTENT_LENGTH") or None
    if length is not None and not length.isdigit():
        raise BadRequest(f"header Content-Length: {web.quoted(length)} is not a number")
    length = int(length) if length is not None else None
    if length is None and not environ.get("wsgi.input_terminated"):
        body = b""  # a server that cannot tell where a body without a length ends: none
    else:
        body = web.read_body(environ["wsgi.input"], length,
                             current_app.config.get("MAX_CONTENT_LENGTH"))
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return None


# Answers that follow from the store's data alone: tagged with the data version they were read
# at, so a client or a cache in front that sends If-None-Match gets 304 (an empty body).
CACHEABLE = {"prkl_rates.rates_route", "prkl_rates.rates_matrix", "prkl_rates.ports",
             "prkl_rates.port", "prkl_rates.regions"}


def versioned(response, version):
    """A cacheable route's answer, read at data version `version` (the token its prkl call
    returned with it, with_version=True): its ETag, or 304 when the client holds that tag."""
    if (request.args.get("currency") or "USD") != "USD":
        # Exchange-rate loads do not move the data version: such answers are never tagged.
        g.prkl_cache = "no-store"
        return response
    tag = hashlib.sha256(f"{version}\n{request.full_path}".encode()).hexdigest()[:32]
    g.prkl_cache = current_app.config.get("PRKL_CACHE_CONTROL", "no-cache")
    g.prkl_etag = tag
    if "HTTP_IF_NONE_MATCH" in request.environ and request.if_none_match.contains(tag):
        return current_app.response_class(status=304)
    return response


@rates.after_request
def ban_cached_answers(response):
    """After a write, before its answer leaves: a cache in front (PRKL_VARNISH_URL, see
    examples/varnish/prkl.vcl) drops every answer it keeps, so a client that wrote reads its
    write through the cache at once."""
    varnish = current_app.config.get("PRKL_VARNISH_URL")
    if varnish and request.method == "POST" and response.status_code in (200, 201):
        try:
            urllib.request.urlopen(urllib.request.Request(varnish, method="BAN"), timeout=2).close()
        except OSError as e:
            # The answers stay until their max-age is over: late, never wrong for longer.
            current_app.logger.warning("could not ban the cache at %s: %s", varnish, e)
    return response


@rates.after_request
def tag_response(response):
    if request.endpoint not in CACHEABLE or request.method not in ("GET", "HEAD"):
        return response
    cache = g.get("prkl_cache")
    if cache and response.status_code in (200, 304):
        response.headers["Cache-Control"] = cache
        if g.get("prkl_etag"):
            response.set_etag(g.prkl_etag)
    else:
        # An error (an outage's 503 above all) is never kept by a cache in front.
        response.headers["Cache-Control"] = "no-store"
    return response


@rates.post("/batches")
def upload_batch():
    raw = request.get_data()  # bounded_body() has read it, up to MAX_CONTENT_LENGTH
    if request.is_json:
        body = web.loads(raw)
        if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
            raise BadRequest('expected {"batch_id": "...", "rows": [...]}')
        batch_id = body.get("batch_id")
        if batch_id is not None:
            batch_id = web.text_value(batch_id, "batch_id")
        batch_id = batch_id or idempotency_key()
        rows = body["rows"]
        if not all(isinstance(r, (dict, list)) for r in rows):
            raise BadRequest("every row must be an object or an array")
    else:
        # The CSV goes to prkl's own reader, the one the prkl tool reads files with: one rule
        # for a row with a field too many, a broken quote, an unknown column.
        batch_id = web.query_text(request.query_string, "batch_id") or idempotency_key()
        rows = raw
    if not batch_id:
        raise BadRequest("missing parameter 'batch_id' (or an Idempotency-Key header)")
    g.batch_id = batch_id
    return apply_status(get_db().apply(rows, batch_id=batch_id))


@rates.get("/ports")
def ports():
    args = request.args
    found, version = get_db().ports(region=args.get("region") or None,
                                    search=args.get("search") or None,
                                    limit=integer(args, "limit", 100),
                                    offset=integer(args, "offset", 0), with_version=True)
    return versioned(jsonify({"ports": [p.to_dict() for p in found]}), version)


@rates.get("/ports/<code>")
def port(code):
    found, version = get_db().port(code, with_version=True)
    return versioned(jsonify(found.to_dict()), version)


@rates.get("/regions")
def regions():
    roots, version = get_db().region_tree(with_version=True)
    return versioned(jsonify({"regions": [node.to_dict() for node in roots]}), version)


@rates.get("/health")
def health():
    """Liveness: the process answers, whatever the store does."""
    return jsonify({"status": "ok", "version": prkl.__version__})


@rates.get("/ready")
def ready():
    """Readiness: the store answers, its schema is one this prkl serves from, and a standby is
    not too far behind (PRKL_MAX_REPLAY_LAG seconds, 30 by default); 503 with the reason."""
    try:
        state = get_db().readiness(float(current_app.config.get("PRKL_MAX_REPLAY_LAG", 30)))
    except (StoreUnavailable, prkl.Error) as e:
        # A store that cannot even be opened is not ready either: never a 404 or a 500 here.
        return exact_json({"error": str(e)}, 503)
    ready, reason = state.pop("ready"), state.pop("reason")
    if not ready:
        return exact_json({"error": reason, **state}, 503)
    return exact_json({"status": "ready", **state})


@rates.record_once
def count_requests(state):
    state.app.extensions["prkl_metrics"] = WebMetrics()


@rates.before_app_request
def start_clock():
    g.prkl_started = time.perf_counter()


# One JSON line per request: method, route, status, duration and the batch id of a write.
request_log = logging.getLogger("prkl.requests")


@rates.after_app_request
def record_request(response):
    started = g.get("prkl_started")
    if started is not None:
        seconds = time.perf_counter() - started
        # The route's pattern, not the path: one series per route however many ports exist.
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        current_app.extensions["prkl_metrics"].observe(request.method, route,
                                                       response.status_code, seconds)
        if request_log.isEnabledFor(logging.INFO):
            line = {"method": request.method, "route": route, "status": response.status_code,
                    "seconds": round(seconds, 6)}
            if g.get("batch_id"):
                line["batch_id"] = g.batch_id
            request_log.info(json.dumps(line))
    return response


@rates.get("/metrics")
def metrics():
    body, content_type = current_app.extensions["prkl_metrics"].exposition()
    return current_app.response_class(body, content_type=content_type)


@rates.get("/openapi.json")
def openapi():
    # The paths are relative to wherever the blueprint is mounted.
    base_url = url_for("prkl_rates.openapi")[: -len("/openapi.json")] or "/"
    return jsonify(openapi_document(prkl.__version__, base_url))


def config_from_environment(app):
    """Every PRKL_* environment variable into app.config; values that read as JSON (numbers,
    true/false) become those, as Flask's from_prefixed_env() does, except the token settings,
    which stay text."""
    for name, text in os.environ.items():
        if name.startswith("PRKL_"):
            if name in TOKEN_SETTINGS[:3]:
                app.config[name] = text
                continue
            try:
                app.config[name] = json.loads(text)
            except ValueError:
                app.config[name] = text


class Request(flask.Request):
    """Flask's request, with a quicker query string parser: Werkzeug 2.2 decodes a query
    character by character in Python (about 20 us for a /rates question, 4 times what the
    standard library takes). A query of ASCII text (what clients send, percent-encoded) gives
    the same MultiDict either way; any other goes to Werkzeug's own parser."""

    @cached_property
    def args(self):
        query = self.query_string
        if not query.isascii() or self.parameter_storage_class is not ImmutableMultiDict:
            return super().args
        return ImmutableMultiDict(urllib.parse.parse_qsl(query.decode("ascii"),
                                                         keep_blank_values=True))


def create_app(db_url=None):
    """The examples' standalone app: the rates blueprint at PRKL_URL_PREFIX (default /)."""
    app = Flask(__name__)
    app.request_class = Request
    app.json = ExactJSONProvider(app)
    app.json.sort_keys = False
    config_from_environment(app)
    if db_url:
        app.config["PRKL_DB"] = db_url
    app.config["MAX_CONTENT_LENGTH"] = app.config.get("PRKL_MAX_CONTENT_LENGTH",
                                                      DEFAULT_MAX_CONTENT_LENGTH)
    app.register_blueprint(rates, url_prefix=app.config.get("PRKL_URL_PREFIX") or None)
    tokens(app)  # a token setting that cannot be used stops the app here, not at a request

    # Routing fails before any blueprint is chosen, so these two belong to the app.
    @app.errorhandler(404)
    def no_route(e):
        return error(404, f"no route {request.method} {request.path}")

    @app.errorhandler(405)
    def wrong_method(e):
        return error(405, f"{request.method} is not allowed on {request.path}")

    return app


if __name__ == "__main__":
    create_app().run()
