"""The compiled OWL RL rules for data-only changes give exactly owlrl's inferred graph."""

from __future__ import annotations

import sys
from pathlib import Path

import rdflib
from rdflib import RDF, Literal, URIRef

from kg_service.auth import User
from kg_service.bootstrap import refresh_inferred
from kg_service.changes import revert, submit_update
from kg_service.incremental import data_only
from kg_service.inference import infer
from kg_service.namespaces import CKM, INFERRED_GRAPH, ONTOLOGY_GRAPH
from kg_service.reasoning import materialise_owl_rl
from kg_service.sparql_update import user_graphs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is not installed with the package

from bench.generate import generate  # noqa: E402

ALICE = User("alice", "editor")
HOLCIM_CASE = "https://w3id.org/ckm/id/case/holcim-hbk"
HOLCIM = URIRef("https://w3id.org/ckm/id/company/holcim")
TELECOM_MODEL = URIRef("https://w3id.org/ckm/id/model/chinese-telecom-it-business-model")
ORG = URIRef("http://www.w3.org/ns/org#Organization")
P = "PREFIX ckm: <https://w3id.org/ckm/ontology#>\n" \
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" \
    "PREFIX dcterms: <http://purl.org/dc/terms/>\n"


def _split(store) -> tuple[rdflib.Graph, set, rdflib.Graph]:
    """(ontology graph, data triples, ontology + data as one graph) of the asserted state."""
    ontology = store.graph(ONTOLOGY_GRAPH)
    data: set = set()
    for g in user_graphs(store):
        if g != ONTOLOGY_GRAPH:
            data.update(store.graph(g))
    union = rdflib.Graph()
    for t in ontology:
        union.add(t)
    for t in data:
        union.add(t)
    return ontology, data, union


def test_rules_equal_owlrl_on_the_bundled_data(loaded_store) -> None:
    ontology, data, union = _split(loaded_store)
    expected = set(materialise_owl_rl(union))
    got = infer(ontology, data)
    assert got == expected
    assert got == set(loaded_store.graph(INFERRED_GRAPH))
    # the property chain and the hasValue/intersection class are among them
    assert any(p == CKM.appliesStyle for _s, p, _o in got)
    assert any(p == RDF.type and o == CKM.CustomerIntegratedBusinessModel
               for _s, p, o in got | data)


def test_rules_equal_owlrl_on_bench_data(store, tmp_path: Path) -> None:
    summary = generate(tmp_path / "bench", 10000, seed=11, nquads=True)
    with open(summary.nquads, "rb") as fh:
        store.restore(fh)
    ontology, data, union = _split(store)
    assert len(data) > 8000
    expected = set(materialise_owl_rl(union))
    got = infer(ontology, data)
    assert got == expected
    assert any(p == CKM.appliesStyle for _s, p, _o in got)
    # the full load (`ckmkg load`) writes exactly this closure, through the compiled rules
    assert refresh_inferred(store) == len(expected)
    assert set(store.graph(INFERRED_GRAPH)) == expected


def test_a_reload_infers_over_every_graph_of_the_store(loaded_store) -> None:
    """``ckmkg load`` (load_all) into a store that holds a graph of its own beyond the
    ontology and the case files: the closure covers that graph too (it is read back from
    the store), and equals owlrl over everything."""
    from kg_service.bootstrap import load_all

    extra = "https://w3id.org/ckm/id/graph/notes"
    practice = URIRef("https://w3id.org/ckm/id/practice/noted")
    loaded_store.apply([], [(practice, CKM.practicedBy, HOLCIM, extra)])
    load_all(loaded_store)
    _ontology, _data, union = _split(loaded_store)
    inferred = set(loaded_store.graph(INFERRED_GRAPH))
    assert inferred == set(materialise_owl_rl(union))
    assert (practice, RDF.type, CKM.CKMPractice) in inferred  # the domain of practicedBy


def test_full_load_falls_back_to_owlrl_when_the_data_is_not_data_only(loaded_store) -> None:
    # an owl:sameAs link in a case graph: the rules cannot decide, owlrl does
    other = URIRef("https://w3id.org/ckm/id/company/holcim-alias")
    loaded_store.apply([], [(HOLCIM, rdflib.OWL.sameAs, other, HOLCIM_CASE),
                            (other, CKM.industry, Literal("cement"), HOLCIM_CASE)])
    ontology, data, union = _split(loaded_store)
    assert infer(ontology, data) is None
    refresh_inferred(loaded_store)
    inferred = set(loaded_store.graph(INFERRED_GRAPH))
    assert inferred == set(materialise_owl_rl(union))
    assert (HOLCIM, CKM.industry, Literal("cement")) not in set(loaded_store.graph(HOLCIM_CASE))
    assert (HOLCIM, CKM.industry, Literal("cement")) in inferred  # copied over owl:sameAs


def test_data_only_commits_keep_the_inferred_graph_exact(loaded_store) -> None:
    practice = "https://w3id.org/ckm/id/practice/holcim-rules-test"
    paper = loaded_store.select("SELECT * WHERE { ?c dcterms:source ?p } LIMIT 1",
                                c=HOLCIM)[0]["p"]
    chain = (HOLCIM, CKM.appliesStyle, CKM.JointIntellectualProperty)

    def full_recompute_agrees() -> set:
        now = set(loaded_store.graph(INFERRED_GRAPH))
        assert now == set(materialise_owl_rl(_split(loaded_store)[2]))
        return now

    assert chain not in full_recompute_agrees()
    add = submit_update(loaded_store, P + f"""INSERT DATA {{ GRAPH <{HOLCIM_CASE}> {{
          <{practice}> a ckm:CKMPractice ; rdfs:label "rules test practice" ;
             ckm:practicedBy <{HOLCIM}> ; ckm:exhibitsStyle ckm:JointIntellectualProperty ;
             dcterms:source <{paper}> ; ckm:sourceLocator "p. 1" .
          <{HOLCIM_CASE}> ckm:hasPractice <{practice}> . }} }}""", user=ALICE)
    assert add.checks["inferred"]["added"] >= 1
    assert chain in full_recompute_agrees()

    # hasValue restriction inside an intersection: the model becomes a CIBM
    cibm = (TELECOM_MODEL, RDF.type, CKM.CustomerIntegratedBusinessModel)
    assert cibm not in full_recompute_agrees()
    graph = loaded_store.select("SELECT * WHERE { GRAPH ?g { ?m a ckm:BusinessModel } }",
                                m=TELECOM_MODEL)[0]["g"]
    typed = submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{graph}> {{ "
                          f"<{TELECOM_MODEL}> ckm:treatsCustomerAs "
                          "ckm:ResourcesAndCompetences } }", user=ALICE)
    assert typed.checks["inferred"]["added"] >= 1
    assert cibm in full_recompute_agrees()

    # a type whose superclass is inferred
    company = "https://w3id.org/ckm/id/company/rules-test-co"
    co = submit_update(loaded_store, P + f"""INSERT DATA {{ GRAPH <{HOLCIM_CASE}> {{
          <{company}> a ckm:Company ; rdfs:label "Rules test company" ;
             dcterms:source <{paper}> ; ckm:sourceLocator "p. 2" . }} }}""", user=ALICE)
    assert co.checks["inferred"]["added"] >= 1
    assert (URIRef(company), RDF.type, ORG) in full_recompute_agrees()

    revert(loaded_store, add.id, user=ALICE)
    assert chain not in full_recompute_agrees()
    revert(loaded_store, typed.id, user=ALICE)
    assert cibm not in full_recompute_agrees()


def test_what_counts_as_data_only_and_when_owlrl_must_decide(loaded_store) -> None:
    g = URIRef(HOLCIM_CASE)
    assert data_only([(HOLCIM, CKM.industry, Literal("cement"), g),
                      (HOLCIM, RDF.type, CKM.Company, g)])
    assert not data_only([(CKM.Company, RDF.type, URIRef(str(rdflib.OWL.Class)), g)])
    assert not data_only([(HOLCIM, rdflib.OWL.sameAs, URIRef("urn:x:h"), g)])
    assert not data_only([(HOLCIM, CKM.industry, Literal("x"), URIRef(ONTOLOGY_GRAPH))])
    assert not data_only([(rdflib.BNode(), CKM.industry, Literal("x"), g)])
    # a practice practiced by two companies: owlrl would derive owl:sameAs, so the rules
    # leave the answer to owlrl
    ontology, data, _union = _split(loaded_store)
    practice = URIRef("https://w3id.org/ckm/id/practice/two-owners")
    data |= {(practice, CKM.practicedBy, HOLCIM),
             (practice, CKM.practicedBy, URIRef("https://w3id.org/ckm/id/company/other"))}
    assert infer(ontology, data) is None


def test_compiled_rules_follow_a_change_inside_a_restriction() -> None:
    """Two ontologies that differ only inside a blank node (a hasValue restriction's value)
    get their own rules: the cache must not hand back the first one's."""
    from kg_service.inference import closure, rules_for

    x = rdflib.Namespace("https://w3id.org/ckm/test/")

    def ontology(value: URIRef) -> rdflib.Graph:
        g = rdflib.Graph()
        r = rdflib.BNode()
        g.add((x.Green, rdflib.OWL.equivalentClass, r))
        g.add((r, RDF.type, rdflib.OWL.Restriction))
        g.add((r, rdflib.OWL.onProperty, x.colour))
        g.add((r, rdflib.OWL.hasValue, value))
        return g

    facts = {(x.leaf, x.colour, x.green)}
    first = closure(rules_for(ontology(x.green)), facts)
    second = closure(rules_for(ontology(x.blue)), facts)
    assert (x.leaf, RDF.type, x.Green) in first
    assert (x.leaf, RDF.type, x.Green) not in second


def test_compiled_rules_are_kept_on_disk_for_the_next_process(tmp_path: Path,
                                                               monkeypatch) -> None:
    """A new process (here: the in-process cache emptied) reads the compiled rules from
    the per-user cache instead of running owlrl over the ontology again; a damaged cache
    file is compiled afresh and replaced, and an unwritable cache is only not used."""
    from kg_service import disk_cache, inference

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ontology = rdflib.Graph().parse(ROOT / "ontology" / "ckm.ttl")
    inference._CACHE.clear()
    compiled = inference.rules_for(ontology)
    [kept] = (tmp_path / "cache" / "ckm-kg").glob("owlrl-rules-*.pickle")

    def no_compile(_ontology: rdflib.Graph) -> inference.Rules:
        raise AssertionError("compiled again although the rules were on disk")

    inference._CACHE.clear()
    with monkeypatch.context() as m:
        m.setattr(inference, "compile_rules", no_compile)
        assert inference.rules_for(ontology) == compiled

    kept.write_bytes(b"not a pickle")
    inference._CACHE.clear()
    assert inference.rules_for(ontology) == compiled
    assert disk_cache.read_bytes(kept.name) != b"not a pickle"

    (tmp_path / "ro").write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "ro"))
    inference._CACHE.clear()
    assert inference.rules_for(ontology) == compiled
    inference._CACHE.clear()
