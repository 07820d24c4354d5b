# SPDX-License-Identifier: MIT
"""One Prometheus scrape for a web app on prkl: its requests (latency by route and method,
counts by status) and prkl's own metrics (prkl.metrics_text()), with python3-prometheus-client.

In one process the answer is read as it stands. Under gunicorn with several workers, set
PROMETHEUS_MULTIPROC_DIR (an empty directory) before the app starts, as prometheus_client's
multiprocess mode asks: every worker then records into it and a scrape answered by any worker
reports all of them. prkl's metrics are kept in each worker's native library, so each worker
copies them into that directory (as gauges summed over the workers, dead ones included, which is
what a counter's total is) at most `interval` seconds apart, and the answering worker copies its
own just before it answers.

    from prkl.prometheus import WebMetrics
    metrics = WebMetrics()
    metrics.observe(method, route, status, seconds)     # after each request
    body, content_type = metrics.exposition()           # for GET /metrics

prometheus_client is imported with this module, never by `import prkl`.
"""

import os
import threading
import time

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest, multiprocess)
from prometheus_client.parser import text_string_to_metric_families

from . import metrics_text

# From a millisecond to 30 s: a rates answer to a large upload.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class WebMetrics:
    def __init__(self, interval=1.0):
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        # In multiprocess mode the values live in the directory, and a registry is made per
        # scrape; otherwise this app's own registry, so that two apps in one process (tests)
        # do not collide in the global one.
        self._registry = None if self.multiprocess else CollectorRegistry()
        self.duration = Histogram("http_request_duration_seconds",
                                  "Time to answer a request, by route and method",
                                  ["route", "method"], buckets=REQUEST_BUCKETS,
                                  registry=self._registry)
        self.requests = Counter("http_requests_total", "Requests answered, by route, method and "
                                "status", ["route", "method", "status"], registry=self._registry)
        self._interval = interval
        self._children = {}
        self._lock = threading.Lock()
        self._gauges = {}
        self._copier = None
        self._copier_pid = None

    def observe(self, method, route, status, seconds):
        # The labelled children are looked up once per (route, method, status): labels() builds
        # and locks on every call, a cost paid on every request otherwise.
        children = self._children.get((route, method, status))
        if children is None:
            children = self._children[(route, method, status)] = (
                self.duration.labels(route, method), self.requests.labels(route, method,
                                                                          str(status)))
        children[0].observe(seconds)
        children[1].inc()
        if self.multiprocess:
            self._start_copier()

    def exposition(self):
        """The text of a scrape, and its Content-Type."""
        if not self.multiprocess:
            return generate_latest(self._registry) + metrics_text().encode(), CONTENT_TYPE_LATEST
        self._copy_prkl_metrics()
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST

    # --- multiprocess: prkl's native metrics copied into the shared directory ----------------

    def _start_copier(self):
        # One thread per worker process, started after gunicorn forked it.
        if self._copier_pid == os.getpid():
            return
        with self._lock:
            if self._copier_pid == os.getpid():
                return
            self._copier_pid = os.getpid()
            self._copier = threading.Thread(target=self._copy_forever, name="prkl-metrics",
                                            daemon=True)
            self._copier.start()

    def _copy_forever(self):
        while True:
            self._copy_prkl_metrics()
            time.sleep(self._interval)

    def _copy_prkl_metrics(self):
        with self._lock:
            for family in text_string_to_metric_families(metrics_text()):
                for sample in family.samples:
                    self._gauge(sample.name, family.documentation, sample.labels).set(sample.value)

    def _gauge(self, name, documentation, labels):
        names = tuple(sorted(labels))
        gauge = self._gauges.get((name, names))
        if gauge is None:
            gauge = Gauge(name, documentation, names, multiprocess_mode="sum", registry=None)
            self._gauges[(name, names)] = gauge
        return gauge.labels(*(labels[n] for n in names)) if names else gauge
