# SPDX-License-Identifier: MIT
"""The OpenAPI 3 description of the Flask example's routes, built with apispec (Debian's
python3-apispec) and served at GET /openapi.json. CTest "openapi: redocly lint" holds it to
@redocly/cli's recommended rules (tests/openapi/)."""

from apispec import APISpec


def _query(name, description, required=False, schema=None):
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}


DATE = {"type": "string", "format": "date"}
INTEGER = {"type": "integer", "minimum": 0}
# Which prices an answer counts; every question takes them, and none means every price.
FILTERS = [
    _query("equipment", "comma-separated ISO 6346 size-type codes the store knows, e.g. "
           "40HC,20DC: only prices of that equipment"),
    _query("term", "only short-term (spot) or only long-term contract prices",
           schema={"type": "string", "enum": ["short", "long"]}),
    _query("max_age_days", "a price counts on day D only if D minus the day it was received is "
           "at most this", schema={"type": "integer", "minimum": 0, "maximum": 36525}),
]
ANSWER_OPTIONS = [
    _query("bucket", "day (default), week (Monday to Sunday) or month",
           schema={"type": "string", "enum": ["day", "week", "month"]}),
    _query("percentiles", "comma-separated percents strictly between 0 and 100, at most six "
           "fraction digits: 25,50,75 or 2.5,97.5 (adds p25, p2.5, ... keys)"),
    _query("currency", "ISO 4217 code; each day converted at its own exchange rate (default USD)"),
] + FILTERS
# One row of a batch: a day's price, a price for each day of date_from..date_to, or a contract
# valid_from..valid_to (one row counted on every day of its validity, at most 731 days).
BATCH_ROW = {
    "type": "object", "required": ["origin", "destination", "price"],
    "properties": {
        "origin": {"type": "string", "description": "port code"},
        "destination": {"type": "string", "description": "port code"},
        "price": {"oneOf": [{"type": "integer"}, {"type": "string"}],
                  "description": "whole units of currency"},
        "day": DATE, "date_from": DATE, "date_to": DATE,
        "valid_from": {**DATE, "description": "a contract's first valid day"},
        "valid_to": {**DATE, "description": "a contract's last valid day"},
        "currency": {"type": "string", "description": "ISO 4217 code (default USD)"},
        "equipment": {"type": "string", "description": "ISO 6346 size-type code, e.g. 40HC"},
        "term": {"type": "string", "enum": ["short", "long"]},
        "received": {**DATE, "description": "the day the price was submitted"}}}
# Each status an operation can answer, by the component response that describes it.
RESPONSES = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound",
             "413": "TooLarge", "422": "BadRows", "500": "StoreFailed", "503": "Unavailable"}


def _errors(*statuses):
    return {status: {"$ref": f"#/components/responses/{RESPONSES[status]}"} for status in statuses}


# Who may call: reads are public unless PRKL_AUTH_READS is set ({} is "no credential"), writes
# need a write token, the probes and this document are public.
READ = [{}, {"bearer": []}]
WRITE = [{"bearer": []}]
PUBLIC = []


def _json(schema_name, description):
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


def openapi_document(version, base_url="/"):
    """`base_url`: where the routes are mounted (the blueprint's prefix)."""
    spec = APISpec(title="prkl freight rates", version=version, openapi_version="3.0.3",
                   servers=[{"url": base_url}],
                   info={"description": "The ratestask and operations-task rates APIs served by "
                                        "prkl, with ports, regions and batch uploads. Writes "
                                        "need a bearer token with write access; reads need one "
                                        "only when the server sets PRKL_AUTH_READS.",
                         "license": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"}})
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer",
        "description": "A token made with `python3 -m prkl.auth new-token`; the server keeps only "
                       "its SHA-256 (PRKL_WRITE_TOKEN_HASHES, PRKL_READ_TOKEN_HASHES or "
                       "PRKL_TOKEN_FILE). A read token may only read."})
    nullable_number = {"type": "number", "nullable": True}
    spec.components.schema("Error", {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "string"},
                       "errors": {"type": "array", "items": {"$ref": "#/components/schemas/RowError"}},
                       "batch_id": {"type": "string"}}})
    spec.components.schema("RowError", {
        "type": "object", "properties": {"row": {"type": "integer"}, "field": {"type": "string"},
                                         "message": {"type": "string"}}})
    spec.components.schema("RatestaskDay", {
        "type": "object", "required": ["day", "average_price"],
        "properties": {"day": DATE, "average_price": nullable_number},
        "additionalProperties": nullable_number,
        "description": "One day (or bucket); p25, p50, ... when percentiles were asked."})
    spec.components.schema("OperationsTaskRates", {
        "type": "object", "required": ["rates"],
        "properties": {"rates": {"type": "array", "items": {
            "type": "object", "required": ["count", "day", "price"],
            "properties": {"count": INTEGER, "day": DATE, "price": nullable_number}}}}})
    spec.components.schema("Matrix", {
        "type": "object", "required": ["lanes"],
        "properties": {"lanes": {"type": "array", "items": {
            "type": "object", "properties": {
                "origin": {"type": "string"}, "destination": {"type": "string"},
                "rates": {"type": "array", "items": {"$ref": "#/components/schemas/RatestaskDay"}}}}}}})
    spec.components.schema("BatchResult", {
        "type": "object",
        "properties": {"batch_id": {"type": "string"}, "rows": INTEGER, "prices": INTEGER}})
    spec.components.schema("Port", {
        "type": "object", "required": ["code", "name", "region"],
        "properties": {"code": {"type": "string", "minLength": 5, "maxLength": 5},
                       "name": {"type": "string"}, "region": {"type": "string"}}})
    spec.components.schema("RegionNode", {
        "type": "object",
        "properties": {"slug": {"type": "string"}, "name": {"type": "string"},
                       "children": {"type": "array", "items": {"$ref": "#/components/schemas/RegionNode"}}}})
    for name, description in [("BadRequest", "a malformed or missing parameter, named"),
                              ("NotFound", "an unknown port, region or route"),
                              ("Forbidden", "the token may only read"),
                              ("TooLarge", "the body is over the size limit (counted as it "
                                           "comes when chunked)"),
                              ("BadRows", "bad rows, every one listed, nothing written; or a question whose "
                                         "answer would exceed max_answer_values"),
                              ("StoreFailed", "the store failed"),
                              ("Unavailable", "the store cannot be reached now: ask again after "
                                              "Retry-After seconds")]:
        spec.components.response(name, _json("Error", description))
    spec.components.response("Unauthorized", {
        **_json("Error", "no bearer token, or one this server does not know"),
        "headers": {"WWW-Authenticate": {
            "description": 'Bearer realm="prkl", with error="invalid_token" when a token was '
                           "sent and is not known",
            "schema": {"type": "string"}}}})

    rates_params = [
        _query("date_from", "first day, YYYY-MM-DD", True, DATE),
        _query("date_to", "last day, YYYY-MM-DD", True, DATE),
        _query("origin", "ratestask: a port code or a region slug"),
        _query("destination", "ratestask: a port code or a region slug"),
        _query("orig_code", "operations-task: a port code or a region slug"),
        _query("dest_code", "operations-task: a port code or a region slug"),
        _query("scale", "operations-task: round price to this many decimal places (default: unrounded, as a float)", schema=INTEGER),
    ] + ANSWER_OPTIONS
    spec.path(path="/rates", operations={"get": {
        "operationId": "getRates", "security": READ,
        "summary": "Price statistics for every day of a range between two locations",
        "parameters": rates_params,
        "responses": {"200": {"description": "ratestask (origin, destination): an array of days; "
                                             "operations-task (orig_code, dest_code): {rates}",
                              "content": {"application/json": {"schema": {"oneOf": [
                                  {"type": "array", "items": {"$ref": "#/components/schemas/RatestaskDay"}},
                                  {"$ref": "#/components/schemas/OperationsTaskRates"}]}}}},
                      **_errors("400", "401", "404", "422", "500", "503")}}})
    spec.path(path="/rates/matrix", operations={"get": {
        "operationId": "getRatesMatrix", "security": READ,
        "summary": "Every origin with every destination, up to 100 pairs",
        "parameters": [_query("date_from", "first day", True, DATE),
                       _query("date_to", "last day", True, DATE),
                       _query("origins", "comma-separated ports or regions", True),
                       _query("destinations", "comma-separated ports or regions", True)] + ANSWER_OPTIONS,
        "responses": {"200": _json("Matrix", "one entry per pair, origins outer"),
                      **_errors("400", "401", "404", "422", "500", "503")}}})
    market_params = [
        _query("date_from", "first day, YYYY-MM-DD", True, DATE),
        _query("date_to", "last day, YYYY-MM-DD", True, DATE),
        _query("origin", "a port code or a region slug", True),
        _query("destination", "a port code or a region slug", True),
        _query("bucket", "day (default), week (Monday to Sunday) or month",
               schema={"type": "string", "enum": ["day", "week", "month"]}),
        _query("currency", "ISO 4217 code; each day converted at its own exchange rate (default USD)"),
    ] + FILTERS
    decimal_text = {"type": "string", "nullable": True, "pattern": "^[0-9]+(\\.[0-9]+)?$"}
    lane = {"type": "object", "required": ["origin", "destination"],
            "properties": {"origin": {"type": "string"}, "destination": {"type": "string"}}}
    spec.components.schema("MarketAnswer", {
        "type": "object", "required": ["asked", "answered", "days"],
        "properties": {
            "asked": lane,
            "answered": {**lane, "required": ["origin", "destination", "steps"],
                         "properties": {**lane["properties"], "steps": INTEGER}},
            "days": {"type": "array", "items": {
                "type": "object", "required": ["day", "count"],
                "properties": {"day": DATE, "count": INTEGER,
                               **{name: decimal_text for name in
                                  ("low", "midlow", "median", "mean", "midhigh", "high")}}}}}})
    spec.components.schema("RankDays", {
        "type": "array", "items": {
            "type": "object", "required": ["day", "count", "percent_rank", "cume_dist"],
            "properties": {"day": DATE, "count": INTEGER, "percent_rank": decimal_text,
                           "cume_dist": decimal_text}}})
    spec.path(path="/market-rates", operations={"get": {
        "operationId": "getMarketRates", "security": READ,
        "summary": "The market's band per day: 2.5th, 25th, 50th, 75th, 97.5th percentile, mean "
                   "and count, stepping up the region tree for a thin lane with fallback=true",
        "parameters": market_params + [
            _query("fallback", "true: while more than half the days have fewer than min_count "
                               "prices, answer one region level up (origin, then destination)",
                   schema={"type": "string", "enum": ["true", "false", "1", "0"]}),
            _query("min_count", "fewest prices a day needs for its band (default 3)",
                   schema={"type": "integer", "minimum": 1}),
            _query("scale", "fraction digits of the values (default 0)",
                   schema={"type": "integer", "minimum": 0, "maximum": 9})],
        "responses": {"200": _json("MarketAnswer", "the band of the lane answered"),
                      **_errors("400", "401", "404", "422", "500", "503")}}})
    spec.path(path="/market-rates/rank", operations={"get": {
        "operationId": "getMarketRank", "security": READ,
        "summary": "Where a price stands among the market's prices of each day",
        "parameters": [_query("price", "the price, in currency: digits with an optional "
                                       "fraction, such as 1234.50", True)] + market_params + [
            _query("min_count", "fewest prices a day needs for its ranks (default 1)",
                   schema={"type": "integer", "minimum": 1})],
        "responses": {"200": _json("RankDays", "percent_rank and cume_dist per day, as "
                                               "PostgreSQL's hypothetical-set aggregates"),
                      **_errors("400", "401", "404", "422", "500", "503")}}})
    spec.path(path="/prices", operations={"post": {
        "operationId": "postPrice", "security": WRITE,
        "summary": "One price for every day of a range",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {ctype: {"schema": {
            "type": "object",
            "required": ["date_from", "date_to", "origin_code", "destination_code", "price"],
            "properties": {"date_from": DATE, "date_to": DATE, "origin_code": {"type": "string"},
                           "destination_code": {"type": "string"},
                           "price": {"type": "string", "description": "decimal, in currency"},
                           "currency": {"type": "string"}}}}
            for ctype in ("application/json", "application/x-www-form-urlencoded")}},
        "responses": {"201": _json("BatchResult", "written (or replayed: Idempotent-Replayed)"),
                      **_errors("400", "401", "403", "404", "413", "422", "500", "503")}}})
    spec.path(path="/batches", operations={"post": {
        "operationId": "postBatch", "security": WRITE,
        "summary": "A batch of rows, written all or nothing, once per batch id",
        "parameters": [_query("batch_id", "the batch id (or an Idempotency-Key header)"),
                       {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object", "required": ["rows"], "properties": {
                "batch_id": {"type": "string"},
                "rows": {"type": "array", "items": BATCH_ROW}}}}}},
        "responses": {"201": _json("BatchResult", "written (or replayed: Idempotent-Replayed)"),
                      **_errors("400", "401", "403", "413", "422", "500", "503")}}})
    spec.path(path="/ports", operations={"get": {
        "operationId": "getPorts", "security": READ,
        "summary": "Ports by case-insensitive search, within a region at any depth",
        "parameters": [_query("search", "text in the code or name"),
                       _query("region", "a region slug"),
                       _query("limit", "at most this many (default 100)", schema=INTEGER),
                       _query("offset", "skip this many", schema=INTEGER)],
        "responses": {"200": {"description": "ports by code", "content": {"application/json": {
            "schema": {"type": "object", "properties": {
                "ports": {"type": "array", "items": {"$ref": "#/components/schemas/Port"}}}}}}},
            **_errors("400", "401", "404", "500", "503")}}})
    spec.path(path="/ports/{code}", operations={"get": {
        "operationId": "getPort", "security": READ,
        "summary": "One port",
        "parameters": [{"name": "code", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": _json("Port", "the port"),
                      **_errors("400", "401", "404", "500", "503")}}})
    spec.path(path="/regions", operations={"get": {
        "operationId": "getRegions", "security": READ,
        "summary": "The region forest",
        "responses": {"200": {"description": "roots and children by slug", "content": {
            "application/json": {"schema": {"type": "object", "properties": {
                "regions": {"type": "array", "items": {"$ref": "#/components/schemas/RegionNode"}}}}}}},
            **_errors("401", "500", "503")}}})
    spec.path(path="/health", operations={"get": {
        "operationId": "getHealth", "security": PUBLIC,
        "summary": "Liveness: the process answers",
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"status": {"type": "string"},
                                             "version": {"type": "string"}}}}}}}}})
    readiness = {"type": "object", "properties": {
        "status": {"type": "string"}, "error": {"type": "string"},
        "schema_version": {"type": "integer"}, "readable_from": {"type": "integer"},
        "standby": {"type": "boolean"},
        "replay_lag_seconds": {"type": "number", "nullable": True}}}
    spec.path(path="/ready", operations={"get": {
        "operationId": "getReady", "security": PUBLIC,
        "summary": "Readiness: the store answers with a schema this prkl serves",
        "responses": {"200": {"description": "ready", "content": {
            "application/json": {"schema": readiness}}},
                      "503": {"description": "not ready, and why", "content": {
                          "application/json": {"schema": readiness}}}}}})
    spec.path(path="/metrics", operations={"get": {
        "operationId": "getMetrics", "security": READ,
        "summary": "Prometheus metrics: requests by route, method and status, and prkl's own",
        "responses": {"200": {"description": "Prometheus text format 0.0.4", "content": {
            "text/plain": {"schema": {"type": "string"}}}}, **_errors("401")}}})
    spec.path(path="/openapi.json", operations={"get": {
        "operationId": "getOpenAPI", "security": PUBLIC,
        "summary": "This document",
        "responses": {"200": {"description": "OpenAPI 3.0",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}})
    return spec.to_dict()
