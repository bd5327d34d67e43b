"""The W3C SPARQL 1.1 Protocol test suite (w3c/rdf-tests, sparql/sparql11/protocol/
manifest.ttl), run against /sparql/ through the Flask test client.

Every query and "bad_*" case of the manifest is here with its request (path, method,
Content-Type, body) as written there. The suite's data files are not in the manifest: the
graphs ``http://kasei.us/2009/09/sparql/data/dataN.rdf`` are rebuilt from what its queries
ask (each holds ``<dataN.rdf> a foaf:Document``), in a fresh store next to the CKM data.
``query_multiple_dataset`` percent-encodes its second ``named-graph-uri`` into the first
one's value (``%26named-graph-uri%3D``), which makes one odd graph name; it is run as
written (a 2xx) and, for its answer, with the two parameters it means.

Update cases: the manifest's updates (CLEAR ALL, DROP ALL...) would wipe the graph, and
updates here are editors' changesets; the protocol parts are checked (update by GET refused,
bad media types, 401 without a token, the using-graph-uri/WITH conflict), and a real
update/query round trip with the base-IRI case uses an editor's token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from conftest import copy_loaded, make_settings, opened_app
from flask import Flask
from flask.testing import FlaskClient

K = "http%3A%2F%2Fkasei.us%2F2009%2F09%2Fsparql%2Fdata%2F"
KASEI = "http://kasei.us/2009/09/sparql/data/"
FOAF_DOC = rdflib.URIRef("http://xmlns.com/foaf/0.1/Document")
BOOLEAN = {"application/sparql-results+xml", "application/sparql-results+json"}
TABULAR = BOOLEAN | {"text/csv", "text/tab-separated-values"}
RDF = {"application/rdf+xml", "text/turtle", "application/n-triples", "application/ld+json"}
FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


@pytest.fixture(scope="module")
def w3c(loaded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    settings = make_settings(copy_loaded(loaded_template, tmp_path_factory.mktemp("w3c") / "data"))
    with opened_app(settings) as app:
        graphs = {}
        for n in (1, 2, 3):
            g = rdflib.Graph()
            g.add((rdflib.URIRef(f"{KASEI}data{n}.rdf"), rdflib.RDF.type, FOAF_DOC))
            graphs[f"{KASEI}data{n}.rdf"] = g
        app.extensions["kg"].replace_graphs(graphs)
        yield app


@pytest.fixture
def c(w3c: Flask) -> FlaskClient:
    return w3c.test_client()


ASK_12 = f"ASK {{ <{KASEI}data1.rdf> a ?type . <{KASEI}data2.rdf> a ?type . }}"
ASK_G12 = (f"ASK {{ GRAPH ?g1 {{ <{KASEI}data1.rdf> a ?type }} "
           f"GRAPH ?g2 {{ <{KASEI}data2.rdf> a ?type }} }}")
ASK_FULL = (f"ASK {{\n  <{KASEI}data3.rdf> a ?type\n  GRAPH ?g1 {{ <{KASEI}data1.rdf> a ?type }}\n"
            f"  GRAPH ?g2 {{ <{KASEI}data2.rdf> a ?type }}\n}}")
ASK_MULTI = (f"ASK FROM <{KASEI}data3.rdf> {{ GRAPH ?g1 {{ <{KASEI}data1.rdf> a ?type }} "
             f"GRAPH ?g2 {{ <{KASEI}data2.rdf> a ?type }} }}")
ENC_12 = ("ASK%20%7B%20%3Chttp%3A%2F%2Fkasei.us%2F2009%2F09%2Fsparql%2Fdata%2Fdata1.rdf%3E"
          "%20a%20%3Ftype%20.%20%3Chttp%3A%2F%2Fkasei.us%2F2009%2F09%2Fsparql%2Fdata%2F"
          "data2.rdf%3E%20a%20%3Ftype%20.%20%7D")
ENC_G12 = ("ASK%20%7B%20GRAPH%20%3Fg1%20%7B%20%3Chttp%3A%2F%2Fkasei.us%2F2009%2F09%2Fsparql"
           "%2Fdata%2Fdata1.rdf%3E%20a%20%3Ftype%20%7D%20GRAPH%20%3Fg2%20%7B%20%3Chttp%3A%2F"
           "%2Fkasei.us%2F2009%2F09%2Fsparql%2Fdata%2Fdata2.rdf%3E%20a%20%3Ftype%20%7D%20%7D")

# name, method, path, content type, body, expected format (or None), expected boolean
QUERY_CASES = [
    ("query_post_form", "POST", f"/sparql/?default-graph-uri={K}data0.rdf", FORM,
     "query=ASK%20%7B%7D", BOOLEAN, True),
    ("query_dataset_default_graphs_get", "GET",
     f"/sparql/?query={ENC_12}&default-graph-uri={K}data1.rdf&default-graph-uri={K}data2.rdf",
     None, None, BOOLEAN, True),
    ("query_dataset_default_graphs_post", "POST",
     f"/sparql/?default-graph-uri={K}data1.rdf&default-graph-uri={K}data2.rdf", QUERY, ASK_12,
     BOOLEAN, True),
    ("query_dataset_named_graphs_post", "POST",
     f"/sparql/?named-graph-uri={K}data1.rdf&named-graph-uri={K}data2.rdf", QUERY, ASK_G12,
     BOOLEAN, True),
    ("query_dataset_named_graphs_get", "GET",
     f"/sparql/?query={ENC_G12}&named-graph-uri={K}data1.rdf&named-graph-uri={K}data2.rdf",
     None, None, BOOLEAN, True),
    ("query_dataset_full", "POST",
     f"/sparql/?default-graph-uri={K}data3.rdf&named-graph-uri={K}data1.rdf"
     f"&named-graph-uri={K}data2.rdf", QUERY, ASK_FULL, BOOLEAN, True),
    ("query_multiple_dataset (as written)", "POST",
     f"/sparql/?named-graph-uri={K}data1.rdf%26named-graph-uri%3D{K}data2.rdf", QUERY,
     ASK_MULTI, BOOLEAN, None),
    ("query_multiple_dataset (as meant)", "POST",
     f"/sparql/?named-graph-uri={K}data1.rdf&named-graph-uri={K}data2.rdf", QUERY,
     ASK_MULTI, BOOLEAN, True),
    ("query_get", "GET", f"/sparql/?query=ASK%20%7B%7D&default-graph-uri={K}data0.rdf", None,
     None, BOOLEAN, True),
    ("query_content_type_select", "POST", f"/sparql/?default-graph-uri={K}data0.rdf", QUERY,
     "SELECT (1 AS ?value) {}", TABULAR, None),
    ("query_content_type_ask", "POST", f"/sparql/?default-graph-uri={K}data0.rdf", QUERY,
     "ASK {}", BOOLEAN, None),
    ("query_content_type_describe", "POST", f"/sparql/?default-graph-uri={K}data0.rdf", QUERY,
     "DESCRIBE <http://example.org/>", RDF, None),
    ("query_content_type_construct", "POST", f"/sparql/?default-graph-uri={K}data0.rdf",
     QUERY, "CONSTRUCT { <s> <p> 1 } WHERE {}", RDF, None),
    ("query_post_direct", "POST", "/sparql/", QUERY, "ASK {}", BOOLEAN, True),
]


@pytest.mark.parametrize("name,method,path,ctype,body,formats,boolean", QUERY_CASES,
                         ids=[case[0] for case in QUERY_CASES])
def test_query_cases(c: FlaskClient, name, method, path, ctype, body, formats,
                     boolean) -> None:
    kwargs = {} if body is None else {"data": body.encode(), "content_type": ctype}
    resp = c.open(path, method=method, **kwargs)
    assert 200 <= resp.status_code < 400, resp.get_data(as_text=True)
    assert resp.mimetype in formats
    if boolean is not None:
        assert resp.get_json()["boolean"] is boolean
    if name == "query_content_type_select":
        assert resp.get_json()["results"]["bindings"][0]["value"]["value"] == "1"


BAD_CASES = [
    ("bad_query_method", "PUT", f"/sparql/?query=ASK%20%7B%7D&default-graph-uri={K}data0.rdf",
     FORM, ""),
    ("bad_multiple_queries", "GET", "/sparql/?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D",
     None, None),
    ("bad_query_wrong_media_type", "POST", "/sparql/", "text/plain", "ASK {}"),
    ("bad_query_missing_form_type", "POST", "/sparql/", None, "query=ASK%20%7B%7D"),
    ("bad_query_missing_direct_type", "POST", "/sparql/", None, "ASK {}"),
    ("bad_query_non_utf8", "POST", "/sparql/", "application/sparql-query; charset=UTF-16",
     "ASK {}".encode("utf-16")),
    ("bad_query_syntax", "GET", "/sparql/?query=ASK%20%7B", None, None),
    ("bad_update_get", "GET", "/sparql/?update=CLEAR%20ALL", None, None),
    ("bad_multiple_updates", "POST", "/sparql/", FORM,
     "update=CLEAR%20NAMED&update=CLEAR%20DEFAULT"),
    ("bad_update_wrong_media_type", "POST", "/sparql/", "text/plain", "CLEAR NAMED"),
    ("bad_update_missing_form_type", "POST", "/sparql/", None, "update=CLEAR%20NAMED"),
    ("bad_update_non_utf8", "POST", "/sparql/", "application/sparql-update; charset=UTF-16",
     "CLEAR NAMED".encode("utf-16")),
]


@pytest.mark.parametrize("name,method,path,ctype,body", BAD_CASES,
                         ids=[case[0] for case in BAD_CASES])
def test_bad_cases(c: FlaskClient, name, method, path, ctype, body) -> None:
    kwargs = {}
    if body is not None:
        kwargs["data"] = body if isinstance(body, bytes) else body.encode()
        if ctype:
            kwargs["content_type"] = ctype
    resp = c.open(path, method=method, headers={"Accept": "application/json"}, **kwargs)
    assert 400 <= resp.status_code < 500
    assert resp.get_json()["status"] == resp.status_code


def test_bad_update_syntax_and_dataset_conflict(c: FlaskClient, w3c: Flask) -> None:
    token = w3c.extensions["kg_tokens"].create("w3c-editor", "editor")
    auth = {"Authorization": f"Bearer {token}"}
    resp = c.post("/sparql/", data="update=CLEAR%20XYZ", content_type=FORM, headers=auth)
    assert resp.status_code == 400
    conflict = ("PREFIX foaf:  <http://xmlns.com/foaf/0.1/>\nWITH <http://example/addresses>\n"
                "DELETE { ?person foaf:givenName 'Bill' }\nINSERT { ?person foaf:givenName "
                "'William' }\nWHERE {\n    ?person foaf:givenName 'Bill'\n}")
    resp = c.post("/sparql/?using-named-graph-uri=http%3A%2F%2Fexample%2Fpeople",
                  data=conflict, content_type=UPDATE, headers=auth)
    assert resp.status_code == 400 and "conflict" in resp.get_json()["detail"]


@pytest.mark.parametrize("ctype,body", [(FORM, "update=CLEAR+ALL"), (UPDATE, "CLEAR ALL")])
def test_update_post_form_and_direct_need_a_token(c: FlaskClient, ctype: str,
                                                  body: str) -> None:
    resp = c.post("/sparql/", data=body, content_type=ctype)
    assert resp.status_code == 401
    ask = c.post("/sparql/", data=f"ASK {{ <{KASEI}data1.rdf> a ?t }}", content_type=QUERY)
    assert ask.get_json()["boolean"] is True  # nothing was cleared


def test_update_base_uri(c: FlaskClient, w3c: Flask) -> None:
    # update_base_uri: a relative IRI resolves against a service-defined base
    token = w3c.extensions["kg_tokens"].create("w3c-base", "editor")
    update = ("CLEAR GRAPH <http://example.org/protocol-base-test/> ;\n"
              "INSERT DATA { GRAPH <http://example.org/protocol-base-test/> { "
              "<http://example.org/s> <http://example.org/p> <test> } }")
    resp = c.post("/sparql/", data=update, content_type=UPDATE,
                  headers={"Authorization": f"Bearer {token}"})
    assert 200 <= resp.status_code < 400, resp.get_data(as_text=True)
    q = ("SELECT ?o WHERE {\n    GRAPH <http://example.org/protocol-base-test/> {\n"
         "        <http://example.org/s> <http://example.org/p> ?o\n    }\n}")
    rows = c.post("/sparql/", data=q, content_type=QUERY).get_json()["results"]["bindings"]
    assert len(rows) == 1 and rows[0]["o"]["type"] == "uri" and rows[0]["o"]["value"] != "test"
