"""Linked data: every IRI under the base answers with HTML or RDF, described with its
incoming links and labels; the ontology documents itself; VoID; caching; escaping."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from kg_service.namespaces import CKM, ID, ONTOLOGY_IRI, ORG, SD, VOID

HOLCIM = ID["company/holcim"]
PURCHASING = ID["practice/holcim-purchasing"]
CASE = ID["case/holcim-hbk"]
FORMATS = {  # name: (media type, suffix, rdflib parser)
    "turtle": ("text/turtle", ".ttl", "turtle"),
    "jsonld": ("application/ld+json", ".jsonld", "json-ld"),
    "rdfxml": ("application/rdf+xml", ".rdf", "xml"),
    "ntriples": ("application/n-triples", ".nt", "nt"),
}

# What a client fetches for each kind of IRI (hash IRIs: the document without the
# fragment), a triple the answer must hold, and text its HTML page must show.
TARGETS = {
    "ontology": ("/ontology", (URIRef(ONTOLOGY_IRI), RDF.type, OWL.Ontology),
                 "Customer Knowledge Management (CKM) ontology"),
    "class": ("/ontology", (CKM.Company, RDFS.subClassOf, ORG.Organization), 'id="Company"'),
    "style": ("/ontology", (CKM.Prosumerism, CKM.focus,
                            Literal("Developing tangible assets and benefits")),
              'id="Prosumerism"'),
    "company": ("/id/company/holcim", (PURCHASING, CKM.practicedBy, HOLCIM), "Holcim"),
    "case": ("/id/case/holcim-hbk", (CASE, CKM.aboutCompany, HOLCIM),
             "How the international cement manufacturer Holcim manages customer knowledge"),
}


def parse(body: bytes, fmt: str) -> Graph:
    return Graph().parse(data=body, format=FORMATS[fmt][2])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_content_negotiation_by_accept_and_by_suffix(client, target, fmt):
    path, triple, _ = TARGETS[target]
    media, suffix, _ = FORMATS[fmt]
    by_accept = client.get(path, headers={"Accept": media})
    assert by_accept.status_code == 200
    assert by_accept.mimetype == media
    assert by_accept.headers["Vary"] == "Accept"
    assert triple in parse(by_accept.data, fmt)
    by_suffix = client.get(path + suffix, headers={"Accept": "text/html"})
    assert by_suffix.status_code == 200 and by_suffix.mimetype == media
    assert triple in parse(by_suffix.data, fmt)
    by_param = client.get(f"{path}?format={fmt}")
    assert by_param.mimetype == media


@pytest.mark.parametrize("target", TARGETS)
def test_browsers_get_html(client, target):
    path, _, text = TARGETS[target]
    resp = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,"
                                               "application/xml;q=0.9,*/*;q=0.8"})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert text in resp.get_data(as_text=True)
    assert client.get(path + ".html").mimetype == "text/html"


def test_no_accept_header_gets_turtle_and_links_to_alternates(client):
    resp = client.get("/id/company/holcim")
    assert resp.mimetype == "text/turtle"
    link = resp.headers["Link"]
    assert '</id/company/holcim.jsonld>; rel="alternate"; type="application/ld+json"' in link
    assert f'<{HOLCIM}>; rel="canonical"' in link
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_description_has_incoming_links_labels_and_blank_node_closure(client):
    g = parse(client.get("/id/company/holcim.ttl").data, "turtle")
    assert (HOLCIM, RDFS.label, Literal("Holcim")) in g
    assert (CASE, CKM.aboutCompany, HOLCIM) in g  # incoming
    assert (PURCHASING, RDFS.label, Literal("Purchasing")) in g  # label of what it names
    assert (CKM.CommunitiesOfCreation, RDFS.label,
            Literal("Communities of creation", lang="en")) in g
    # the property chain of ckm:appliesStyle is a list with a blank node inside
    chain = client.get("/describe?iri=" + quote(str(CKM.appliesStyle), safe=""),
                       headers={"Accept": "text/turtle"})
    cg = parse(chain.data, "turtle")
    head = cg.value(CKM.appliesStyle, OWL.propertyChainAxiom)
    first, second = list(cg.items(head))
    assert cg.value(first, OWL.inverseOf) == CKM.practicedBy and second == CKM.exhibitsStyle


def test_company_page_shows_practices_naming_it_with_labels_and_citations(client):
    html = client.get("/id/company/holcim", headers={"Accept": "text/html"}).get_data(
        as_text=True)
    assert '<a href="/id/practice/holcim-purchasing"' in html and ">Purchasing</a>" in html
    assert ">Communities of creation</a>" in html  # a label, not the raw IRI
    assert 'href="/ontology#CommunitiesOfCreation"' in html
    assert "Five styles of customer knowledge management, and how smart companies use them" \
        in html  # the paper's title
    assert "Box 2" in html  # where in the paper


def test_style_description_has_the_companies_that_apply_it(client):
    resp = client.get("/describe?iri=" + quote(str(CKM.Prosumerism), safe=""),
                      headers={"Accept": "application/n-triples"})
    g = parse(resp.data, "ntriples")
    assert (ID["company/ikea"], CKM.appliesStyle, CKM.Prosumerism) in g
    html = client.get("/describe?iri=" + quote(str(CKM.Prosumerism), safe=""),
                      headers={"Accept": "text/html"}).get_data(as_text=True)
    assert ">IKEA</a>" in html


def test_ontology_page_documents_terms_with_definitions_and_sources(client):
    html = client.get("/ontology", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'id="CKMStyle"' in html and "One of the five distinct" in html
    assert 'id="practicedBy"' in html and 'id="appliesStyle"' in html
    assert "Table 3" in html  # source locators
    assert "European Management Journal, 20(5), 459-469" in html  # bibliography
    assert "Developing tangible assets and benefits" in html  # an individual's Table 3 row


def test_version_iri_answers_and_other_versions_do_not(client):
    assert client.get("/ontology/0.1.0", headers={"Accept": "text/turtle"}).status_code == 200
    assert client.get("/ontology/9.9.9", headers={"Accept": "text/turtle"}).status_code == 404


def test_unknown_iri_is_404_problem_or_html(client):
    resp = client.get("/id/company/no-such-company", headers={"Accept": "application/json"})
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    assert resp.json["status"] == 404
    assert resp.json["iri"] == str(ID["company/no-such-company"])
    html = client.get("/id/company/no-such-company", headers={"Accept": "text/html"})
    assert html.status_code == 404 and html.mimetype == "text/html"
    assert "Not found" in html.get_data(as_text=True)
    assert client.get("/describe?iri=urn:x:nothing").status_code == 404
    assert client.get("/id/company/no-such-company.ttl").status_code == 404


def test_unacceptable_media_type_is_406(client):
    resp = client.get("/id/company/holcim", headers={"Accept": "image/png"})
    assert resp.status_code == 406


def test_etag_last_modified_and_304(fresh_client, fresh_app):
    first = fresh_client.get("/id/company/holcim", headers={"Accept": "text/turtle"})
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = fresh_client.get("/id/company/holcim", headers={"Accept": "text/turtle",
                                                             "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    since = fresh_client.get("/id/company/holcim", headers={"Accept": "text/turtle",
                                                             "If-Modified-Since": modified})
    assert since.status_code == 304
    other = fresh_client.get("/id/company/holcim", headers={"Accept": "text/html",
                                                             "If-None-Match": etag})
    assert other.status_code == 200  # another representation has another tag
    store = fresh_app.extensions["kg"]
    store.apply([], [(HOLCIM, CKM.industry, Literal("building materials"), str(CASE))])
    changed = fresh_client.get("/id/company/holcim", headers={"Accept": "text/turtle",
                                                               "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert b"building materials" in changed.data


def test_labels_with_markup_are_shown_as_text(fresh_client, fresh_app):
    evil = ID["company/evil"]
    script = "<script>alert('x')</script>"
    fresh_app.extensions["kg"].apply([], [
        (evil, RDF.type, CKM.Company, str(CASE)),
        (evil, RDFS.label, Literal(script), str(CASE)),
        (evil, CKM.industry, Literal('<img src=x onerror="alert(1)">'), str(CASE)),
        (CASE, CKM.aboutCompany, evil, str(CASE)),
        (CKM.Company, RDFS.comment, Literal("<b>bold</b>"), "https://w3id.org/ckm/ontology"),
    ])
    html = fresh_client.get("/id/company/evil", headers={"Accept": "text/html"}).get_data(
        as_text=True)
    assert script not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    case_html = fresh_client.get("/id/case/holcim-hbk", headers={"Accept": "text/html"})
    assert script not in case_html.get_data(as_text=True)
    onto = fresh_client.get("/ontology.html").get_data(as_text=True)
    assert "<b>bold</b>" not in onto and "&lt;b&gt;bold&lt;/b&gt;" in onto
    g = parse(fresh_client.get("/id/company/evil.ttl").data, "turtle")
    assert (evil, RDFS.label, Literal(script)) in g  # the data itself is kept as it is


def test_void_describes_the_dataset(client, app):
    resp = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert resp.status_code == 200
    g = parse(resp.data, "turtle")
    ds = URIRef("http://localhost/.well-known/void#dataset")
    store = app.extensions["kg"]
    assert (ds, RDF.type, VOID.Dataset) in g
    assert (ds, VOID.sparqlEndpoint, URIRef("http://localhost/sparql")) in g
    assert (ds, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in g
    assert int(g.value(ds, VOID.triples)) == len(store)
    assert int(g.value(ds, VOID.classes)) > 40
    names = {g.value(sub, SD.name) for sub in g.objects(ds, VOID.subset)}
    assert names == {URIRef(n) for n in store.named_graphs()}
    company_parts = [p for p in g.objects(ds, VOID.classPartition)
                     if g.value(p, VOID["class"]) == CKM.Company]
    assert int(g.value(company_parts[0], VOID.entities)) == 24
    as_jsonld = client.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert as_jsonld.mimetype == "application/ld+json" and json.loads(as_jsonld.data)


def test_head_and_cors_on_errors(client):
    head = client.head("/id/company/holcim", headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.headers["ETag"]
    missing = client.get("/id/company/none", headers={"Accept": "application/json"})
    assert missing.headers["Access-Control-Allow-Origin"] == "*"


def test_rdflib_dereferences_and_follows_links_on_a_live_server(live_server):
    def local(iri: URIRef) -> str:
        return str(iri).replace("https://w3id.org/ckm/", live_server.url + "/")

    company = Graph().parse(local(HOLCIM))
    assert (HOLCIM, RDFS.label, Literal("Holcim")) in company
    practices = sorted(company.subjects(CKM.practicedBy, HOLCIM))
    assert PURCHASING in practices
    practice = Graph().parse(local(PURCHASING))  # follow a link found in the answer
    assert (PURCHASING, CKM.exhibitsStyle, CKM.CommunitiesOfCreation) in practice
    style_doc = Graph().parse(local(CKM.CommunitiesOfCreation).split("#")[0])
    assert (CKM.CommunitiesOfCreation, RDF.type, CKM.CKMStyle) in style_doc
    for fmt in ("json-ld", "xml", "turtle"):
        g = Graph().parse(local(CASE), format=fmt)
        assert (CASE, CKM.aboutCompany, HOLCIM) in g


def test_ontology_in_owl_xml_opens_in_an_owl_tool(client, tmp_path) -> None:
    """Protégé reads OWL/XML: the ontology comes as OWL/XML by Accept and by .owx, and
    owlready2 (an OWL tool) loads it back with the contract's classes."""
    import owlready2

    resp = client.get("/ontology", headers={"Accept": "application/owl+xml"})
    assert resp.status_code == 200
    assert resp.mimetype == "application/owl+xml"
    assert b'ontologyIRI="https://w3id.org/ckm/ontology"' in resp.data
    assert client.get("/ontology.owx").data == resp.data
    path = tmp_path / "ckm.owx"
    path.write_bytes(resp.data)
    world = owlready2.World()
    onto = world.get_ontology(f"file://{path}").load()
    names = {c.name for c in onto.classes()}
    assert {"CustomerKnowledge", "KnowledgeAboutCustomer", "CKMStyle", "Company"} <= names
    world.close()
