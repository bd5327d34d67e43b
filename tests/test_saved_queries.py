"""Saved queries (queries/*.rq): each one's answer checked against the papers, the listing,
typed parameters bound as RDF terms (never pasted), every format, and ``ckmkg query --saved``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from conftest import copy_loaded
from flask.testing import FlaskClient

from kg_service.saved_queries import parse_saved_query, saved_queries
from kg_service.settings import Settings

CKM = "https://w3id.org/ckm/ontology#"
ID = "https://w3id.org/ckm/id/"
QUERIES = sorted(p.stem for p in (Path(__file__).parent.parent / "queries").glob("*.rq"))


def rows(client: FlaskClient, query: str, **params: str) -> list[dict[str, str]]:
    resp = client.get(f"/queries/{query}", query_string={**params, "format": "json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in resp.get_json()["results"]["bindings"]]


def col(found: list[dict[str, str]], name: str) -> list[str]:
    return [r[name] for r in found if name in r]


def test_at_least_fifteen_with_headers() -> None:
    found = saved_queries(Settings())
    assert len(found) >= 15 and sorted(found) == QUERIES
    for q in found.values():
        assert q.title and len(q.description) > 40, q.name
        assert q.form in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"), q.name


@pytest.mark.parametrize("name", QUERIES)
def test_every_saved_query_runs_in_its_formats(client: FlaskClient, name: str) -> None:
    q = saved_queries(Settings())[name]
    formats = ["json", "xml", "csv", "tsv"] if q.kind == "results" else [
        "turtle", "ntriples", "jsonld", "rdfxml"]
    for fmt in formats:
        resp = client.get(f"/queries/{name}", query_string={"format": fmt})
        assert resp.status_code == 200, (name, fmt, resp.get_data(as_text=True))
        assert int(resp.headers["KG-Result-Count"]) >= 1, (name, fmt)
        assert resp.headers["KG-Result-Truncated"] == "false"
    html = client.get(f"/queries/{name}", headers={"Accept": "text/html"})
    assert html.status_code == 200 and q.title.replace("'", "&#39;") in html.get_data(True)
    text = client.get(f"/queries/{name}", query_string={"format": "sparql"})
    assert text.mimetype == "application/sparql-query" and text.get_data(True) == q.text


# ------------------------------------------------------------------ answers vs the papers
def test_styles_by_intensity_and_form(client: FlaskClient) -> None:
    # Gibbert et al. 2002, Table 3 rows 'Intensity of interaction' and 'Type of knowledge'
    got = {(r["style"], r["intensity"], r["knowledgeForm"])
           for r in rows(client, "styles-by-intensity-and-form")}
    assert got == {
        ("Prosumerism", "low intensity", "explicit"),
        ("MutualInnovation", "low intensity", "tacit"),
        ("CommunitiesOfCreation", "high intensity", "tacit"),
        ("JointIntellectualProperty", "high intensity", "explicit"),
        *{("TeamBasedCoLearning", i, f) for i in ("low intensity", "high intensity")
          for f in ("explicit", "tacit")}}


def test_styles_by_intensity_parameter(client: FlaskClient) -> None:
    high = col(rows(client, "styles-by-intensity"), "label")
    assert high == ["Communities of creation", "Joint intellectual property",
                    "Team-based co-learning"]
    low = rows(client, "styles-by-intensity", intensity="ckm:LowIntensity")
    assert col(low, "label") == ["Mutual innovation", "Prosumerism", "Team-based co-learning"]
    assert {r["intensity"] for r in low} == {CKM + "LowIntensity"}
    full = rows(client, "styles-by-intensity", intensity=f"<{CKM}LowIntensity>")
    assert full == low


def test_table3(client: FlaskClient) -> None:
    by_style = {r["style"]: r for r in rows(client, "styles-table3")}
    assert len(by_style) == 5
    assert by_style["Prosumerism"]["focus"] == "Developing tangible assets and benefits"
    assert by_style["Joint intellectual property"]["caseExamples"] == "Skandia"
    assert by_style["Mutual innovation"]["systems"] == "Idea generation support systems"
    assert "interleaved" in by_style["Communities of creation"]["readingNote"] or \
        "interleaved" in by_style["Team-based co-learning"]["readingNote"]


@pytest.mark.parametrize("style,certain,uncertain", [
    # the body text of each style's section; Table 3's interleaved row is uncertain
    ("Prosumerism", {"Quicken", "IKEA", "Bosch"}, {"Old Mutual"}),
    ("TeamBasedCoLearning", {"Amazon.com", "Xerox Corporation"},
     {"Holcim", "Mettler Toledo", "Amazon.com"}),
    ("MutualInnovation", {"Silicon Graphics", "Ryder Systems", "GE", "General Mills"}, set()),
    ("CommunitiesOfCreation", {"Netscape", "Microsoft", "Sony", "Panasonic", "Weight Watchers"},
     {"eBay", "Holcim"}),
    ("JointIntellectualProperty", {"Skandia Insurance", "Kooperativa Förbundet (KF)"}, set()),
])
def test_companies_per_style(client: FlaskClient, style: str, certain: set[str],
                             uncertain: set[str]) -> None:
    found = rows(client, "companies-per-style", style=f"ckm:{style}")
    assert {r["companyLabel"] for r in found if r["uncertain"] == "false"} == certain
    assert {r["companyLabel"] for r in found if r["uncertain"] == "true"} == uncertain
    assert {r["style"] for r in found} == {CKM + style}


def test_style_company_counts(client: FlaskClient) -> None:
    got = {r["style"]: (int(r["certain"]), int(r["withUncertain"]))
           for r in rows(client, "style-company-counts")}
    assert got == {"Prosumerism": (3, 4), "Team-based co-learning": (2, 4),
                   "Mutual innovation": (4, 4), "Communities of creation": (5, 7),
                   "Joint intellectual property": (2, 2)}


def test_holcim_practices_and_benefits(client: FlaskClient) -> None:
    # Table 2: eight key areas, 14 benefits; plus the Box 2 platform and Table 3 placements
    found = rows(client, "company-practices-benefits")
    key_areas = {r["practiceLabel"] for r in found if r["keyArea"] == "true"}
    assert key_areas == {"Trouble-shooting", "Quality control & product optimization",
                         "Inventory/supply management", "Purchasing", "Technical library",
                         "Engineering consulting", "Promotions/testimonials",
                         "Market information"}
    benefits = [r["benefit"] for r in found if r["keyArea"] == "true" and "benefit" in r]
    assert len(benefits) == 14
    assert "Elimination of costly plant shutdowns for lack of cement" in benefits
    assert {r["locator"] for r in found if r["keyArea"] == "true"} == {"Table 2"}
    ryder = rows(client, "company-practices-benefits", company="ckmid:company/ryder")
    assert set(col(ryder, "benefit")) == {
        "reconfigured truck personnel management activities",
        "Ryder became a logistics systems solutions expert, transcending its identity as a "
        "trucking company"}


def test_knowledge_to_business_model(client: FlaskClient) -> None:
    # telecom 2013 abstract: the three knowledge types -> value creation; IT -> delivery, capture
    found = rows(client, "knowledge-to-business-model")
    knowledge = {(r["knowledge"], r["element"]) for r in found if r["kind"] == "customer knowledge"}
    assert knowledge == {("Knowledge about the customer", "Value creation"),
                         ("Knowledge from the customer", "Value creation"),
                         ("Knowledge for the customer", "Value creation")}
    assert {r["element"] for r in found if r["kind"] == "role of IT"} == {
        "Value delivery", "Value capture"}


def test_pss_value_network(client: FlaskClient) -> None:
    # Bagheri et al. 2015 abstract
    found = rows(client, "pss-value-network")
    by_role: dict[str, set[str]] = {}
    for r in found:
        by_role.setdefault(r["role"], set()).add(r["thing"])
    assert by_role["actor"] == {"Customer", "Firm of the value network"}
    assert by_role["offers"] == {"Product-service system (PSS)"}
    assert by_role["capability"] == {"VN-CKM capability", "VN-SCRM capability"}
    assert len(by_role["process of the VN-CKM capability"]) == 4
    assert by_role["process enabled by the VN-SCRM capability"] == \
        by_role["process of the VN-CKM capability"]


def test_business_it_alignment(client: FlaskClient) -> None:
    found = rows(client, "business-it-alignment")
    assert {(r["level"], r["businessCapability"], r["itCapability"], r["itSupportsBusiness"])
            for r in found} == {
        ("strategic", "VN-CKM capability", "VN-SCRM capability", "true"),
        ("operational", "VN-CKM capability", "VN-SCRM capability", "true")}


def test_km_crm_ckm(client: FlaskClient) -> None:
    # Table 1 of Gibbert et al. 2002
    found = rows(client, "km-crm-ckm")
    assert col(found, "approach") == ["KM", "CRM", "CKM"]
    assert col(found, "axiom") == ["If only we knew what we know.",
                                   "Retention is cheaper than acquisition.",
                                   "If only we knew what our customers know."]
    assert col(found, "roleOfCustomer")[2] == "Active, partner in value-creation process."
    assert col(found, "recipientOfIncentives") == ["Employee.", "Customer.", "Customer."]


def test_sources_of_a_claim(client: FlaskClient) -> None:
    found = rows(client, "sources-of-claim", thing="ckmid:practice/holcim-purchasing")
    assert len(found) == 1
    r = found[0]
    assert r["paper"] == "Gibbert, Leibold & Probst (2002)"
    assert r["doi"] == "10.1016/S0263-2373(02)00101-9" and r["locator"] == "Table 2"
    assert r["uncertain"] == "true" and "Table 2" in r["readingNote"]
    cibm = rows(client, "sources-of-claim", thing="ckmid:model/cibm")
    assert col(cibm, "paper") == ["Plé, Lecocq & Angot (2010)"]


def test_uncertain_readings(client: FlaskClient) -> None:
    found = rows(client, "uncertain-readings")
    things = set(col(found, "thing"))
    assert {"practice/holcim-table3-co-learning", "practice/mettler-toledo-table3-co-learning",
            "practice/ebay-table3-community", "practice/old-mutual-electronic-health-forms",
            "countermeasure/value-sharing"} <= things
    assert all(r["readingNote"] for r in found)


def test_stumbling_blocks(client: FlaskClient) -> None:
    found = rows(client, "stumbling-blocks")
    illustrated = {(r["block"], r["illustratedBy"]) for r in found if "illustratedBy" in r}
    assert illustrated == {("Corporate narcissism", "Sony"),
                           ("Lack of a critical perspective on customer knowledge",
                            "Harley-Davidson"),
                           ("Corporate shyness", "Siemens")}
    walls = {r["block"] for r in found if r.get("countermeasure") == "Chinese walls"}
    assert walls == {"Corporate shyness"}
    quotes = set(col(found, "quote"))
    assert "no customer ever asked us to develop the Walkman" in quotes


def test_practices_by_knowledge_type(client: FlaskClient) -> None:
    about = rows(client, "practices-by-knowledge-type", knowledge="ckm:KnowledgeAboutCustomer")
    assert set(col(about, "company")) == {"Amazon.com"}
    for_ = rows(client, "practices-by-knowledge-type", knowledge="ckm:KnowledgeForCustomer")
    assert set(col(for_, "company")) == {"Holcim"}
    assert "Technical library" in col(for_, "practice")
    from_ = rows(client, "practices-by-knowledge-type")
    assert {"Old Mutual", "Sony", "Netscape", "Silicon Graphics"} <= set(col(from_, "company"))


def test_knowledge_processes(client: FlaskClient) -> None:
    found = rows(client, "knowledge-processes")
    mappings = {(r["process"], r["mapping"], r["mappedTo"]) for r in found if "mapping" in r}
    assert ("Knowledge utilisation", "equivalent class", "Knowledge usage") in mappings
    assert ("Knowledge acquisition", "close match", "Knowledge creation") in mappings
    paquette = {r["process"] for r in found if r.get("paper") == "Paquette (2006)"}
    assert paquette == {"Knowledge identification", "Knowledge acquisition",
                        "Knowledge utilisation"}


def test_cibm_rcov(client: FlaskClient) -> None:
    found = rows(client, "cibm-rcov")
    cibm = [r for r in found if r["isCIBM"] == "true"]
    assert {r["component"] for r in cibm} == {"Resources and competences", "Organisation",
                                              "Value proposition"}
    assert {r["customerTreatedAs"] for r in cibm} == {"Resources and competences"}
    telecom = {r["component"] for r in found if r["model"].startswith("The case company")}
    assert telecom == {"Value creation", "Value delivery", "Value capture"}


def test_papers(client: FlaskClient) -> None:
    found = rows(client, "papers")
    assert col(found, "year") == ["2002", "2006", "2010", "2013", "2015"]
    gibbert = found[0]
    assert gibbert["doi"] == "10.1016/S0263-2373(02)00101-9"
    assert int(gibbert["companies"]) >= 20 and int(gibbert["practices"]) >= 30


def test_company_search_and_injection(client: FlaskClient) -> None:
    assert col(rows(client, "company-search", name="HBK"), "label") == ["Holcim"]
    ge = rows(client, "company-search", name="general electric")
    assert col(ge, "label") == ["GE"] and ge[0]["styles"] == "Mutual innovation"
    # a value carrying SPARQL syntax is a literal: it matches nothing and changes nothing
    for evil in ['x")) } UNION { ?company ?p ?label } #', "') || true || ('",
                 "holcim\" } ; DROP ALL ; #"]:
        found = rows(client, "company-search", name=evil)
        assert found == []
    assert col(rows(client, "company-search"), "label") == ["Holcim"]


def test_every_practice_sourced(client: FlaskClient) -> None:
    resp = client.get("/queries/every-practice-sourced", query_string={"format": "json"})
    assert resp.get_json()["boolean"] is True


def test_styles_graph(client: FlaskClient) -> None:
    resp = client.get("/queries/styles-graph", headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=resp.get_data(), format="turtle")
    applies = rdflib.URIRef(CKM + "appliesStyle")
    assert (rdflib.URIRef(ID + "company/skandia"), applies,
            rdflib.URIRef(CKM + "JointIntellectualProperty")) in g
    assert len(set(g.subjects(rdflib.RDF.type, rdflib.URIRef(CKM + "CKMStyle")))) == 5


# ------------------------------------------------------------------ parameters and listing
@pytest.mark.parametrize("params,status,word", [
    ({"style": "ckm:X> } UNION { ?s ?p ?o"}, 400, "not a valid iri"),
    ({"style": "nope"}, 400, "not a valid iri"),
    ({"colour": "red"}, 400, "no parameter colour"),
])
def test_bad_parameters(client: FlaskClient, params: dict, status: int, word: str) -> None:
    resp = client.get("/queries/companies-per-style", query_string=params,
                      headers={"Accept": "application/json"})
    assert resp.status_code == status and word in resp.get_json()["detail"]


def test_unknown_saved_query_is_404(client: FlaskClient) -> None:
    assert client.get("/queries/no-such-query").status_code == 404


def test_listing_json_and_html(client: FlaskClient) -> None:
    data = client.get("/queries").get_json()["queries"]
    by_name = {q["name"]: q for q in data}
    assert set(by_name) == set(QUERIES)
    assert by_name["companies-per-style"]["params"] == [
        {"name": "style", "type": "iri", "default": "ckm:Prosumerism", "required": False}]
    assert by_name["companies-per-style"]["url"] == "/queries/companies-per-style"
    html = client.get("/queries", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Companies per CKM style" in html and 'href="/queries/km-crm-ckm"' in html


def test_csv_for_pandas(client: FlaskClient) -> None:
    resp = client.get("/queries/km-crm-ckm", query_string={"format": "csv"})
    table = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["approach"] for r in table] == ["KM", "CRM", "CKM"]


def test_bad_header_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("# title: x\n# param: n colour red\nSELECT * {}\n")
    from kg_service.errors import BadData

    with pytest.raises(BadData) as info:
        parse_saved_query(bad)
    assert info.value.extra["line"] == 2


def test_cli_saved_query_table(loaded_template: Path, tmp_path: Path) -> None:
    from kg_service.cli import cli

    data = copy_loaded(loaded_template, tmp_path / "data")
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "query", "--saved",
                                      "companies-per-style", "--param",
                                      "style=ckm:JointIntellectualProperty"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["style", "company", "companyLabel", "practice", "practiceLabel",
                                "locator", "uncertain"]
    assert "Skandia Insurance" in result.output and "Kooperativa" in result.output
    assert lines[-1] == "(2 rows)"
    csv_out = CliRunner().invoke(cli, ["--data-dir", str(data), "query", "--format", "csv",
                                       "SELECT ?a WHERE { ?x ckm:axiom ?a } ORDER BY ?a"])
    assert csv_out.exit_code == 0
    assert csv_out.output.splitlines()[1] == "If only we knew what our customers know."
    bad = CliRunner().invoke(cli, ["--data-dir", str(data), "query", "--saved",
                                   "companies-per-style", "--param", "style=not an iri"])
    assert bad.exit_code == 2 and "not a valid iri" in bad.output
