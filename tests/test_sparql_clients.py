"""Real clients against a real server on a loopback port: SPARQLWrapper (JSON, XML, CSV,
CONSTRUCT), rdflib's SPARQLStore, pandas, curl-like requests; and a long query does not
block short ones.
"""

from __future__ import annotations

import io
import threading
import time

import pandas as pd
import pytest
import rdflib
import requests
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

CKM = "https://w3id.org/ckm/ontology#"
STYLES = ("PREFIX ckm: <https://w3id.org/ckm/ontology#> "
          "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
          "SELECT ?s ?label WHERE { ?s a ckm:CKMStyle ; rdfs:label ?label } ORDER BY ?label")
LABELS = ["Communities of creation", "Joint intellectual property", "Mutual innovation",
          "Prosumerism", "Team-based co-learning"]
CONSTRUCT = ("PREFIX ckm: <https://w3id.org/ckm/ontology#> "
             "CONSTRUCT WHERE { ?s a ckm:CKMStyle ; ckm:knowledgeForm ?f }")


def wrapper(url: str, query: str, fmt: str, method: str = "GET") -> SPARQLWrapper:
    sw = SPARQLWrapper(url + "/sparql")
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    sw.setMethod(method)
    return sw


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_json(live_server, method: str) -> None:
    result = wrapper(live_server.url, STYLES, JSON, method).queryAndConvert()
    assert [b["label"]["value"] for b in result["results"]["bindings"]] == LABELS


def test_sparqlwrapper_xml(live_server) -> None:
    doc = wrapper(live_server.url, STYLES, XML).queryAndConvert()
    literals = [n.firstChild.data for n in doc.getElementsByTagName("literal")]
    assert literals == LABELS


def test_sparqlwrapper_csv(live_server) -> None:
    raw = wrapper(live_server.url, STYLES, CSV).queryAndConvert()
    frame = pd.read_csv(io.BytesIO(raw))
    assert list(frame["label"]) == LABELS


@pytest.mark.parametrize("fmt", [XML, TURTLE, JSON])
def test_sparqlwrapper_construct(live_server, fmt: str) -> None:
    out = wrapper(live_server.url, CONSTRUCT, fmt).query()
    assert out.response.headers["Content-Type"].split(";")[0] in (
        "application/rdf+xml", "text/turtle", "application/ld+json")
    converted = out.convert()
    g = converted if isinstance(converted, rdflib.Graph) else rdflib.Graph().parse(
        data=converted, format="turtle" if fmt == TURTLE else "json-ld")
    forms = {(str(s).split("#")[1], str(o).split("#")[1])
             for s, o in g.subject_objects(rdflib.URIRef(CKM + "knowledgeForm"))}
    # Table 3, 'Type of knowledge'
    assert forms == {("Prosumerism", "Explicit"), ("TeamBasedCoLearning", "Explicit"),
                     ("TeamBasedCoLearning", "Tacit"), ("MutualInnovation", "Tacit"),
                     ("CommunitiesOfCreation", "Tacit"), ("JointIntellectualProperty", "Explicit")}


def test_sparqlwrapper_ask_and_error(live_server) -> None:
    ok = wrapper(live_server.url, "ASK { ?s a <https://w3id.org/ckm/ontology#CKMStyle> }", JSON)
    assert ok.queryAndConvert()["boolean"] is True
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    with pytest.raises(QueryBadFormed):
        wrapper(live_server.url, "SELECT * WHERE { ?s ?p }", JSON).queryAndConvert()


def test_rdflib_sparqlstore(live_server) -> None:
    store = SPARQLStore(live_server.url + "/sparql")
    g = rdflib.Graph(store=store)
    rows = list(g.query(STYLES))
    assert [str(r.label) for r in rows] == LABELS
    assert all(isinstance(r.s, rdflib.URIRef) for r in rows)
    constructed = g.query(CONSTRUCT).graph
    assert len(constructed) == 11
    holcim = rdflib.URIRef("https://w3id.org/ckm/id/company/holcim")
    assert (holcim, rdflib.RDFS.label, rdflib.Literal("Holcim")) in g


def test_pandas_from_json_and_saved_csv(live_server) -> None:
    resp = requests.get(live_server.url + "/sparql", params={"query": STYLES},
                        headers={"Accept": "application/sparql-results+json"}, timeout=10)
    bindings = resp.json()["results"]["bindings"]
    frame = pd.DataFrame([{k: v["value"] for k, v in b.items()} for b in bindings])
    assert list(frame["label"]) == LABELS
    saved = pd.read_csv(live_server.url + "/queries/style-company-counts?format=csv")
    assert dict(zip(saved["style"], saved["certain"], strict=True))["Communities of creation"] == 5


def test_headers_over_the_wire(live_server) -> None:
    resp = requests.post(live_server.url + "/sparql", data=STYLES.encode(),
                         headers={"Content-Type": "application/sparql-query",
                                  "Accept": "text/csv", "Origin": "https://lab.example"},
                         timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["KG-Result-Count"] == "5"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    big = requests.post(live_server.url + "/sparql", data=b"ASK {}" + b" " * 1_100_000,
                        headers={"Content-Type": "application/sparql-query",
                                 "Accept": "application/json"}, timeout=10)
    assert big.status_code == 413 and big.json()["status"] == 413


def test_a_long_query_does_not_block_short_ones(live_server) -> None:
    heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    outcome: dict[str, object] = {}

    def run_heavy() -> None:
        started = time.monotonic()
        r = requests.get(live_server.url + "/sparql", params={"query": heavy, "timeout": "5"},
                         headers={"Accept": "application/json"}, timeout=30)
        outcome["status"], outcome["took"] = r.status_code, time.monotonic() - started

    thread = threading.Thread(target=run_heavy)
    thread.start()
    time.sleep(0.5)
    times = []
    for _ in range(3):
        started = time.monotonic()
        r = requests.get(live_server.url + "/sparql", params={"query": STYLES}, timeout=10)
        times.append(time.monotonic() - started)
        assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 5
    heavy_still_running = thread.is_alive()
    thread.join()
    # the short queries were answered while the heavy one still ran (the first may wait
    # for the pool to start its second query process)
    assert heavy_still_running, times
    assert times[0] < 5 and max(times[1:]) < 1.0, times
    assert outcome["status"] == 503 and 4.5 < outcome["took"] < 8
