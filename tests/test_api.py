"""The JSON API: collections, paging with Link headers, filters, items, the JSON-LD
context (the JSON is RDF), caching, and schemathesis against /api/openapi.json."""

from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from kg_service.namespaces import CKM, ID
from kg_service.openapi import openapi_document

STYLES = {"Prosumerism", "TeamBasedCoLearning", "MutualInnovation", "CommunitiesOfCreation",
          "JointIntellectualProperty"}


def ids(resp) -> list[str]:
    return [i["id"] for i in resp.json["items"]]


def test_collections_hold_the_contract_terms(client):
    assert set(ids(client.get("/api/v1/styles"))) == STYLES
    assert set(ids(client.get("/api/v1/knowledge-types"))) == {
        "KnowledgeAboutCustomer", "KnowledgeFromCustomer", "KnowledgeForCustomer"}
    assert set(ids(client.get("/api/v1/business-model-elements"))) == {
        "ValueCreation", "ValueDelivery", "ValueCapture", "ResourcesAndCompetences",
        "Organisation", "ValueProposition"}
    classes = client.get("/api/v1/classes?limit=500").json
    assert {"CustomerKnowledge", "CKMStyle", "Company", "CaseStudy", "CKMPractice"} <= {
        i["id"] for i in classes["items"]}
    props = client.get("/api/v1/properties?limit=500").json
    assert {"practicedBy", "exhibitsStyle", "appliesStyle", "supportsElement"} <= {
        i["id"] for i in props["items"]}
    cases = client.get("/api/v1/cases").json
    assert cases["total"] == 9 and "holcim-hbk" in {i["id"] for i in cases["items"]}


def test_paging_follows_link_next_through_every_company(client, app):
    expected = {str(r["c"]) for r in app.extensions["kg"].select(
        "SELECT DISTINCT ?c WHERE { ?c a ckm:Company }")}
    seen: list[str] = []
    url = "/api/v1/companies?limit=5"
    pages = 0
    while url:
        resp = client.get(url)
        assert resp.status_code == 200
        body = resp.json
        assert body["total"] == len(expected) and len(body["items"]) <= 5
        seen += [i["iri"] for i in body["items"]]
        links = resp.headers.getlist("Link")
        if pages:
            assert any('rel="prev"' in link for link in links) and "prev" in body
        nxt = [link for link in links if link.endswith('rel="next"')]
        assert bool(nxt) == ("next" in body)
        url = nxt[0].split(">")[0].lstrip("<").replace("http://localhost", "") if nxt else ""
        pages += 1
    assert pages == -(-len(expected) // 5)
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_filters(fresh_client, fresh_app):
    prosumers = fresh_client.get("/api/v1/companies?style=Prosumerism").json
    assert {"ikea", "quicken", "bosch"} <= {i["id"] for i in prosumers["items"]}
    for company in prosumers["items"]:
        assert "Prosumerism" in {s["id"] for s in company["appliesStyle"]}
    holcim = fresh_client.get("/api/v1/practices?company=holcim&limit=100").json
    assert holcim["total"] == 11
    assert all(p["practicedBy"]["id"] == "holcim" for p in holcim["items"])
    by_iri = fresh_client.get("/api/v1/practices", query_string={
        "company": str(ID["company/holcim"]), "style": "CommunitiesOfCreation"}).json
    assert by_iri["total"] >= 1
    assert all("CommunitiesOfCreation" in {s["id"] for s in p["exhibitsStyle"]}
               for p in by_iri["items"])
    assert fresh_client.get("/api/v1/practices?element=ValueCreation").json["total"] == 0
    store = fresh_app.extensions["kg"]
    store.apply([], [(ID["practice/holcim-purchasing"], CKM.supportsElement, CKM.ValueCreation,
                      str(ID["case/holcim-hbk"]))])
    supporting = fresh_client.get("/api/v1/practices?element=ValueCreation").json
    assert [p["id"] for p in supporting["items"]] == ["holcim-purchasing"]
    element = fresh_client.get("/api/v1/business-model-elements/ValueCreation").json
    assert [p["id"] for p in element["supportedBy"]] == ["holcim-purchasing"]


def test_item_by_id(client):
    resp = client.get("/api/v1/companies/holcim")
    assert resp.status_code == 200
    holcim = resp.json
    assert holcim["iri"] == str(ID["company/holcim"]) and holcim["label"] == "Holcim"
    assert {"CommunitiesOfCreation", "TeamBasedCoLearning"} <= {
        s["id"] for s in holcim["appliesStyle"]}
    assert "holcim-purchasing" in {p["id"] for p in holcim["practices"]}
    assert holcim["source"][0]["id"] == "gibbert-2002"
    style = client.get("/api/v1/styles/Prosumerism").json
    assert style["focus"] == "Developing tangible assets and benefits"
    assert [i["id"] for i in style["interactionIntensity"]] == ["LowIntensity"]
    practice = client.get("/api/v1/practices/holcim-purchasing").json
    assert practice["case"]["id"] == "holcim-hbk" and practice["uncertainReading"] is True


def test_errors_are_problem_documents(client):
    for url, status in (("/api/v1/companies/nope", 404), ("/api/v1/companies?limit=0", 400),
                        ("/api/v1/companies?limit=x", 400), ("/api/v1/companies?offset=-1", 400),
                        ("/api/v1/companies?limit=100000", 400),
                        ("/api/v1/companies?colour=red", 400), ("/api/v1/nothing", 404)):
        resp = client.get(url)
        assert resp.status_code == status, url
        assert resp.mimetype == "application/problem+json" and resp.json["status"] == status


def test_the_json_is_rdf_through_its_context(client):
    context = client.get("/api/v1/context.jsonld").json
    body = client.get("/api/v1/companies?style=Prosumerism").json
    assert body["@context"] == "http://localhost/api/v1/context.jsonld"
    body["@context"] = context["@context"]
    g = Graph().parse(data=json.dumps(body), format="json-ld")
    ikea = ID["company/ikea"]
    assert (ikea, CKM.appliesStyle, CKM.Prosumerism) in g
    assert (ikea, RDFS.label, Literal("IKEA")) in g
    assert (ID["practice/ikea-co-production"], CKM.practicedBy, ikea) in g  # @reverse
    assert (ikea, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), CKM.Company) in g
    ld = client.get("/api/v1/companies/ikea", headers={"Accept": "application/ld+json"})
    assert ld.mimetype == "application/ld+json"
    plain = client.get("/api/v1/companies/ikea")
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in plain.headers["Link"]


def test_a_live_client_reads_the_json_as_rdf(live_server):
    url = live_server.url + "/api/v1/practices/holcim-purchasing"
    assert requests.get(url, timeout=10).json()["practicedBy"]["id"] == "holcim"
    g = Graph().parse(url, format="json-ld")  # fetches the context by its URL
    assert (ID["practice/holcim-purchasing"], CKM.practicedBy, ID["company/holcim"]) in g


def test_etag_and_304(client):
    first = client.get("/api/v1/styles")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/api/v1/styles", headers={"If-None-Match": first.headers["ETag"]}
                      ).status_code == 304
    assert client.get("/api/v1/styles?limit=2", headers={
        "If-None-Match": first.headers["ETag"]}).status_code == 200


def test_openapi_document_is_valid_and_names_every_collection(client):
    doc = client.get("/api/openapi.json").json
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    for name in ("styles", "companies", "cases", "practices", "classes", "properties",
                 "knowledge-types", "business-model-elements"):
        assert f"/api/v1/{name}" in doc["paths"] and f"/api/v1/{name}/{{id}}" in doc["paths"]
    params = {p["name"] for p in doc["paths"]["/api/v1/practices"]["get"]["parameters"]}
    assert {"limit", "offset", "company", "style", "element"} <= params
    assert "/id/{kind}/{slug}" in doc["paths"] and "/.well-known/void" in doc["paths"]


@pytest.fixture(scope="session")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


# This surface's paths only (the document also holds the SPARQL and editing surfaces').
schema = schemathesis.pytest.from_fixture("api_schema").include(
    path=list(openapi_document(max_page=500)["paths"]), method="GET")


@schema.parametrize()
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_schemathesis_over_the_openapi_document(case):
    case.call_and_validate()
