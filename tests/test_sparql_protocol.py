"""/sparql and /graph-store through the Flask test client: the SPARQL 1.1 Protocol, result
formats, datasets, errors, limits, the network guard, CORS and updates.
"""

from __future__ import annotations

import csv
import io
import json
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import rdflib
from conftest import copy_loaded, make_settings
from flask import Flask
from flask.testing import FlaskClient

from kg_service import create_app

CKM = "https://w3id.org/ckm/ontology#"
HOLCIM_GRAPH = "https://w3id.org/ckm/id/case/holcim-hbk"
STYLES = "SELECT ?s ?label WHERE { ?s a ckm:CKMStyle ; rdfs:label ?label } ORDER BY ?label"
STYLE_LABELS = ["Communities of creation", "Joint intellectual property", "Mutual innovation",
                "Prosumerism", "Team-based co-learning"]
CONSTRUCT = "CONSTRUCT WHERE { ?s a ckm:CKMStyle ; ckm:interactionIntensity ?i }"
HEAVY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")
SRX = "{http://www.w3.org/2005/sparql-results#}"


def make_app(template: Path, tmp: Path, **overrides: object) -> Flask:
    app = create_app(make_settings(copy_loaded(template, tmp / "data"), **overrides))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app_with(loaded_template: Path, tmp_path: Path) -> Iterator:
    """A factory of fresh apps with settings overrides (closed at the end)."""
    made: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        made.append(make_app(loaded_template, tmp_path / str(len(made)), **overrides))
        return made[-1]

    yield factory
    for app in made:
        app.extensions["kg"].close()


def labels_json(resp) -> list[str]:
    return [b["label"]["value"] for b in resp.get_json()["results"]["bindings"]]


# ------------------------------------------------------------------ query operations
def test_get_query_json_with_headers(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": STYLES})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/sparql-results+json; charset=utf-8"
    assert labels_json(resp) == STYLE_LABELS
    assert resp.headers["KG-Result-Count"] == "5"
    assert resp.headers["KG-Result-Truncated"] == "false"
    assert float(resp.headers["KG-Query-Time"]) >= 0
    assert "Accept" in resp.headers["Vary"]


def test_post_form_and_post_direct_give_the_same_answer(client: FlaskClient) -> None:
    form = client.post("/sparql", data={"query": STYLES})
    direct = client.post("/sparql", data=STYLES.encode(),
                         content_type="application/sparql-query")
    assert form.status_code == direct.status_code == 200
    assert labels_json(form) == labels_json(direct) == STYLE_LABELS


@pytest.mark.parametrize("accept,fmt", [
    ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
    ("application/sparql-results+json", "json"),
    ("text/csv;q=0.5, application/sparql-results+xml", "xml"),
    ("application/sparql-results+json;q=0.2, text/tab-separated-values;q=0.9", "tsv"),
    ("text/html, */*;q=0.8", "json"),
])
def test_select_formats_by_accept(client: FlaskClient, accept: str, fmt: str) -> None:
    resp = client.get("/sparql", query_string={"query": STYLES}, headers={"Accept": accept})
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    if fmt == "xml":
        assert resp.mimetype == "application/sparql-results+xml"
        root = ET.fromstring(text)
        got = [el.text for el in root.iter(f"{SRX}literal")]
        assert got == STYLE_LABELS
    elif fmt == "csv":
        assert resp.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["label"] for r in rows] == STYLE_LABELS
        assert rows[0]["s"] == CKM + "CommunitiesOfCreation"
    elif fmt == "tsv":
        assert resp.mimetype == "text/tab-separated-values"
        lines = text.splitlines()
        assert lines[0] == "?s\t?label"
        assert lines[1] == f"<{CKM}CommunitiesOfCreation>\t\"Communities of creation\"@en"
    else:
        assert labels_json(resp) == STYLE_LABELS
    assert "charset=utf-8" in resp.headers["Content-Type"]


def test_format_parameter_overrides_accept(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": STYLES, "format": "csv"},
                      headers={"Accept": "application/sparql-results+xml"})
    assert resp.mimetype == "text/csv"
    resp = client.get("/sparql", query_string={"query": STYLES,
                                                "format": "text/tab-separated-values"})
    assert resp.mimetype == "text/tab-separated-values"


@pytest.mark.parametrize("fmt,accept", [("json", "application/sparql-results+json"),
                                        ("xml", "application/sparql-results+xml"),
                                        ("csv", "text/csv")])
def test_ask(client: FlaskClient, fmt: str, accept: str) -> None:
    q = "ASK { ckm:CommunitiesOfCreation ckm:interactionIntensity ckm:HighIntensity }"
    resp = client.get("/sparql", query_string={"query": q}, headers={"Accept": accept})
    assert resp.status_code == 200 and resp.mimetype == accept
    body = resp.get_data(as_text=True)
    if fmt == "json":
        assert resp.get_json()["boolean"] is True
    elif fmt == "xml":
        assert ET.fromstring(body).find(f"{SRX}boolean").text == "true"
    else:
        assert body.strip() == "true"


@pytest.mark.parametrize("accept,rdflib_format", [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"),
    ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml"),
    ("application/trig", "trig"), ("application/n-quads", "nquads")])
def test_construct_formats(client: FlaskClient, accept: str, rdflib_format: str) -> None:
    resp = client.post("/sparql", data={"query": CONSTRUCT}, headers={"Accept": accept})
    assert resp.status_code == 200 and resp.mimetype == accept
    g = rdflib.Dataset() if rdflib_format in ("trig", "nquads") else rdflib.Graph()
    g.parse(data=resp.get_data(), format=rdflib_format)
    triples = {(str(s), str(p), str(o)) for s, p, o, *_ in
               (g.quads() if isinstance(g, rdflib.Dataset) else g)}
    # Table 3: six (style, intensity) pairs (team-based co-learning has both) and 5 types
    assert len(triples) == 11
    assert (CKM + "TeamBasedCoLearning", CKM + "interactionIntensity",
            CKM + "LowIntensity") in triples
    assert resp.headers["KG-Result-Count"] == "11"


def test_describe_default_format_is_turtle(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": "DESCRIBE ckm:Prosumerism"})
    assert resp.status_code == 200 and resp.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=resp.get_data(), format="turtle")
    assert (rdflib.URIRef(CKM + "Prosumerism"), rdflib.URIRef(CKM + "caseExamples"),
            rdflib.Literal("Quicken; IKEA")) in g


def test_not_acceptable(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": STYLES}, headers={"Accept": "image/png"})
    assert resp.status_code == 406
    assert resp.get_json()["status"] == 406 if resp.is_json else "406" in resp.get_data(True)
    resp = client.get("/sparql", query_string={"query": STYLES, "format": "turtle"})
    assert resp.status_code == 406
    resp = client.get("/sparql", query_string={"query": CONSTRUCT},
                      headers={"Accept": "text/csv"})
    assert resp.status_code == 406


def test_conditional_get(client: FlaskClient) -> None:
    first = client.get("/sparql", query_string={"query": STYLES})
    etag = first.headers["ETag"]
    again = client.get("/sparql", query_string={"query": STYLES},
                       headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/sparql", query_string={"query": STYLES, "format": "csv"},
                       headers={"If-None-Match": etag})
    assert other.status_code == 200


# ------------------------------------------------------------------ datasets
COMPANIES = "SELECT DISTINCT ?label WHERE { ?c a ckm:Company ; rdfs:label ?label } ORDER BY ?label"


def test_default_graph_is_the_union(client: FlaskClient) -> None:
    labels = labels_json(client.get("/sparql", query_string={"query": COMPANIES}))
    assert {"Holcim", "IKEA", "Old Mutual", "Siemens"} <= set(labels)
    assert len(labels) >= 24


def test_default_graph_uri_narrows(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": COMPANIES,
                                                "default-graph-uri": HOLCIM_GRAPH})
    assert labels_json(resp) == ["Holcim"]


def test_from_in_text_narrows(client: FlaskClient) -> None:
    # Oxigraph's union flag would override FROM: the endpoint switches it off
    q = ("SELECT DISTINCT ?label FROM <https://w3id.org/ckm/id/case/old-mutual> "
         "WHERE { ?c a ckm:Company ; rdfs:label ?label }")
    assert labels_json(client.get("/sparql", query_string={"query": q})) == ["Old Mutual"]


def test_named_graph_uri_only_gives_an_empty_default_graph(client: FlaskClient) -> None:
    q = ("SELECT ?g (COUNT(*) AS ?n) WHERE { { GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o } } "
         "GROUP BY ?g")
    rows = client.get("/sparql", query_string={"query": q, "named-graph-uri": HOLCIM_GRAPH}
                      ).get_json()["results"]["bindings"]
    assert [r["g"]["value"] for r in rows] == [HOLCIM_GRAPH]


def test_protocol_dataset_replaces_from(client: FlaskClient) -> None:
    q = ("SELECT DISTINCT ?label FROM <https://w3id.org/ckm/id/case/old-mutual> "
         "WHERE { ?c a ckm:Company ; rdfs:label ?label }")
    resp = client.get("/sparql", query_string={"query": q, "default-graph-uri": HOLCIM_GRAPH})
    assert labels_json(resp) == ["Holcim"]


# ------------------------------------------------------------------ errors
def test_syntax_error_has_line_and_column(client: FlaskClient) -> None:
    q = "SELECT ?s\nWHERE {\n  ?s a ckm:CKMStyle ;\n     rdfs:label }"
    resp = client.get("/sparql", query_string={"query": q},
                      headers={"Accept": "application/json"})
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["type"].endswith("/bad-query") and body["status"] == 400
    assert body["line"] == 4  # in the user's text, not counting the declared prefixes
    assert body["column"] >= 15
    assert "line 4" in body["detail"]


def test_error_is_plain_text_when_json_is_not_acceptable(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": "SELECT * WHERE {"},
                      headers={"Accept": "text/csv"})
    assert resp.status_code == 400 and resp.mimetype == "text/plain"
    assert resp.get_data(as_text=True).startswith("400 Bad SPARQL")


@pytest.mark.parametrize("kwargs,status", [
    ({"query_string": "query=ASK%7B%7D&query=ASK%7B%7D"}, 400),
    ({"query_string": {"update": "CLEAR ALL"}}, 400),
    ({"method": "POST", "data": "ASK {}", "content_type": "text/plain"}, 415),
    ({"method": "POST", "data": "query=ASK%20%7B%7D"}, 415),
    ({"method": "POST", "data": {"query": "ASK {}", "update": "CLEAR ALL"}}, 400),
    ({"method": "POST", "data": "ASK {}".encode("utf-16"),
      "content_type": "application/sparql-query; charset=UTF-16"}, 415),
    ({"method": "POST", "data": b"ASK { \xff }", "content_type": "application/sparql-query"},
     400),
    ({"method": "PUT", "query_string": {"query": "ASK {}"}}, 405),
    ({"query_string": {"query": "ASK {}", "default-graph-uri": "not an iri"}}, 400),
    ({"query_string": {"query": "INSERT DATA { <a:b> <a:c> <a:d> }"}}, 400),
    ({"query_string": {"query": "ASK {}", "timeout": "-1"}}, 400),
])
def test_bad_requests(client: FlaskClient, kwargs: dict, status: int) -> None:
    method = kwargs.pop("method", "GET")
    resp = client.open("/sparql", method=method, headers={"Accept": "application/json"},
                       **kwargs)
    assert resp.status_code == status
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["status"] == status


def test_update_by_get_is_refused(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"update": "CLEAR ALL"})
    assert resp.status_code == 400 and "never accepted by GET" in resp.get_json()["detail"]


def test_body_over_the_limit_is_413(client: FlaskClient) -> None:
    big = "ASK {}" + " " * 1_100_000
    resp = client.post("/sparql", data=big.encode(), content_type="application/sparql-query",
                       headers={"Accept": "application/json"})
    assert resp.status_code == 413
    assert resp.get_json()["status"] == 413


def test_result_cut_at_the_limit_says_so(app_with) -> None:
    client = app_with(result_limit=3).test_client()
    resp = client.get("/sparql", query_string={"query": STYLES})
    assert resp.headers["KG-Result-Truncated"] == "true"
    assert resp.headers["KG-Result-Count"] == "3"
    body = resp.get_json()
    assert body["truncated"] is True and len(body["results"]["bindings"]) == 3
    resp = client.get("/sparql", query_string={"query": CONSTRUCT, "format": "turtle"})
    assert resp.headers["KG-Result-Truncated"] == "true"
    assert b"# truncated" in resp.data
    resp = client.get("/sparql", query_string={"query": STYLES, "format": "xml"})
    assert b"truncated" in resp.data


def _no_busy_children(patience: float = 10.0) -> list:
    """Children of this process that keep burning a core (the killed query must not).

    A replacement query process is started at once after a kill and is busy for a moment
    with its imports, so a child counts as busy only if it stays busy for ``patience`` s.
    """
    deadline = time.monotonic() + patience
    while True:
        children = psutil.Process().children(recursive=True)
        for child in children:
            child.cpu_percent(None)
        time.sleep(0.5)
        busy = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE
                and c.cpu_percent(None) > 50]
        if not busy or time.monotonic() > deadline:
            return busy


def test_timeout_setting_stops_the_query(app_with) -> None:
    client = app_with(query_timeout=1.0).test_client()
    started = time.monotonic()
    resp = client.get("/sparql", query_string={"query": HEAVY},
                      headers={"Accept": "application/json"})
    took = time.monotonic() - started
    assert resp.status_code == 503 and resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["type"].endswith("/timed-out") and body["timeout"] == 1.0
    assert took < 4
    assert _no_busy_children() == []


def test_after_a_timeout_the_next_query_answers_at_once(app_with) -> None:
    # the heavy query stops at its 1 s limit (timeout=); the next query has the setting's
    # 5 s, which covers starting a new query process (see the report: process start-up
    # counts against a query's time limit in the store's pool)
    client = app_with(query_timeout=5.0).test_client()
    resp = client.get("/sparql", query_string={"query": HEAVY, "timeout": "1"},
                      headers={"Accept": "application/json"})
    assert resp.status_code == 503 and resp.get_json()["timeout"] == 1.0
    assert _no_busy_children() == []
    started = time.monotonic()
    resp = client.get("/sparql", query_string={"query": STYLES})
    assert resp.status_code == 200 and labels_json(resp) == STYLE_LABELS
    assert time.monotonic() - started < 5.0
    started = time.monotonic()
    resp = client.get("/sparql", query_string={"query": STYLES, "format": "csv"})
    assert resp.status_code == 200 and time.monotonic() - started < 1.0


def test_client_timeout_may_only_lower_the_limit(client: FlaskClient) -> None:
    started = time.monotonic()
    resp = client.get("/sparql", query_string={"query": HEAVY, "timeout": "0.5"},
                      headers={"Accept": "application/json"})
    assert resp.status_code == 503 and resp.get_json()["timeout"] == 0.5
    assert time.monotonic() - started < 3


# ------------------------------------------------------------------ the network guard
@pytest.fixture
def listener() -> Iterator[tuple[int, list]]:
    """A loopback TCP listener that records every connection it receives."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    seen: list = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            seen.append(conn.recv(200))
            conn.sendall(b"HTTP/1.1 500 No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield srv.getsockname()[1], seen
    stop.set()
    thread.join(2)
    srv.close()


@pytest.mark.parametrize("template", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:%d/sparql> { ?s ?p ?o } }",
    "PREFIX r: <http://127.0.0.1:%d/> SELECT * WHERE { SERVICE SILENT r:sparql { ?s ?p ?o } }",
    "SELECT * WHERE { BIND(<http://127.0.0.1:%d/sparql> AS ?e) SERVICE ?e { ?s ?p ?o } }",
    "SELECT * WHERE { ?x a ckm:CKMStyle # SERVICE in a comment is harmless\n"
    "  { service <http://127.0.0.1:%d/sparql> { ?s ?p ?o } } }",
])
def test_service_never_reaches_the_network(client: FlaskClient, listener, template) -> None:
    port, seen = listener
    resp = client.get("/sparql", query_string={"query": template % port},
                      headers={"Accept": "application/json"})
    assert resp.status_code == 400
    body = resp.get_json()
    assert "SERVICE" in body["detail"] and "refused" in body["detail"]
    time.sleep(0.3)
    assert seen == []


def test_allowed_service_host_is_called(app_with, listener) -> None:
    # the control: with the host allowed, pyoxigraph really connects, so the guard above
    # is what keeps the network closed
    port, seen = listener
    client = app_with(service_allow=["127.0.0.1"]).test_client()
    q = f"SELECT * WHERE {{ SERVICE SILENT <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
    resp = client.get("/sparql", query_string={"query": q})
    assert resp.status_code in (200, 500)
    deadline = time.monotonic() + 3
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen and seen[0].split(b" ")[0] in (b"GET", b"POST")


def test_remote_from_is_refused_but_stored_graphs_are_fine(client: FlaskClient) -> None:
    q = "SELECT * FROM <http://example.org/remote.ttl> WHERE { ?s ?p ?o }"
    resp = client.get("/sparql", query_string={"query": q})
    assert resp.status_code == 400 and "does not fetch remote graphs" in resp.get_json()["detail"]
    q = "SELECT * FROM NAMED <http://example.org/remote.ttl> WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert client.get("/sparql", query_string={"query": q}).status_code == 400
    q = "ASK FROM <urn:x-local:nothing> { }"
    assert client.get("/sparql", query_string={"query": q}).get_json()["boolean"] is True


def test_update_with_service_is_refused_before_anything_runs(client: FlaskClient,
                                                             tokens, listener) -> None:
    port, seen = listener
    update = ("INSERT { GRAPH <" + HOLCIM_GRAPH + "> { ?s ?p ?o } } WHERE { SERVICE "
              f"<http://127.0.0.1:{port}/x> " "{ ?s ?p ?o } }")
    resp = client.post("/sparql", data=update, content_type="application/sparql-update",
                       headers={"Authorization": f"Bearer {tokens['editor']}"})
    assert resp.status_code == 400 and "refused" in resp.get_json()["detail"]
    load = client.post("/sparql", data={"update": f"LOAD <http://127.0.0.1:{port}/x.ttl>"},
                       headers={"Authorization": f"Bearer {tokens['editor']}"})
    assert load.status_code == 400
    time.sleep(0.2)
    assert seen == []


# ------------------------------------------------------------------ updates
INSERT = ('INSERT DATA { GRAPH <' + HOLCIM_GRAPH + '> { <https://w3id.org/ckm/id/company/holcim> '
          '<http://www.w3.org/2004/02/skos/core#altLabel> "Holcim Group" } }')


def test_update_needs_an_editor(client: FlaskClient, tokens) -> None:
    resp = client.post("/sparql", data=INSERT, content_type="application/sparql-update")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    resp = client.post("/sparql", data={"update": INSERT},
                       headers={"Authorization": f"Bearer {tokens['reader']}"})
    assert resp.status_code == 403
    resp = client.post("/sparql", data={"update": INSERT},
                       headers={"Authorization": "Bearer not-a-token"})
    assert resp.status_code == 401
    ask = 'ASK { ?c skos:altLabel "Holcim Group" }'
    assert client.get("/sparql", query_string={"query": ask}).get_json()["boolean"] is False


def test_editor_update_is_applied(fresh_client: FlaskClient, fresh_tokens) -> None:
    resp = fresh_client.post("/sparql", data=INSERT, content_type="application/sparql-update",
                             headers={"Authorization": f"Bearer {fresh_tokens['editor']}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers.get("ETag")
    ask = 'ASK { <https://w3id.org/ckm/id/company/holcim> skos:altLabel "Holcim Group" }'
    assert fresh_client.get("/sparql", query_string={"query": ask}).get_json()["boolean"]
    # the project's prefixes need no PREFIX line in an update either; errors keep positions
    short = ('INSERT DATA { GRAPH <https://w3id.org/ckm/id/case/old-mutual> { '
             '<https://w3id.org/ckm/id/company/old-mutual> skos:altLabel "OM" } }')
    auth = {"Authorization": f"Bearer {fresh_tokens['editor']}"}
    resp = fresh_client.post("/sparql", data={"update": short}, headers=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    ask = 'ASK { <https://w3id.org/ckm/id/company/old-mutual> skos:altLabel "OM" }'
    assert fresh_client.get("/sparql", query_string={"query": ask}).get_json()["boolean"]
    bad = fresh_client.post("/sparql", data={"update": "CLEAR XYZ"}, headers=auth)
    assert bad.status_code == 400
    detail = bad.get_json()["detail"]
    columns = [int(c) for c in re.findall(r"(?:col:|column |error at 1:)(\d+)", detail)]
    assert columns and all(1 <= c <= len("CLEAR XYZ") + 1 for c in columns), detail


# ------------------------------------------------------------------ service description
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")


def test_service_description_turtle_and_jsonld(client: FlaskClient) -> None:
    resp = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert resp.status_code == 200 and resp.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=resp.get_data(), format="turtle")
    svc = rdflib.URIRef("http://localhost/sparql")
    assert (svc, rdflib.RDF.type, SD.Service) in g
    assert (svc, SD.endpoint, svc) in g
    assert (svc, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert (svc, SD.feature, SD.UnionDefaultGraph) in g
    formats = {str(o) for o in g.objects(svc, SD.resultFormat)}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in formats
    assert "http://www.w3.org/ns/formats/Turtle" in formats
    names = {str(n) for n in g.objects(None, SD.name)}
    assert HOLCIM_GRAPH in names and "https://w3id.org/ckm/ontology" in names
    ld = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert ld.mimetype == "application/ld+json"
    g2 = rdflib.Graph().parse(data=ld.get_data(), format="json-ld")
    assert (svc, rdflib.RDF.type, SD.Service) in g2 and len(g2) == len(g)


def test_service_description_html_for_browsers(client: FlaskClient) -> None:
    resp = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "<form" in html and 'name="query"' in html and HOLCIM_GRAPH in html
    assert client.get("/sparql/").status_code == 200  # the W3C tests' spelling


# ------------------------------------------------------------------ CORS
def test_cors_for_reads_without_credentials(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": STYLES},
                      headers={"Origin": "https://notebook.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "KG-Result-Truncated" in resp.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in resp.headers
    pre = client.options("/sparql", headers={
        "Origin": "https://notebook.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code in (200, 204)
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "content-type" in pre.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in pre.headers
    err = client.get("/sparql", query_string={"query": "SELECT"}, headers={"Origin": "x"})
    assert err.status_code == 400 and err.headers["Access-Control-Allow-Origin"] == "*"


# ------------------------------------------------------------------ graph store
def test_graph_store_get(client: FlaskClient) -> None:
    resp = client.get("/graph-store", query_string={"graph": HOLCIM_GRAPH},
                      headers={"Accept": "application/n-triples"})
    assert resp.status_code == 200 and resp.mimetype == "application/n-triples"
    g = rdflib.Graph().parse(data=resp.get_data(), format="nt")
    holcim = rdflib.URIRef("https://w3id.org/ckm/id/company/holcim")
    assert (holcim, rdflib.RDFS.label, rdflib.Literal("Holcim")) in g
    q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <" + HOLCIM_GRAPH + "> { ?s ?p ?o } }"
    n = client.get("/sparql", query_string={"query": q}).get_json()
    assert len(g) == int(n["results"]["bindings"][0]["n"]["value"])
    head = client.head("/graph-store", query_string={"graph": HOLCIM_GRAPH})
    assert head.status_code == 200 and head.data == b""
    ttl = client.get("/graph-store", query_string={"default": ""})
    assert ttl.status_code == 200 and ttl.mimetype == "text/turtle"
    union = rdflib.Graph().parse(data=ttl.get_data(), format="turtle")
    assert len(union) > len(g) and (holcim, rdflib.RDFS.label, rdflib.Literal("Holcim")) in union
    missing = client.get("/graph-store", query_string={"graph": "https://w3id.org/ckm/none"})
    assert missing.status_code == 404
    assert client.get("/graph-store").status_code == 400


def test_graph_store_writes_need_an_editor(client: FlaskClient, tokens) -> None:
    body = "<https://w3id.org/ckm/id/x> <http://www.w3.org/2000/01/rdf-schema#label> \"x\" ."
    for method in ("PUT", "POST", "DELETE"):
        resp = client.open("/graph-store", method=method, data=body,
                           query_string={"graph": HOLCIM_GRAPH}, content_type="text/turtle")
        assert resp.status_code == 401, method
        resp = client.open("/graph-store", method=method, data=body,
                           query_string={"graph": HOLCIM_GRAPH}, content_type="text/turtle",
                           headers={"Authorization": f"Bearer {tokens['reader']}"})
        assert resp.status_code == 403, method
    resp = client.put("/graph-store", data=body, query_string={"default": ""},
                      content_type="text/turtle",
                      headers={"Authorization": f"Bearer {tokens['editor']}"})
    assert resp.status_code == 405 and "GET" in resp.headers["Allow"]


def test_graph_store_put_by_an_editor(fresh_client: FlaskClient, fresh_tokens) -> None:
    graph = "https://w3id.org/ckm/id/case/old-mutual"
    before = fresh_client.get("/graph-store", query_string={"graph": graph},
                              headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=before.get_data(), format="turtle")
    om = rdflib.URIRef("https://w3id.org/ckm/id/company/old-mutual")
    g.add((om, rdflib.namespace.SKOS.altLabel, rdflib.Literal("Old Mutual plc")))
    resp = fresh_client.put("/graph-store", query_string={"graph": graph},
                            data=g.serialize(format="turtle"), content_type="text/turtle",
                            headers={"Authorization": f"Bearer {fresh_tokens['editor']}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    ask = 'ASK { ?c skos:altLabel "Old Mutual plc" }'
    assert fresh_client.get("/sparql", query_string={"query": ask}).get_json()["boolean"]


def test_openapi_paths_exported() -> None:
    from kg_service.web.sparql import OPENAPI_PATHS

    assert {"/sparql", "/queries", "/queries/{name}"} <= set(OPENAPI_PATHS)
    assert json.dumps(OPENAPI_PATHS)
