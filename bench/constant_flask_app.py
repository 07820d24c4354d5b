# SPDX-License-Identifier: MIT
"""The ceiling: a Flask endpoint that answers GET /rates with a constant answer (the real one for
the benchmark's question, read once at start), so its req/s is what Flask and gunicorn allow on
this machine with no data access at all. Only for bench/http_bench.sh.

    CONSTANT_ANSWER=answer.json gunicorn --threads 4 --chdir bench constant_flask_app:app
"""

import json
import os

from flask import Flask, jsonify

app = Flask(__name__)
app.json.sort_keys = False
with open(os.environ["CONSTANT_ANSWER"], encoding="utf-8") as f:
    ANSWER = json.load(f)


@app.get("/rates")
def rates():
    return jsonify(ANSWER)
