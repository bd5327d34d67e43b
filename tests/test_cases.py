"""Case files: shapes, file:line errors, atomic and idempotent loading into a real store.

The ``store`` fixture (conftest) is an empty on-disk Oxigraph store in tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, Literal, URIRef
from rdflib.namespace import DCTERMS

from kg_service.cases import (
    bundled_paths,
    load_cases,
    load_ontology,
    parse_case_file,
    parse_cases,
    validate_shacl,
)
from kg_service.errors import BadData
from kg_service.namespaces import CASE_GRAPH_PREFIX, CKM, ID, ONTOLOGY_GRAPH

GOOD = """\
case:
  slug: tiny
  label: A tiny case
  source: {paper: gibbert-2002, locator: "Table 3"}
companies:
  - slug: tinyco
    label: TinyCo
    source: {paper: gibbert-2002, locator: "Table 3"}
practices:
  - slug: tinyco-practice
    label: Tiny practice
    company: tinyco
    styles: [MutualInnovation]
    source: {paper: gibbert-2002, locator: "Table 3"}
"""


@pytest.fixture(scope="module")
def case_graphs() -> dict[str, rdflib.Graph]:
    return parse_cases()


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    p = directory / name
    p.write_text(text, encoding="utf-8")
    return p


def bad_data(path: Path) -> BadData:
    with pytest.raises(BadData) as info:
        parse_case_file(path)
    return info.value


# --- the bundled cases ----------------------------------------------------------------

def test_each_file_is_its_own_case_graph(case_graphs: dict[str, rdflib.Graph]) -> None:
    files = bundled_paths().cases
    assert len(case_graphs) == len(files) >= 9
    for iri, g in case_graphs.items():
        assert iri.startswith(CASE_GRAPH_PREFIX)
        assert (URIRef(iri), RDF.type, CKM.CaseStudy) in g
    assert CASE_GRAPH_PREFIX + "holcim-hbk" in case_graphs


def test_bundled_cases_conform_to_shapes(case_graphs: dict[str, rdflib.Graph]) -> None:
    union = rdflib.Graph()
    for g in case_graphs.values():
        union += g
    assert validate_shacl(union) == []


@pytest.mark.parametrize("name", [p.name for p in bundled_paths().cases])
def test_each_case_conforms_alone(name: str) -> None:
    _iri, g = parse_case_file(bundled_paths().cases_dir / name)
    # companies of other files are referenced, not described: add their minimal description
    for ref in set(g.objects(None, CKM.practicedBy)) | set(g.objects(None, CKM.aboutCompany)):
        if (ref, RDF.type, CKM.Company) not in g:
            g.add((ref, RDF.type, CKM.Company))
    violations = [v for v in validate_shacl(g)
                  if not (v["path"] in (str(rdflib.RDFS.label), str(DCTERMS.source))
                          and (URIRef(v["focus"]), rdflib.RDFS.label, None) not in g)]
    assert violations == []


def test_shapes_catch_bad_data(case_graphs: dict[str, rdflib.Graph]) -> None:
    g = rdflib.Graph() + case_graphs[CASE_GRAPH_PREFIX + "gibbert-five-styles"]
    practice = ID["practice/ryder-logistics-innovation"]
    company = ID["company/ryder"]
    g.remove((practice, CKM.exhibitsStyle, None))
    g.add((practice, CKM.practicedBy, ID["company/ge"]))  # now two companies
    g.remove((company, DCTERMS.source, None))
    g.add((ID["company/quicken"], DCTERMS.source, URIRef("https://example.org/not-a-paper")))
    g.add((ID["practice/ge-co-innovation"], CKM.uncertainReading, Literal(True)))
    found = {(v["focus"], v["path"]) for v in validate_shacl(g)}
    assert (str(practice), str(CKM.exhibitsStyle)) in found
    assert (str(practice), str(CKM.practicedBy)) in found
    assert (str(company), str(DCTERMS.source)) in found
    assert ("https://example.org/not-a-paper", None) in found
    assert (str(ID["practice/ge-co-innovation"]), None) in found  # uncertain without a note
    for v in validate_shacl(g):
        assert v["message"] and v["shape"] and v["severity"] == "Violation"


# --- loader errors name file:line ------------------------------------------------------

@pytest.mark.parametrize("old,new,line,words", [
    ("styles: [MutualInnovation]", "styles: [MutualInovation]", 13, "unknown style"),
    ("    company: tinyco\n", "    company: nobody\n", 12, "unknown company reference"),
    ('  source: {paper: gibbert-2002, locator: "Table 3"}\ncompanies',
     "companies", 2, "'source' is a required property"),
    ("styles: [MutualInnovation]", "styles: [ValueCreation]", 13, "is not a style"),
    ("styles: [MutualInnovation]", "styles: []", 13, "should be non-empty"),
    ('    source: {paper: gibbert-2002, locator: "Table 3"}\npractices',
     '    source: {paper: gibbert-2099, locator: "Table 3"}\npractices', 8, "unknown paper"),
    ("    label: TinyCo\n", "    label: TinyCo\n    colour: blue\n", 8, "colour"),
])
def test_errors_name_file_and_line(tmp_path: Path, old: str, new: str, line: int,
                                   words: str) -> None:
    assert old in GOOD
    path = write(tmp_path, "tiny.yaml", GOOD.replace(old, new, 1))
    err = bad_data(path)
    assert err.extra["file"] == str(path)
    assert err.extra["line"] == line, err.detail
    assert words in err.detail
    assert err.detail.startswith(f"{path}:{line}: ")


def test_yaml_syntax_error_line(tmp_path: Path) -> None:
    text = GOOD.replace("    company: tinyco", "    company: [tinyco")
    path = write(tmp_path, "broken.yaml", text)
    err = bad_data(path)
    assert err.extra["line"] is not None and 12 <= err.extra["line"] <= 14
    assert "YAML" in err.detail


def test_wrong_type_reference(tmp_path: Path) -> None:
    text = GOOD + """\
things:
  - id: stumbling-block/tiny
    type: StumblingBlock
    label: Tiny block
    links:
      illustratedBy: practice/tinyco-practice
    source: {paper: gibbert-2002, locator: "p. 468 (approx.)"}
"""
    err = bad_data(write(tmp_path, "tiny.yaml", text))
    assert err.extra["line"] == 20
    assert "is not a ckm:Company" in err.detail


def test_wrong_literal_and_unknown_property(tmp_path: Path) -> None:
    thing = """\
things:
  - id: alignment/tiny
    type: BusinessITAlignment
    label: Tiny
    links:
      {prop}
    source: {{paper: bagheri-2015, locator: abstract}}
"""
    err = bad_data(write(tmp_path, "a.yaml", GOOD + thing.format(prop="uncertainReading: maybe")))
    assert err.extra["line"] == 20 and "true/false" in err.detail
    err = bad_data(write(tmp_path, "a.yaml", GOOD + thing.format(prop="colour: blue")))
    assert err.extra["line"] == 20 and "unknown property" in err.detail
    err = bad_data(write(tmp_path, "a.yaml", GOOD + thing.format(prop="hasActor: actor/nobody")))
    assert err.extra["line"] == 20 and "unknown hasActor reference" in err.detail


def test_uncertain_needs_a_note(tmp_path: Path) -> None:
    text = GOOD.replace("    styles: [MutualInnovation]\n",
                        "    styles: [MutualInnovation]\n    uncertain: true\n")
    err = bad_data(write(tmp_path, "tiny.yaml", text))
    assert err.extra["line"] == 10 and "note" in err.detail


def test_cross_file_references_and_duplicates(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    other = """\
case:
  slug: other
  label: Other
  about: [tinyco]
  source: {paper: gibbert-2002, locator: "Table 3"}
practices:
  - slug: tinyco-second
    label: Second
    company: tinyco
    styles: [Prosumerism]
    source: {paper: gibbert-2002, locator: "Table 3"}
"""
    b = write(tmp_path, "b.yaml", other)
    iri, g = parse_case_file(b)
    assert iri == CASE_GRAPH_PREFIX + "other"
    assert (ID["practice/tinyco-second"], CKM.practicedBy, ID["company/tinyco"]) in g
    write(tmp_path, "c.yaml", other.replace("slug: other", "slug: third"))
    with pytest.raises(BadData) as info:
        parse_cases(tmp_path)
    assert info.value.extra["file"].endswith("c.yaml") and info.value.extra["line"] == 7


# --- loading into the store ---------------------------------------------------------------

def test_load_ontology_and_cases(store) -> None:
    assert load_ontology(store) > 900
    counts = load_cases(store)
    graphs = set(store.named_graphs())
    assert ONTOLOGY_GRAPH in graphs
    assert set(counts) <= graphs and len(counts) == len(bundled_paths().cases)
    g = store.graph(CASE_GRAPH_PREFIX + "holcim-hbk")
    assert len(g) == counts[CASE_GRAPH_PREFIX + "holcim-hbk"]


def test_reload_is_idempotent(store) -> None:
    load_ontology(store)
    load_cases(store)
    first = len(store)
    load_ontology(store)
    load_cases(store)
    assert len(store) == first


def test_reload_replaces_changed_case(store, tmp_path: Path) -> None:
    d = tmp_path / "cases"
    path = write(d, "tiny.yaml", GOOD)
    load_cases(store, d)
    path.write_text(GOOD.replace("label: Tiny practice", "label: Renamed practice"))
    load_cases(store, d)
    practice = ID["practice/tinyco-practice"]
    labels = {str(r["l"]) for r in store.select(
        f"SELECT ?l WHERE {{ <{practice}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}")}
    assert labels == {"Renamed practice"}


def test_bad_file_among_good_loads_nothing(store, tmp_path: Path) -> None:
    load_ontology(store)
    before = len(store)
    d = tmp_path / "cases"
    d.mkdir()
    for p in bundled_paths().cases:
        shutil.copy(p, d / p.name)
    write(d, "zz-bad.yaml", GOOD.replace("styles: [MutualInnovation]", "styles: [Nope]"))
    with pytest.raises(BadData) as info:
        load_cases(store, d)
    assert info.value.extra["file"].endswith("zz-bad.yaml") and info.value.extra["line"] == 13
    assert len(store) == before
    assert not any(g.startswith(CASE_GRAPH_PREFIX) for g in store.named_graphs())


def test_failed_reload_keeps_previous_data(store, tmp_path: Path) -> None:
    d = tmp_path / "cases"
    write(d, "tiny.yaml", GOOD)
    load_cases(store, d)
    before = len(store)
    write(d, "tiny.yaml", GOOD.replace("company: tinyco", "company: ghost"))
    with pytest.raises(BadData):
        load_cases(store, d)
    assert len(store) == before


def test_progress_reports_every_file(store) -> None:
    seen: list[str] = []
    load_cases(store, progress=seen.append)
    assert len(seen) == len(bundled_paths().cases)


def test_value_json_has_no_type_for_is_reported_with_its_line(tmp_path: Path) -> None:
    # an unquoted date is a datetime.date to YAML: the fast schema check cannot take it, the
    # detailed one names the key and the line
    path = write(tmp_path, "tiny.yaml", GOOD.replace("label: TinyCo", "label: 2020-01-01"))
    err = bad_data(path)
    assert err.extra["line"] == 7
    assert err.detail.startswith(f"{path}:7: schema: companies/0/label: ")
    assert "is not of type 'string'" in err.detail
