"""Changesets on a real on-disk Oxigraph store with the real HermiT and pyshacl."""

from __future__ import annotations

import pytest
from rdflib import RDFS, Literal, URIRef

from kg_service import history
from kg_service.auth import User
from kg_service.changes import current_revision, revert, submit_graph, submit_update
from kg_service.errors import BadQuery, Conflict, Forbidden, PreconditionFailed, ValidationFailed
from kg_service.namespaces import CKM, HISTORY_GRAPH, INFERRED_GRAPH, ONTOLOGY_GRAPH

ALICE = User("alice", "editor")
BOB = User("bob", "editor")
HOLCIM_CASE = "https://w3id.org/ckm/id/case/holcim-hbk"
HOLCIM = URIRef("https://w3id.org/ckm/id/company/holcim")
P = "PREFIX ckm: <https://w3id.org/ckm/ontology#>\n" \
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" \
    "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n"


def comment(store, text: str) -> bool:
    return store.ask("ASK { GRAPH ?g { ?s rdfs:comment ?c } }", s=HOLCIM, c=Literal(text),
                     g=URIRef(HOLCIM_CASE))


def test_change_is_recorded_with_author_message_and_quads(loaded_store) -> None:
    assert current_revision(loaded_store) == "initial"
    ch = submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{HOLCIM_CASE}> {{ "
                       f"<{HOLCIM}> rdfs:comment \"cement\" }} }}", user=ALICE,
                       message="note the industry")
    assert (ch.added, ch.removed, ch.author, ch.graphs) == (1, 0, "alice", [HOLCIM_CASE])
    assert comment(loaded_store, "cement")
    assert current_revision(loaded_store) == ch.revision == ch.id
    items, total = history.list_changes(loaded_store)
    assert total == 1 and items[0]["id"] == ch.id
    assert items[0]["author"] == "alice" and items[0]["message"] == "note the industry"
    full = history.get_change(loaded_store, ch.id)
    assert full["added_quads"] == [(HOLCIM, RDFS.comment, Literal("cement"), HOLCIM_CASE)]
    # PROV-O in the history graph
    assert loaded_store.ask(f"ASK {{ GRAPH <{HISTORY_GRAPH}> {{ ?c a prov:Activity ; "
                            "prov:wasAssociatedWith/rdfs:label \"alice\" ; "
                            "prov:startedAtTime ?t } }", c=history.change_iri(ch.id))


def test_delete_insert_where_and_revert(loaded_store) -> None:
    first = submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{HOLCIM_CASE}> {{ "
                          f"<{HOLCIM}> rdfs:comment \"a\" }} }}", user=ALICE)
    second = submit_update(loaded_store, P + "DELETE { ?s rdfs:comment \"a\" } INSERT { ?s "
                           "rdfs:comment \"b\" } WHERE { ?s rdfs:comment \"a\" }", user=BOB,
                           if_match=first.revision)
    assert (second.added, second.removed, second.parent) == (1, 1, first.id)
    assert comment(loaded_store, "b") and not comment(loaded_store, "a")
    # the first change cannot be reverted: the second touched the same triple
    with pytest.raises(Conflict) as err:
        revert(loaded_store, first.id, user=ALICE)
    assert err.value.extra["conflicting"] == [second.id]
    undo = revert(loaded_store, second.id, user=ALICE)
    assert undo.reverts == second.id and (undo.added, undo.removed) == (1, 1)
    assert comment(loaded_store, "a") and not comment(loaded_store, "b")
    removed, added = history.diff(loaded_store, "initial", undo.id)
    assert removed == set() and added == {(HOLCIM, RDFS.comment, Literal("a"), HOLCIM_CASE)}
    old = history.graph_at(loaded_store, HOLCIM_CASE, second.id)
    assert (HOLCIM, RDFS.comment, Literal("b")) in old
    assert (HOLCIM, RDFS.comment, Literal("a")) not in old


def test_stale_if_match_is_412_with_what_changed(loaded_store) -> None:
    first = submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{HOLCIM_CASE}> {{ "
                          f"<{HOLCIM}> rdfs:comment \"x\" }} }}", user=ALICE)
    second = submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{HOLCIM_CASE}> {{ "
                           f"<{HOLCIM}> rdfs:comment \"y\" }} }}", user=BOB,
                           if_match=first.revision)
    with pytest.raises(PreconditionFailed) as err:
        submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{HOLCIM_CASE}> {{ "
                      f"<{HOLCIM}> rdfs:comment \"z\" }} }}", user=ALICE,
                      if_match=f'W/"{first.revision}"')
    assert err.value.status == 412
    assert err.value.extra["changed_since"] == [second.id]
    assert not comment(loaded_store, "z")


def test_disjoint_class_violation_refused_and_nothing_applied(loaded_store) -> None:
    before = len(loaded_store)
    rev = loaded_store.revision()
    thing = "https://w3id.org/ckm/id/thing/both"
    with pytest.raises(ValidationFailed) as err:
        submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{HOLCIM_CASE}> {{ <{thing}> a "
                      "ckm:KnowledgeAboutCustomer, ckm:KnowledgeFromCustomer ; "
                      "rdfs:label \"both\" } }", user=ALICE)
    assert err.value.status == 422
    assert err.value.extra["consistent"] is False
    assert "inconsistent" in err.value.detail
    assert len(loaded_store) == before and loaded_store.revision() == rev
    assert history.list_changes(loaded_store)[1] == 0


def test_unsatisfiable_class_named(loaded_store) -> None:
    with pytest.raises(ValidationFailed) as err:
        submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{ONTOLOGY_GRAPH}> {{ "
                      "ckm:Impossible a owl:Class ; rdfs:label \"impossible\"@en ; "
                      "rdfs:subClassOf ckm:KnowledgeAboutCustomer, ckm:KnowledgeForCustomer "
                      "} }", user=ALICE)
    assert err.value.extra["unsatisfiable"] == [str(CKM.Impossible)]
    assert str(CKM.Impossible) in err.value.detail
    assert not loaded_store.ask("ASK { ckm:Impossible ?p ?o }")


def test_shacl_violation_refused(loaded_store) -> None:
    # a company must have a source: a new one without is refused, naming node and message
    acme = "https://w3id.org/ckm/id/company/acme"
    with pytest.raises(ValidationFailed) as err:
        submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{HOLCIM_CASE}> {{ <{acme}> a "
                      "ckm:Company ; rdfs:label \"Acme\" } }", user=ALICE)
    found = err.value.extra["violations"]
    assert any(v["focus"] == acme and "source" in v["message"] for v in found)
    assert not loaded_store.ask("ASK { ?s ?p ?o }", s=URIRef(acme))


def test_inferred_graph_follows_commits(loaded_store) -> None:
    """ckm:appliesStyle from the property chain appears in the inferred graph."""
    practice = "https://w3id.org/ckm/id/practice/holcim-test-practice"
    paper = loaded_store.select("SELECT * WHERE { ?c dcterms:source ?p } LIMIT 1",
                                c=HOLCIM)[0]["p"]
    assert not loaded_store.ask("ASK { ?c ckm:appliesStyle ckm:JointIntellectualProperty }",
                                c=HOLCIM)
    ch = submit_update(loaded_store, P + f"""PREFIX dcterms: <http://purl.org/dc/terms/>
        INSERT DATA {{ GRAPH <{HOLCIM_CASE}> {{
          <{practice}> a ckm:CKMPractice ; rdfs:label "test practice" ;
             ckm:practicedBy <{HOLCIM}> ; ckm:exhibitsStyle ckm:JointIntellectualProperty ;
             dcterms:source <{paper}> ; ckm:sourceLocator "p. 1" .
          <{HOLCIM_CASE}> ckm:hasPractice <{practice}> . }} }}""", user=ALICE)
    assert ch.checks["hermit"] is not None and ch.checks["inferred"]["added"] >= 1
    assert loaded_store.ask(f"ASK {{ GRAPH <{INFERRED_GRAPH}> {{ ?c ckm:appliesStyle "
                            "ckm:JointIntellectualProperty } }", c=HOLCIM)
    revert(loaded_store, ch.id, user=ALICE)
    assert not loaded_store.ask("ASK { ?c ckm:appliesStyle ckm:JointIntellectualProperty }",
                                c=HOLCIM)


def test_update_forms(loaded_store) -> None:
    g = "https://w3id.org/ckm/id/case/scratch"
    ch = submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{g}> {{ <urn:x:a> "
                       "rdfs:label \"a\" , \"b\" } } ;\n"
                       f"COPY <{g}> TO <{g}-copy> ;\n"
                       f"DELETE WHERE {{ GRAPH <{g}-copy> {{ ?s rdfs:label \"b\" }} }}",
                       user=ALICE)
    assert (ch.added, ch.removed) == (3, 0)
    assert sorted(str(r["l"]) for r in loaded_store.select(
        f"SELECT ?l WHERE {{ GRAPH <{g}-copy> {{ ?s rdfs:label ?l }} }}")) == ["a"]
    ch = submit_update(loaded_store, f"WITH <{g}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
                       user=ALICE)
    assert ch.removed == 2 and not loaded_store.graph(g)
    ch = submit_update(loaded_store, f"DROP GRAPH <{g}-copy>", user=ALICE)
    assert ch.removed == 1
    # a no-op writes nothing and keeps the revision
    rev = current_revision(loaded_store)
    assert submit_update(loaded_store, f"CLEAR SILENT GRAPH <{g}>", user=ALICE).empty
    assert current_revision(loaded_store) == rev
    with pytest.raises(BadQuery):
        submit_update(loaded_store, "INSERT DATA { <a:b> <c:d> ", user=ALICE)
    with pytest.raises(Forbidden):
        submit_update(loaded_store, "LOAD <http://example.org/x.ttl>", user=ALICE)
    with pytest.raises(Forbidden):
        submit_update(loaded_store, f"INSERT DATA {{ GRAPH <{INFERRED_GRAPH}> {{ <a:b> <c:d> "
                      "<e:f> } }", user=ALICE)


def test_graph_store_put_keeps_unchanged_blank_node_axioms(loaded_store) -> None:
    onto = loaded_store.graph(ONTOLOGY_GRAPH)
    onto.add((CKM.Extra, RDFS.label, Literal("extra", lang="en")))
    ch = submit_graph(loaded_store, ONTOLOGY_GRAPH, onto, mode="put", user=ALICE)
    assert (ch.added, ch.removed) == (1, 0)


def test_data_edit_whose_inferences_hold_already_skips_the_closure(loaded_store) -> None:
    """A benefit on an existing practice changes no inference: the OWL RL recompute is
    skipped, and the inferred graph is still exactly the full closure. A benefit on an
    untyped node would imply a new type (the property's domain), so it is not skipped."""
    from kg_service.bootstrap import refresh_inferred
    from kg_service.changes import affects_inferences

    practice = URIRef("https://w3id.org/ckm/id/practice/holcim-purchasing")
    quad = (practice, CKM.benefit, Literal("faster deliveries"), URIRef(HOLCIM_CASE))
    assert not affects_inferences(loaded_store, [quad])
    untyped = (URIRef("urn:x:new"), CKM.benefit, Literal("x"), URIRef(HOLCIM_CASE))
    assert affects_inferences(loaded_store, [untyped])

    ch = submit_update(loaded_store, P + f"INSERT DATA {{ GRAPH <{HOLCIM_CASE}> {{ "
                       f"<{practice}> ckm:benefit \"faster deliveries\" }} }}", user=ALICE)
    assert (ch.checks["inferred"]["added"], ch.checks["inferred"]["removed"]) == (0, 0)
    before = set(loaded_store.graph(INFERRED_GRAPH))
    refresh_inferred(loaded_store)  # the full OWL RL closure agrees
    assert set(loaded_store.graph(INFERRED_GRAPH)) == before
