"""The REST editing API over HTTP: JSON in, validated changes out, history, concurrency."""

from __future__ import annotations

import threading

import requests
from rdflib import RDFS, Literal, URIRef

from kg_service.namespaces import CKM, ONTOLOGY_GRAPH

HOLCIM = "https://w3id.org/ckm/id/company/holcim"
HOLCIM_CASE = "https://w3id.org/ckm/id/case/holcim-hbk"


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def paper_of(store, thing: str) -> str:
    return str(store.select("SELECT * WHERE { ?c dcterms:source ?p } LIMIT 1",
                            c=URIRef(thing))[0]["p"])


def test_class_created_changed_listed_and_reverted(fresh_client, fresh_tokens, fresh_app) -> None:
    store = fresh_app.extensions["kg"]
    h = auth(fresh_tokens["editor"], **{"X-Change-Message": "a class for journeys"})
    r = fresh_client.post("/api/v1/classes", headers=h, json={
        "name": "CustomerJourney", "label": "customer journey",
        "definition": "The path a customer takes.", "parents": ["ckm:CustomerKnowledge"]})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["iri"] == str(CKM.CustomerJourney)
    assert body["change"]["author"] == "test-editor"
    assert body["change"]["message"] == "a class for journeys"
    assert r.headers["ETag"].strip('"') == body["change"]["revision"]
    assert store.ask("ASK { GRAPH ?g { ckm:CustomerJourney rdfs:subClassOf "
                     "ckm:CustomerKnowledge } }", g=URIRef(ONTOLOGY_GRAPH))
    # change the label, with the revision as If-Match
    r2 = fresh_client.put("/api/v1/classes/CustomerJourney", json={
        "label": "customer journey (CJ)", "message": "clearer label"},
        headers=auth(fresh_tokens["editor"], **{"If-Match": r.headers["ETag"]}))
    assert r2.status_code == 200, r2.get_json()
    assert r2.get_json()["change"]["removed"] == 1 and r2.get_json()["change"]["added"] == 1
    # history, newest first
    listing = fresh_client.get("/api/v1/changes?limit=1")
    page = listing.get_json()
    assert page["total"] == 2 and [c["message"] for c in page["items"]] == ["clearer label"]
    assert 'rel="next"' in listing.headers["Link"]
    one = fresh_client.get(f"/api/v1/changes/{body['change']['id']}").get_json()
    assert {"s": CKM.CustomerJourney.n3(), "p": RDFS.label.n3(),
            "o": Literal("customer journey", lang="en").n3(),
            "g": ONTOLOGY_GRAPH} in one["triples"]["added"]
    diff = fresh_client.get(f"/api/v1/diff?from={body['change']['id']}").get_json()
    assert len(diff["added"]) == 1 and len(diff["removed"]) == 1
    old = fresh_client.get(f"/api/v1/revisions/{body['change']['id']}/graph?format=ntriples")
    assert b'"customer journey"@en' in old.data and b"(CJ)" not in old.data
    # a stale If-Match is 412 and says what changed
    stale = fresh_client.put("/api/v1/classes/CustomerJourney", json={"label": "x"},
                             headers=auth(fresh_tokens["editor"],
                                          **{"If-Match": r.headers["ETag"]}))
    assert stale.status_code == 412
    assert stale.get_json()["changed_since"] == [r2.get_json()["change"]["id"]]
    # revert the label change
    rv = fresh_client.post(f"/api/v1/changes/{r2.get_json()['change']['id']}/revert",
                           headers=auth(fresh_tokens["editor"]))
    assert rv.status_code == 201, rv.get_json()
    assert store.ask("ASK { ckm:CustomerJourney rdfs:label \"customer journey\"@en }")


def test_disjointness_refused_with_reason(fresh_client, fresh_tokens, fresh_app) -> None:
    store = fresh_app.extensions["kg"]
    before = len(store)
    r = fresh_client.post("/api/v1/classes", headers=auth(fresh_tokens["editor"]), json={
        "name": "Chimera", "label": "chimera",
        "parents": ["ckm:KnowledgeAboutCustomer", "ckm:KnowledgeFromCustomer"]})
    assert r.status_code == 422
    problem = r.get_json()
    assert r.mimetype == "application/problem+json"
    assert problem["unsatisfiable"] == [str(CKM.Chimera)]
    assert len(store) == before
    assert fresh_client.get("/api/v1/changes").get_json()["total"] == 0


def test_company_and_practice(fresh_client, fresh_tokens, fresh_app) -> None:
    store = fresh_app.extensions["kg"]
    paper = paper_of(store, HOLCIM)
    h = auth(fresh_tokens["editor"])
    r = fresh_client.post("/api/v1/companies", headers=h, json={
        "id": "acme", "label": "Acme", "case": "holcim-hbk",
        "values": {"dcterms:source": paper}})
    assert r.status_code == 201, r.get_json()
    acme = "https://w3id.org/ckm/id/company/acme"
    assert store.ask("ASK { GRAPH ?g { ?g ckm:aboutCompany ?c . ?c a ckm:Company } }",
                     g=URIRef(HOLCIM_CASE), c=URIRef(acme))
    # without a source, SHACL refuses and names the node
    bad = fresh_client.post("/api/v1/companies", headers=h, json={
        "id": "nosource", "label": "No source", "case": "holcim-hbk"})
    assert bad.status_code == 422
    assert any(v["focus"].endswith("/company/nosource") for v in bad.get_json()["violations"])
    u = fresh_client.put("/api/v1/companies/acme", headers=h, json={
        "values": {"rdfs:comment": ["makes everything", "since 1949"]}})
    assert u.status_code == 200 and u.get_json()["change"]["added"] == 2
    d = fresh_client.delete("/api/v1/companies/acme", headers=h)
    assert d.status_code == 200, d.get_json()
    assert not store.ask("ASK { { ?c ?p ?o } UNION { ?x ?p ?c } }", c=URIRef(acme))


def test_openapi_lists_editing_paths(client) -> None:
    doc = client.get("/api/openapi.json").get_json()
    for path in ("/api/v1/classes", "/api/v1/changes", "/api/v1/changes/{id}/revert",
                 "/api/v1/diff", "/api/v1/import", "/api/v1/revisions/{revision}/graph"):
        assert path in doc["paths"], path
    assert "post" in doc["paths"]["/api/v1/companies"]


def test_two_editors_concurrently_nothing_lost(fresh_live_server, fresh_tokens,
                                               fresh_app) -> None:
    """Two editors add comments at the same time; 412s are retried; every edit survives."""
    store = fresh_app.extensions["kg"]
    url = fresh_live_server.url
    errors: list[str] = []

    def editor(name: str) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {fresh_tokens['editor']}"
        for i in range(3):
            for _attempt in range(20):
                rev = session.get(f"{url}/api/v1/changes?limit=1").json()["revision"]
                mine = [str(r["c"]) for r in store.select(
                    "SELECT * WHERE { ?s rdfs:comment ?c }", s=URIRef(HOLCIM))]
                r = session.put(f"{url}/api/v1/companies/holcim", headers={
                    "If-Match": f'"{rev}"', "X-Change-Message": f"{name} {i}"},
                    json={"values": {"rdfs:comment": [*mine, f"{name}-{i}"]}})
                if r.status_code == 412:
                    continue
                if r.status_code != 200:
                    errors.append(r.text)
                break

    threads = [threading.Thread(target=editor, args=(n,)) for n in ("ann", "ben")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    comments = {str(r["c"]) for r in store.select("SELECT * WHERE { ?s rdfs:comment ?c }",
                                                  s=URIRef(HOLCIM))}
    assert {f"{n}-{i}" for n in ("ann", "ben") for i in range(3)} <= comments
    assert requests.get(f"{url}/api/v1/changes").json()["total"] == 6
