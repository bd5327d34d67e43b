"""Commits that only add data extend the inferred graph locally (kg_service.incremental),
and the result is exactly the closure of everything (owlrl's answer)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib import RDF, URIRef

from kg_service.auth import User
from kg_service.bootstrap import refresh_inferred
from kg_service.changes import submit_update
from kg_service.incremental import added_inferences, incoming_predicates
from kg_service.inference import rules_for
from kg_service.namespaces import CKM, INFERRED_GRAPH, ONTOLOGY_GRAPH
from kg_service.reasoning import materialise_owl_rl
from kg_service.sparql_update import user_graphs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is not installed with the package

from bench.generate import generate  # noqa: E402

ALICE = User("alice", "editor")
P = "PREFIX ckm: <https://w3id.org/ckm/ontology#>\n" \
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" \
    "PREFIX dcterms: <http://purl.org/dc/terms/>\n"


def _owlrl(store) -> set:
    union = rdflib.Graph()
    for g in user_graphs(store):
        for t in store.graph(g):
            union.add(t)
    return set(materialise_owl_rl(union))


def test_the_bundled_ontology_is_closed_locally() -> None:
    rules = rules_for(rdflib.Graph().parse(ROOT / "ontology" / "ckm.ttl"))
    assert incoming_predicates(rules) == set()
    transitive = rdflib.Graph().parse(ROOT / "ontology" / "ckm.ttl")
    transitive.add((CKM.coProducesWith, RDF.type, rdflib.OWL.TransitiveProperty))
    assert incoming_predicates(rules_for(transitive)) is None


def test_adding_practices_companies_and_types_keeps_the_closure_exact(loaded_store) -> None:
    holcim_case = "https://w3id.org/ckm/id/case/holcim-hbk"
    paper = loaded_store.select("SELECT * WHERE { ?c dcterms:source ?p } LIMIT 1",
                                c=URIRef(holcim_case))[0]["p"]
    company = "https://w3id.org/ckm/id/company/incremental-co"
    model = "https://w3id.org/ckm/id/model/incremental-model"
    edits = [
        # a new company with no style yet, then a practice that gives it one (property chain)
        f"""<{company}> a ckm:Company ; rdfs:label "Incremental Co" ;
              dcterms:source <{paper}> ; ckm:sourceLocator "p. 3" .""",
        f"""<https://w3id.org/ckm/id/practice/incremental-1> a ckm:CKMPractice ;
              rdfs:label "incremental practice" ; ckm:practicedBy <{company}> ;
              ckm:exhibitsStyle ckm:MutualInnovation ; dcterms:source <{paper}> ;
              ckm:sourceLocator "p. 4" .
            <{holcim_case}> ckm:hasPractice <https://w3id.org/ckm/id/practice/incremental-1> .""",
        # a second style on the same practice: a second inferred appliesStyle
        """<https://w3id.org/ckm/id/practice/incremental-1> ckm:exhibitsStyle
              ckm:Prosumerism .""",
        # hasValue + intersection: the model becomes a customer-integrated business model
        f"""<{model}> a ckm:BusinessModel ; rdfs:label "incremental model" ;
              ckm:treatsCustomerAs ckm:ResourcesAndCompetences .""",
    ]
    for n, body in enumerate(edits):
        change = submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{holcim_case}> "
                               f"{{ {body} }} }}", user=ALICE, message=f"edit {n}")
        assert not change.empty
        assert set(loaded_store.graph(INFERRED_GRAPH)) == _owlrl(loaded_store), n
    inferred = set(loaded_store.graph(INFERRED_GRAPH))
    assert (URIRef(company), CKM.appliesStyle, CKM.MutualInnovation) in inferred
    assert (URIRef(company), CKM.appliesStyle, CKM.Prosumerism) in inferred
    assert (URIRef(model), RDF.type, CKM.CustomerIntegratedBusinessModel) in inferred


def test_random_additions_on_generated_data_equal_the_full_closure(store, tmp_path) -> None:
    """Take random data triples out of a 10k-triple store, close it, put them back
    through ``added_inferences``: the inferred graph must be the full closure."""
    summary = generate(tmp_path / "bench", 10000, seed=5, nquads=True)
    with open(summary.nquads, "rb") as fh:
        store.bulk_load(fh, ox.RdfFormat.N_QUADS)
    quads = [(s, p, o, g) for g in user_graphs(store) if g != ONTOLOGY_GRAPH
             for s, p, o in store.graph(g)]
    rules = rules_for(store.graph(ONTOLOGY_GRAPH))
    rng = random.Random(3)
    for round_ in range(4):
        links = [q for q in quads if q[1] in (CKM.practicedBy, CKM.exhibitsStyle, RDF.type,
                                              CKM.treatsCustomerAs, CKM.involvesKnowledge)]
        picked = rng.sample(links, 6) + rng.sample(quads, 4)
        store.apply(picked, [])
        refresh_inferred(store)
        before = set(store.graph(INFERRED_GRAPH))
        local = added_inferences(store, rules, [q[:3] for q in picked])
        assert local is not None
        gone, fresh = local
        store.apply([], picked)
        refresh_inferred(store)
        full = set(store.graph(INFERRED_GRAPH))
        assert (before - gone) | fresh == full, round_
        assert fresh or gone or before == full
    assert full == _owlrl(store)
