"""Operations surface: liveness, readiness, Prometheus metrics, JSON access logs."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kg_service import create_app
from tests.conftest import copy_loaded, make_settings


def _metric(text: str, name: str, labels: str = "") -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    pattern = re.escape(name + ("{" + labels + "}" if labels else "")) + r" ([0-9.e+-]+)\n"
    m = re.search(pattern, text)
    return float(m.group(1)) if m else 0.0


@pytest.fixture
def slow_app(loaded_template: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app whose queries may run 0.5 s and which writes JSON access logs."""
    application = create_app(make_settings(copy_loaded(loaded_template, tmp_path / "data"),
                                           query_timeout=0.5, log_json=True))
    yield application
    application.extensions["kg"].close()


def test_healthz_answers_without_the_store(client: FlaskClient) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "ok"
    assert resp.headers["Cache-Control"] == "no-store"


def test_readyz_reports_the_store_revision(client: FlaskClient, app: Flask) -> None:
    resp = client.get("/readyz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ready"
    assert body["store"] == "embedded"
    assert body["revision"] == app.extensions["kg"].revision()


def test_readyz_is_503_when_the_store_is_gone(fresh_app: Flask) -> None:
    data_dir = Path(fresh_app.config["KG_SETTINGS"].data_dir)
    (data_dir / "oxigraph" / "CURRENT").unlink()
    resp = fresh_app.test_client().get("/readyz", headers={"Accept": "application/json"})
    assert resp.status_code == 503
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["title"] == "Service unavailable"
    assert fresh_app.test_client().get("/healthz").status_code == 200


def test_metrics_count_requests_by_endpoint_and_status(client: FlaskClient, app: Flask) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    for _ in range(3):
        assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    assert client.get("/no/such/page").status_code == 404
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.mimetype == "text/plain"
    text = resp.get_data(as_text=True)
    ok = 'endpoint="/sparql",method="GET",status="200"'
    assert _metric(text, "kg_http_requests_total", ok) - \
        _metric(before, "kg_http_requests_total", ok) == 3
    missing = 'endpoint="(unmatched)",method="GET",status="404"'
    assert _metric(text, "kg_http_requests_total", missing) - \
        _metric(before, "kg_http_requests_total", missing) == 1
    assert _metric(text, "kg_http_request_duration_seconds_count", 'endpoint="/sparql"') >= 3
    assert _metric(text, "kg_query_seconds_count") - _metric(before, "kg_query_seconds_count") == 3
    store = app.extensions["kg"]
    assert _metric(text, "kg_store_quads") == len(store) == 1844
    assert _metric(text, "kg_store_graphs") == len(store.named_graphs())
    assert 'kg_build_info{store="embedded",version="0.1.0"} 1.0' in text


def test_timeouts_are_counted_and_logged_as_json(slow_app: Flask) -> None:
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("kg_service.access")
    handler = Capture()
    logger.addHandler(handler)
    try:
        client = slow_app.test_client()
        before = _metric(client.get("/metrics").get_data(as_text=True),
                         "kg_query_timeouts_total")
        slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        resp = client.get("/sparql", query_string={"query": slow},
                          headers={"User-Agent": "ops-test"})
        assert resp.status_code == 503
        text = client.get("/metrics").get_data(as_text=True)
        assert _metric(text, "kg_query_timeouts_total") - before == 1
        assert _metric(text, "kg_store_query_processes_killed") >= 1
    finally:
        logger.removeHandler(handler)
    entries = [json.loads(r) for r in records]
    sparql = [e for e in entries if e["path"] == "/sparql"]
    assert len(sparql) == 1
    entry = sparql[0]
    assert entry["method"] == "GET" and entry["status"] == 503
    assert entry["user_agent"] == "ops-test"
    assert entry["duration_ms"] >= 400
    assert "query=SELECT" in entry["query"]
