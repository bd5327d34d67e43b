"""Data-only commits change the inferred graph locally (kg_service.incremental: extension
for additions, delete and rederive for removals), and the result is exactly the closure of
everything (owlrl's answer; ``incremental.infer_store``, which test_inference checks against
owlrl, where owlrl would take too long)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import rdflib
from rdflib import OWL, RDF, URIRef

from kg_service import incremental
from kg_service.auth import User
from kg_service.bootstrap import refresh_inferred
from kg_service.changes import submit_update
from kg_service.incremental import (
    _overdelete,
    changed_inferences,
    incoming_predicates,
    infer_store,
)
from kg_service.inference import closure, rules_for
from kg_service.namespaces import CKM, INFERRED_GRAPH, ONTOLOGY_GRAPH, ORG
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
    through ``changed_inferences``: the inferred graph must be the full closure."""
    summary = generate(tmp_path / "bench", 10000, seed=5, nquads=True)
    with open(summary.nquads, "rb") as fh:
        store.restore(fh)
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
        local = changed_inferences(store, rules, (), [q[:3] for q in picked])
        assert local is not None
        gone, fresh = local
        store.apply([], picked)
        refresh_inferred(store)
        full = set(store.graph(INFERRED_GRAPH))
        assert (before - gone) | fresh == full, round_
        assert fresh or gone or before == full
    assert full == _owlrl(store)


# --- removals: delete and rederive --------------------------------------------------------

G = "https://w3id.org/ckm/id/case/removal-test"
X = rdflib.Namespace("https://w3id.org/ckm/id/test/")


def _full(store) -> set:
    """The closure of everything, recomputed from all data (not the local path)."""
    new, _old = infer_store(store)
    assert new is not None
    return new


def _change(store, removed=(), added=()) -> set:
    """Change the data through ``changed_inferences`` and check the inferred graph it gives
    against the full recompute; returns the inferred graph."""
    removed = [(*t, G) for t in removed]
    added = [(*t, G) for t in added]
    before = set(store.graph(INFERRED_GRAPH))
    local = changed_inferences(store, rules_for(store.graph(ONTOLOGY_GRAPH)), removed, added)
    assert local is not None
    drop, fresh = local
    assert drop <= before and not fresh & before
    store.apply(removed, added)
    store.apply([(*t, INFERRED_GRAPH) for t in drop], [(*t, INFERRED_GRAPH) for t in fresh])
    inferred = set(store.graph(INFERRED_GRAPH))
    assert inferred == _full(store)
    return inferred


def test_overdelete_follows_every_rule_of_the_closure(loaded_store) -> None:
    """From all facts, the overdeletion reaches exactly their closure: it applies every rule
    ``inference.closure`` applies (a rule missing there would make removals inexact)."""
    rules = rules_for(loaded_store.graph(ONTOLOGY_GRAPH))
    facts = {t for g in user_graphs(loaded_store) for t in loaded_store.graph(g)}
    full = closure(rules, facts)
    assert len(full) > len(facts)
    assert _overdelete(rules, facts, full, set()) == full


def test_removing_links_keeps_what_another_link_still_gives(loaded_store) -> None:
    """A range type and a chain conclusion stay while another link (from a node the change
    does not touch) gives them, and go with the last one."""
    co, p1, p2 = X.co, X.p1, X.p2
    mutual, prosumerism = CKM.MutualInnovation, CKM.Prosumerism
    links = [(p1, CKM.practicedBy, co), (p2, CKM.practicedBy, co),
             (p1, CKM.exhibitsStyle, mutual), (p2, CKM.exhibitsStyle, mutual),
             (p2, CKM.exhibitsStyle, prosumerism)]
    inferred = _change(loaded_store, added=[(p1, RDF.type, CKM.CKMPractice),
                                            (p2, RDF.type, CKM.CKMPractice), *links])
    company, applies = (co, RDF.type, CKM.Company), (co, CKM.appliesStyle, mutual)
    assert company in inferred and applies in inferred
    inferred = _change(loaded_store, removed=[(p1, CKM.exhibitsStyle, mutual)])
    assert applies in inferred  # through p2, a middle node the change does not touch
    inferred = _change(loaded_store, removed=[(p2, CKM.exhibitsStyle, mutual)])
    assert applies not in inferred
    inferred = _change(loaded_store, removed=[(p1, CKM.practicedBy, co)])
    assert company in inferred  # the range of p2's link, p2 not touched
    assert (co, CKM.appliesStyle, prosumerism) in inferred
    inferred = _change(loaded_store, removed=[(p2, CKM.practicedBy, co)])
    assert company not in inferred and (co, RDF.type, ORG.Organization) not in inferred
    assert (co, CKM.appliesStyle, prosumerism) not in inferred


def test_removing_a_type_keeps_the_superclass_other_facts_give(loaded_store) -> None:
    kept, lone, practice = X.knowledge, X.lone, X.practice
    inferred = _change(loaded_store, added=[
        (kept, RDF.type, CKM.KnowledgeAboutCustomer), (lone, RDF.type, CKM.KnowledgeAboutCustomer),
        (practice, RDF.type, CKM.CKMPractice), (practice, CKM.involvesKnowledge, kept)])
    assert (kept, RDF.type, CKM.CustomerKnowledge) in inferred
    assert (lone, RDF.type, CKM.CustomerKnowledge) in inferred
    inferred = _change(loaded_store, removed=[(kept, RDF.type, CKM.KnowledgeAboutCustomer),
                                              (lone, RDF.type, CKM.KnowledgeAboutCustomer)])
    assert (kept, RDF.type, CKM.CustomerKnowledge) in inferred  # the range of the link
    assert (lone, RDF.type, CKM.CustomerKnowledge) not in inferred


def test_removing_an_asserted_triple_that_is_also_derived_moves_it_to_inferred(
        loaded_store) -> None:
    co, practice, model = X.co, X.practice, X.model
    _change(loaded_store, added=[
        (co, RDF.type, CKM.Company), (co, CKM.appliesStyle, CKM.Prosumerism),
        (practice, RDF.type, CKM.CKMPractice), (practice, CKM.practicedBy, co),
        (practice, CKM.exhibitsStyle, CKM.Prosumerism),
        (model, RDF.type, CKM.BusinessModel),
        (model, CKM.treatsCustomerAs, CKM.ResourcesAndCompetences)])
    derived = [(co, CKM.appliesStyle, CKM.Prosumerism), (co, RDF.type, CKM.Company),
               (practice, RDF.type, CKM.CKMPractice), (model, RDF.type, CKM.BusinessModel)]
    inferred = _change(loaded_store, removed=derived)
    assert set(derived) <= inferred  # chain, range, domain, domain
    assert (model, RDF.type, CKM.CustomerIntegratedBusinessModel) in inferred
    inferred = _change(loaded_store, removed=[
        (model, CKM.treatsCustomerAs, CKM.ResourcesAndCompetences)])
    assert not {t for t in inferred if t[0] == model}  # its only typing link went


def test_a_mixed_change_and_one_step_of_a_chain(loaded_store) -> None:
    co, practice = X.co, X.practice
    _change(loaded_store, added=[(co, RDF.type, CKM.Company),
                                 (practice, RDF.type, CKM.CKMPractice),
                                 (practice, CKM.practicedBy, co),
                                 (practice, CKM.exhibitsStyle, CKM.Prosumerism)])
    inferred = _change(loaded_store, removed=[(practice, CKM.exhibitsStyle, CKM.Prosumerism)],
                       added=[(practice, CKM.exhibitsStyle, CKM.MutualInnovation)])
    assert (co, CKM.appliesStyle, CKM.MutualInnovation) in inferred
    assert (co, CKM.appliesStyle, CKM.Prosumerism) not in inferred
    other = X.other
    inferred = _change(loaded_store, removed=[(practice, CKM.practicedBy, co)],
                       added=[(other, RDF.type, CKM.Company), (practice, CKM.practicedBy, other)])
    assert (other, CKM.appliesStyle, CKM.MutualInnovation) in inferred
    assert {t for t in inferred if t[0] == co} == {(co, RDF.type, ORG.Organization)}


@pytest.mark.parametrize("data", ["bundled", "generated"])
def test_random_removals_and_additions_equal_the_full_closure(loaded_store, store, tmp_path,
                                                              data) -> None:
    """Remove random data triples (and add a few links between existing nodes) through
    ``changed_inferences``, several seeds in a row, then a whole case graph: the inferred
    graph must be the full closure after each."""
    if data == "generated":
        summary = generate(tmp_path / "bench", 6000, seed=7, nquads=True)
        with open(summary.nquads, "rb") as fh:
            store.restore(fh)
        refresh_inferred(store)
    else:
        store = loaded_store
    rules = rules_for(store.graph(ONTOLOGY_GRAPH))
    for seed in range(6):
        rng = random.Random(seed)
        quads = [(s, p, o, g) for g in user_graphs(store) if g != ONTOLOGY_GRAPH
                 for s, p, o in store.graph(g)]
        if seed == 5:  # a whole case graph
            graph = quads[len(quads) // 2][3]
            quads = [q for q in quads if q[3] == graph]
        links = [q for q in quads if q[1] in (CKM.practicedBy, CKM.exhibitsStyle, RDF.type,
                                              CKM.treatsCustomerAs, CKM.involvesKnowledge,
                                              CKM.hasPractice, CKM.appliesStyle)]
        removed, added = quads, []
        if seed < 5:
            removed = rng.sample(links, 6) + rng.sample(quads, 3)
            practices = sorted({q[0] for q in links if q[1] == CKM.exhibitsStyle})
            styles = sorted({q[2] for q in links if q[1] == CKM.exhibitsStyle})
            added = [(rng.choice(practices), CKM.exhibitsStyle, rng.choice(styles),
                      removed[0][3]) for _ in range(2)]
            added = [q for q in added if q not in set(quads)]
        before = set(store.graph(INFERRED_GRAPH))
        local = changed_inferences(store, rules, removed, added)
        assert local is not None, seed
        drop, fresh = local
        store.apply(removed, added)
        full = _full(store)
        assert (before - drop) | fresh == full, seed
        store.apply([(*t, INFERRED_GRAPH) for t in drop], [(*t, INFERRED_GRAPH) for t in fresh])
    if data == "bundled":
        assert set(store.graph(INFERRED_GRAPH)) == _owlrl(store)


def test_removals_fall_back_where_the_local_answer_is_not_sure(loaded_store) -> None:
    row = loaded_store.select(P + "SELECT * WHERE { GRAPH ?g { ?p ckm:practicedBy ?c } } "
                              "ORDER BY ?p LIMIT 1")[0]
    p, c, g = row["p"], row["c"], str(row["g"])
    link = [(p, CKM.practicedBy, c, g)]
    rules = rules_for(loaded_store.graph(ONTOLOGY_GRAPH))
    assert changed_inferences(loaded_store, rules, link, []) is not None
    # a second value of a functional property: owlrl would derive owl:sameAs
    assert changed_inferences(loaded_store, rules, [(p, RDF.type, CKM.CKMPractice, g)],
                              [(p, CKM.practicedBy, X.elsewhere, g)]) is None
    # a transitive property: rules that are not local
    transitive = rdflib.Graph()
    for t in loaded_store.graph(ONTOLOGY_GRAPH):
        transitive.add(t)
    transitive.add((CKM.coProducesWith, RDF.type, OWL.TransitiveProperty))
    assert changed_inferences(loaded_store, rules_for(transitive), link, []) is None
    # an inferred owl:sameAs anywhere
    loaded_store.apply([], [(X.a, OWL.sameAs, X.b, INFERRED_GRAPH)])
    assert changed_inferences(loaded_store, rules, link, []) is None


def test_a_validated_removal_commit_takes_the_local_path(loaded_store, monkeypatch) -> None:
    """Through submit_update, with the full recompute made to fail: a DELETE/INSERT that
    changes a practice's style and a DELETE of a style commit, and the inferred graph is
    owlrl's closure of everything."""
    def full_recompute(*_a, **_k):
        raise AssertionError("the full recompute ran")

    row = loaded_store.select(P + "SELECT * WHERE { GRAPH ?g { ?p ckm:exhibitsStyle ?s ; "
                              "ckm:practicedBy ?c } } ORDER BY ?p ?s LIMIT 1")[0]
    p, style, g = row["p"].n3(), row["s"].n3(), row["g"].n3()
    other = CKM.Prosumerism if row["s"] != CKM.Prosumerism else CKM.MutualInnovation
    monkeypatch.setattr(incremental, "infer_store", full_recompute)
    change = submit_update(loaded_store, P + f"DELETE {{ GRAPH {g} {{ {p} ckm:exhibitsStyle "
                           f"{style} }} }} INSERT {{ GRAPH {g} {{ {p} ckm:exhibitsStyle "
                           f"{other.n3()} }} }} WHERE {{ GRAPH {g} {{ {p} ckm:exhibitsStyle "
                           f"{style} }} }}", user=ALICE, message="change a style")
    assert change.added == 1 and change.removed == 1
    inferred = set(loaded_store.graph(INFERRED_GRAPH))
    assert (row["c"], CKM.appliesStyle, other) in inferred
    change = submit_update(loaded_store, P + f"DELETE DATA {{ GRAPH {g} {{ {p} "
                           f"ckm:exhibitsStyle {other.n3()} }} }} ;\n INSERT DATA {{ GRAPH {g} "
                           f"{{ {p} ckm:exhibitsStyle {style} }} }}",
                           user=ALICE, message="and back")
    assert change.removed == 1
    monkeypatch.undo()
    assert set(loaded_store.graph(INFERRED_GRAPH)) == _owlrl(loaded_store)
