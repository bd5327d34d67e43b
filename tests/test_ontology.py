"""The ontology: metadata, the vocabulary contract, documentation, and the real reasoners."""

from __future__ import annotations

import owlready2
import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, SKOS

from kg_service.cases import bundled_paths, load_ontology_graph, parse_cases
from kg_service.errors import ReasonerFailed
from kg_service.namespaces import BIBO, CKM, ID, ONTOLOGY_IRI, VANN
from kg_service.reasoning import check_consistency, materialise_owl_rl

CONTRACT_CLASSES = [
    "CustomerKnowledge", "KnowledgeAboutCustomer", "KnowledgeFromCustomer",
    "KnowledgeForCustomer", "CKMStyle", "ManagementApproach", "Company", "CaseStudy",
    "CKMPractice", "KnowledgeProcess", "KnowledgeCreation", "KnowledgeStorageRetrieval",
    "KnowledgeTransfer", "KnowledgeUsage", "BusinessModelElement", "ValueCreation",
    "ValueDelivery", "ValueCapture", "ResourcesAndCompetences", "Organisation",
    "ValueProposition", "CustomerIntegratedBusinessModel", "ProductServiceSystem",
    "ValueNetwork", "NetworkActor", "Capability", "VNCKMCapability", "VNSCRMCapability",
    "BusinessITAlignment",
]
CONTRACT_PROPERTIES = [
    "practicedBy", "exhibitsStyle", "involvesKnowledge", "supportsElement", "benefit",
    "appliesStyle", "interactionIntensity", "knowledgeForm", "hasActor", "offers",
]
STYLES = ["Prosumerism", "TeamBasedCoLearning", "MutualInnovation", "CommunitiesOfCreation",
          "JointIntellectualProperty"]
APPROACHES = ["KnowledgeManagement", "CustomerRelationshipManagement",
              "CustomerKnowledgeManagement"]
TABLE3_ROWS = ["focus", "objective", "processes", "systems", "performanceMeasures"]
TABLE1_ROWS = ["knowledgeSought", "axiom", "rationale", "objectives", "metrics", "benefits",
               "recipientOfIncentives", "roleOfCustomer", "corporateRole"]


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return load_ontology_graph()


@pytest.fixture(scope="module")
def full() -> rdflib.Graph:
    g = load_ontology_graph()
    for case in parse_cases().values():
        g += case
    return g


def test_metadata(onto: rdflib.Graph) -> None:
    o = URIRef(ONTOLOGY_IRI)
    assert (o, RDF.type, OWL.Ontology) in onto
    assert onto.value(o, OWL.versionIRI) is not None
    assert onto.value(o, OWL.versionInfo) is not None
    assert onto.value(o, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/")
    assert onto.value(o, DCTERMS.title) and onto.value(o, DCTERMS.creator)
    assert onto.value(o, VANN.preferredNamespacePrefix) == Literal("ckm")
    assert str(onto.value(o, VANN.preferredNamespaceUri)) == str(CKM)


def test_contract_names(onto: rdflib.Graph) -> None:
    for name in CONTRACT_CLASSES:
        assert (CKM[name], RDF.type, OWL.Class) in onto, name
    for name in CONTRACT_PROPERTIES:
        assert ((CKM[name], RDF.type, OWL.ObjectProperty) in onto
                or (CKM[name], RDF.type, OWL.DatatypeProperty) in onto), name
    assert (CKM.Company, RDFS.subClassOf, URIRef("http://www.w3.org/ns/org#Organization")) in onto
    for name in STYLES:
        assert (CKM[name], RDF.type, CKM.CKMStyle) in onto
    for name in APPROACHES:
        assert (CKM[name], RDF.type, CKM.ManagementApproach) in onto
    for name in ["LowIntensity", "HighIntensity", "Explicit", "Tacit"]:
        assert (CKM[name], RDF.type, OWL.NamedIndividual) in onto


def test_every_term_is_documented(onto: rdflib.Graph) -> None:
    kinds = [OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty]
    terms = {s for k in kinds for s in onto.subjects(RDF.type, k)
             if isinstance(s, URIRef) and str(s).startswith(str(CKM))}
    assert len(terms) > 80
    for t in terms:
        assert onto.value(t, RDFS.label) is not None, t
        assert onto.value(t, SKOS.definition) is not None, t


def test_knowledge_types_pairwise_disjoint(onto: rdflib.Graph) -> None:
    types = {CKM.KnowledgeAboutCustomer, CKM.KnowledgeFromCustomer, CKM.KnowledgeForCustomer}
    found = [set(Collection(onto, onto.value(a, OWL.members)))
             for a in onto.subjects(RDF.type, OWL.AllDisjointClasses)]
    assert types in found


def test_property_chain(onto: rdflib.Graph) -> None:
    chain = list(Collection(onto, onto.value(CKM.appliesStyle, OWL.propertyChainAxiom)))
    assert len(chain) == 2
    assert onto.value(chain[0], OWL.inverseOf) == CKM.practicedBy
    assert chain[1] == CKM.exhibitsStyle


def test_styles_carry_table3(onto: rdflib.Graph) -> None:
    for name in STYLES:
        for row in TABLE3_ROWS:
            assert onto.value(CKM[name], CKM[row]) is not None, (name, row)
        assert onto.value(CKM[name], DCTERMS.source) == ID["paper/gibbert-2002"]
    assert str(onto.value(CKM.MutualInnovation, CKM.focus)) == "Creating new products & processes"
    assert set(onto.objects(CKM.TeamBasedCoLearning, CKM.interactionIntensity)) == {
        CKM.LowIntensity, CKM.HighIntensity}
    assert set(onto.objects(CKM.TeamBasedCoLearning, CKM.knowledgeForm)) == {
        CKM.Explicit, CKM.Tacit}
    assert set(onto.objects(CKM.Prosumerism, CKM.knowledgeForm)) == {CKM.Explicit}


def test_approaches_carry_table1(onto: rdflib.Graph) -> None:
    for name in APPROACHES:
        for row in TABLE1_ROWS:
            assert onto.value(CKM[name], CKM[row]) is not None, (name, row)


def test_papers(onto: rdflib.Graph) -> None:
    papers = set(onto.subjects(RDF.type, BIBO.AcademicArticle))
    assert papers == {ID[f"paper/{s}"] for s in (
        "gibbert-2002", "bagheri-2015", "paquette-2006", "ple-2010", "telecom-2013")}
    assert str(onto.value(ID["paper/bagheri-2015"], BIBO.doi)) == "10.5220/0005370002490257"
    gib = ID["paper/gibbert-2002"]
    assert str(onto.value(gib, BIBO.doi)) == "10.1016/S0263-2373(02)00101-9"
    assert (str(onto.value(gib, BIBO.pageStart)), str(onto.value(gib, BIBO.pageEnd))) == (
        "459", "469")
    for p in papers:
        assert onto.value(p, DCTERMS.title) and onto.value(p, DCTERMS.bibliographicCitation)


def test_hermit_ontology_consistent_and_coherent(onto: rdflib.Graph) -> None:
    report = check_consistency(onto)
    assert report.consistent, report.explanation
    assert report.unsatisfiable == []
    assert report.ok


def test_hermit_ontology_with_all_cases(full: rdflib.Graph) -> None:
    report = check_consistency(full)
    assert report.ok, report.explanation


def test_hermit_finds_inconsistent_abox(onto: rdflib.Graph) -> None:
    g = rdflib.Graph() + onto
    x = URIRef("https://w3id.org/ckm/id/thing/clash")
    g.add((x, RDF.type, CKM.KnowledgeAboutCustomer))
    g.add((x, RDF.type, CKM.KnowledgeFromCustomer))
    report = check_consistency(g)
    assert report.consistent is False
    assert "inconsistent" in report.explanation


def test_hermit_names_unsatisfiable_class(onto: rdflib.Graph) -> None:
    g = rdflib.Graph() + onto
    bad = URIRef(str(CKM) + "AboutAndFrom")
    g.add((bad, RDF.type, OWL.Class))
    g.add((bad, RDFS.subClassOf, CKM.KnowledgeAboutCustomer))
    g.add((bad, RDFS.subClassOf, CKM.KnowledgeFromCustomer))
    report = check_consistency(g)
    assert report.consistent
    assert report.unsatisfiable == [str(bad)]
    assert not report.ok and str(bad) in report.explanation


def test_reasoner_failure_is_an_error(onto: rdflib.Graph, monkeypatch: pytest.MonkeyPatch,
                                      tmp_path) -> None:
    monkeypatch.setattr(owlready2, "JAVA_EXE", str(tmp_path / "no-such-java"))
    with pytest.raises(ReasonerFailed):
        check_consistency(onto)


def test_owl_rl_materialisation(full: rdflib.Graph) -> None:
    new = materialise_owl_rl(full)
    mettler = ID["company/mettler-toledo"]
    assert (mettler, CKM.appliesStyle, CKM.TeamBasedCoLearning) not in full
    assert (mettler, CKM.appliesStyle, CKM.TeamBasedCoLearning) in new
    # an inherited type: the equivalence of utilisation and usage
    assert (ID["process/vn-usage"], RDF.type, CKM.KnowledgeUtilisation) in new
    for s, p, o in new:
        assert (s, p, o) not in full
        assert not isinstance(s, Literal)
        assert not str(s).startswith((str(RDF), str(RDFS), str(OWL)))
        assert not (p == OWL.sameAs and s == o)


def test_bundled_paths_exist() -> None:
    paths = bundled_paths()
    assert paths.ontology.is_file() and paths.shapes.is_file() and paths.schema.is_file()
    assert len(paths.cases) >= 9
