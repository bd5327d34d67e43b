"""A commit's checks, cut for speed and still the same: the SHACL check mixes in a cached copy
of the ontology's axioms (same results as pyshacl mixing in the ontology itself), and a hub's
incoming triples come from one LATERAL query on Oxigraph (the same as one query each)."""

from __future__ import annotations

import pytest
import rdflib
from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.namespace import DCTERMS

from kg_service import validation
from kg_service.cases import (
    bundled_paths,
    bundled_shapes,
    load_ontology_graph,
    parse_cases,
    validate_shacl,
)
from kg_service.namespaces import CASE_GRAPH_PREFIX, CKM, ID, ONTOLOGY_GRAPH


@pytest.fixture(scope="module")
def bad() -> rdflib.Graph:
    """A case with a practice missing its style, with two companies, a company without a
    source, a source that is not a paper and an uncertain reading without a note."""
    cases = parse_cases(bundled_paths().cases_dir)
    g = rdflib.Graph() + cases[CASE_GRAPH_PREFIX + "gibbert-five-styles"]
    practice = ID["practice/ryder-logistics-innovation"]
    g.remove((practice, CKM.exhibitsStyle, None))
    g.add((practice, CKM.practicedBy, ID["company/ge"]))
    g.remove((ID["company/ryder"], DCTERMS.source, None))
    g.add((ID["company/quicken"], DCTERMS.source, URIRef("https://example.org/not-a-paper")))
    g.add((ID["practice/ge-co-innovation"], CKM.uncertainReading, Literal(True)))
    return g


def _both(data: rdflib.Graph, ontology: rdflib.Graph, focus: set | None) -> tuple[list, list]:
    plain = validate_shacl(data, ontology, bundled_shapes(),
                           sorted(focus) if focus else None)
    cached = validation._shacl(rdflib.Graph() + data, ontology, focus)
    return plain, cached


def test_same_results_as_mixing_in_the_ontology(bad: rdflib.Graph) -> None:
    ontology = load_ontology_graph()
    plain, cached = _both(bad, ontology, None)
    assert len(plain) >= 5 and cached == plain
    focus = {ID["practice/ryder-logistics-innovation"], ID["company/ryder"]}
    plain, cached = _both(bad, ontology, focus)
    assert plain and cached == plain
    assert {v["focus"] for v in cached} == {str(n) for n in focus}


def test_a_changed_ontology_is_mixed_in_afresh(bad: rdflib.Graph) -> None:
    """A practice typed only with a new subclass of ckm:CKMPractice: sh:class needs the
    changed ontology's subClassOf, not the cached one's."""
    ontology = load_ontology_graph()
    g = rdflib.Graph() + bad
    special, odd = CKM.SpecialPractice, ID["practice/odd"]
    g.add((odd, RDF.type, special))
    g.add((ID["company/ryder"], CKM.offers, odd))
    validation._shacl(rdflib.Graph() + g, ontology, None)  # caches the bundled ontology's
    changed = rdflib.Graph() + ontology
    changed.add((special, RDF.type, rdflib.OWL.Class))
    changed.add((special, RDFS.subClassOf, CKM.CKMPractice))
    plain, cached = _both(g, changed, None)
    assert cached == plain
    assert {v["focus"] for v in cached} != {v["focus"] for v in validate_shacl(
        g, ontology, bundled_shapes())}


class _AnyStore:
    """The real store behind an interface that is not Oxigraph's (no LATERAL)."""

    def __init__(self, store: object) -> None:
        self.select = store.select  # type: ignore[attr-defined]


def test_one_incoming_triple_per_predicate_either_way(loaded_store) -> None:
    ontology = loaded_store.graph(ONTOLOGY_GRAPH)
    preds = sorted(validation._meaningful_predicates(ontology))
    hubs = sorted({CKM.MutualInnovation, CKM.KnowledgeFromCustomer, ID["company/ryder"],
                   ID["paper/gibbert-2002"], ID["company/no-such-company"]})
    lateral = validation._one_per_predicate(loaded_store, hubs, preds)
    each = validation._one_per_predicate(_AnyStore(loaded_store), hubs, preds)
    assert {q[2] for q in lateral} == set(hubs) - {ID["company/no-such-company"]}
    assert {(q[1], q[2]) for q in lateral} == {(q[1], q[2]) for q in each}
    assert len({(q[1], q[2]) for q in lateral}) == len(lateral)  # one per predicate and hub
    for x, p, o, g in lateral:
        assert loaded_store.ask(f"ASK {{ GRAPH <{g}> {{ ?x ?p ?o }} }}", x=x, p=p, o=o)
        assert g != ONTOLOGY_GRAPH
