# SPDX-License-Identifier: MIT
"""The baseline: how ratestask-style apps answer /rates today. Flask, psycopg2, one connection
per thread, and the SQL written by hand (recursive CTEs for the regions, generate_series for the
days). Only for bench/http_bench.sh.

    PLAIN_DSN="host=... dbname=..." gunicorn --threads 4 --chdir bench plain_flask_app:app
"""

import os
import threading

import psycopg2
from flask import Flask, jsonify, request

app = Flask(__name__)
local = threading.local()

SQL = """
WITH RECURSIVE
  o_regions AS (SELECT slug FROM regions WHERE slug = %(origin)s
                UNION SELECT r.slug FROM regions r JOIN o_regions o ON r.parent_slug = o.slug),
  d_regions AS (SELECT slug FROM regions WHERE slug = %(destination)s
                UNION SELECT r.slug FROM regions r JOIN d_regions d ON r.parent_slug = d.slug),
  o_ports AS (SELECT code FROM ports WHERE code = %(origin)s
              OR parent_slug IN (SELECT slug FROM o_regions)),
  d_ports AS (SELECT code FROM ports WHERE code = %(destination)s
              OR parent_slug IN (SELECT slug FROM d_regions))
SELECT d.day::date, CASE WHEN count(p.price) >= 3 THEN round(avg(p.price)) END
FROM generate_series(%(date_from)s::date, %(date_to)s::date, interval '1 day') AS d(day)
LEFT JOIN prices p ON p.day = d.day::date
  AND p.orig_code IN (SELECT code FROM o_ports) AND p.dest_code IN (SELECT code FROM d_ports)
GROUP BY d.day ORDER BY d.day
"""


def connection():
    if not hasattr(local, "conn"):
        local.conn = psycopg2.connect(os.environ["PLAIN_DSN"])
        local.conn.autocommit = True
    return local.conn


@app.get("/rates")
def rates():
    with connection().cursor() as cursor:
        cursor.execute(SQL, dict(request.args))
        return jsonify([{"day": day.isoformat(), "average_price": None if avg is None else int(avg)}
                        for day, avg in cursor.fetchall()])
