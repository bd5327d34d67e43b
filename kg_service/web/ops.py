"""Operations: /healthz (liveness), /readyz (store reachable), /metrics, access logs.

Metrics use ``prometheus_client``. Under ``ckmkg serve --workers N`` the server sets
``PROMETHEUS_MULTIPROC_DIR`` before any worker starts, so every worker writes its
counters to that directory and ``/metrics`` (answered by whichever worker gets the
scrape) sums them all; a single process keeps them in memory. Access logs: one JSON
object a line on the ``kg_service.access`` logger when ``log_json`` is set (gunicorn's
own access log is then switched off), nothing extra otherwise.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

from kg_service import __version__
from kg_service.errors import KGError, Unavailable
from kg_service.web.common import get_settings, get_store, problem_response

bp = Blueprint("ops", __name__)
access_log = logging.getLogger("kg_service.access")

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
REQUESTS = Counter("kg_http_requests_total", "HTTP requests answered.",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("kg_http_request_duration_seconds",
                    "Time from request to response headers.", ["endpoint"], buckets=_BUCKETS)
QUERY_TIME = Histogram("kg_query_seconds", "Store time of SPARQL queries (KG-Query-Time).",
                       buckets=_BUCKETS)
TIMEOUTS = Counter("kg_query_timeouts_total", "Queries stopped at their time limit (503).")
STORE_QUADS = Gauge("kg_store_quads", "Quads in the store (at the last scrape).",
                    multiprocess_mode="mostrecent")
STORE_GRAPHS = Gauge("kg_store_graphs", "Named graphs in the store (at the last scrape).",
                     multiprocess_mode="mostrecent")
STORE_KILLED = Gauge("kg_store_query_processes_killed",
                     "Query processes this server process killed at a deadline.",
                     multiprocess_mode="livesum")
INFO = Gauge("kg_build_info", "Version of the service.", ["version", "store"],
             multiprocess_mode="max")

_size_cache: dict[str, tuple[int, int]] = {}
# labelled children by label values: prometheus_client's labels() validates and locks on
# every call, a tenth of a /healthz request's time in the web process
_children: dict[tuple[str, ...], tuple[Any, Any]] = {}


@bp.route("/healthz")
def healthz() -> Response:
    """Liveness: the process answers (no store access)."""
    return Response(json.dumps({"status": "ok", "pid": os.getpid()}),
                    mimetype="application/json", headers={"Cache-Control": "no-store"})


@bp.route("/readyz")
def readyz() -> Response:
    """Readiness: the store answers; 503 problem body when it does not."""
    store = get_store()
    started = time.perf_counter()
    try:
        ping = getattr(store, "ping", None)
        if ping is not None:
            ping()
        revision = store.revision()
    except KGError as err:
        return problem_response(Unavailable(f"the store is not reachable: {err.detail}"))
    except OSError as err:
        return problem_response(Unavailable(f"the store is not reachable: {err}"))
    body = {"status": "ready", "store": _store_kind(), "revision": revision,
            "seconds": round(time.perf_counter() - started, 4)}
    return Response(json.dumps(body), mimetype="application/json",
                    headers={"Cache-Control": "no-store"})


@bp.route("/metrics")
def metrics() -> Response:
    """Prometheus text exposition of every worker's metrics."""
    store = get_store()
    try:
        revision = store.revision()
        cached = _size_cache.get(revision)
        if cached is None:
            cached = (len(store), len(store.named_graphs()))
            _size_cache.clear()
            _size_cache[revision] = cached
        STORE_QUADS.set(cached[0])
        STORE_GRAPHS.set(cached[1])
    except KGError:
        pass  # the store is down: /readyz says so; the counters are still useful
    STORE_KILLED.set(getattr(store, "timeouts", 0))
    INFO.labels(__version__, _store_kind()).set(1)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = DEFAULT_REGISTRY
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST,
                                                        "Cache-Control": "no-store"})


def _store_kind() -> str:
    store = str(get_settings().store)
    return "sparql" if store.startswith("sparql+") else store


@bp.before_app_request
def _start_timer() -> None:
    g.kg_started = time.perf_counter()


@bp.after_app_request
def _record(resp: Response) -> Response:
    started = getattr(g, "kg_started", None)
    elapsed = time.perf_counter() - started if started is not None else 0.0
    rule = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    key = (rule, request.method, str(resp.status_code))
    pair = _children.get(key)
    if pair is None:
        pair = _children[key] = (REQUESTS.labels(*key), LATENCY.labels(rule))
    pair[0].inc()
    pair[1].observe(elapsed)
    query_time = resp.headers.get("KG-Query-Time")
    if query_time:
        with contextlib.suppress(ValueError):
            QUERY_TIME.observe(float(query_time))
    if resp.status_code == 503 and not resp.is_streamed and b"timed-out" in resp.get_data():
        TIMEOUTS.inc()
    if current_app.config["KG_SETTINGS"].log_json:
        _log_access(resp, elapsed, query_time)
    return resp


def _log_access(resp: Response, elapsed: float, query_time: str | None) -> None:
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.propagate = False
    if access_log.level == logging.NOTSET:
        access_log.setLevel(logging.INFO)
    entry: dict[str, Any] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "remote": request.headers.get("X-Forwarded-For", request.remote_addr),
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode("latin-1")[:500] or None,
        "status": resp.status_code,
        "bytes": resp.content_length,
        "duration_ms": round(elapsed * 1000, 2),
        "query_time_ms": round(float(query_time) * 1000, 2) if query_time else None,
        "user_agent": request.headers.get("User-Agent"),
        "pid": os.getpid(),
    }
    access_log.info(json.dumps({k: v for k, v in entry.items() if v is not None}))
