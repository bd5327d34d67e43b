"""Looking quads up in the store in batches: which exist, where, and where new ones go."""

from __future__ import annotations

from typing import Any, Iterable

from rdflib import BNode, URIRef
from rdflib.term import Node

from kg_service.namespaces import CASE_GRAPH_PREFIX, CKM, ONTOLOGY_GRAPH

Quad = tuple[Node, Node, Node, str]
Triple = tuple[Node, Node, Node]

EDITS_GRAPH = "https://w3id.org/ckm/edits"
_CHUNK = 200


def _protected(graph: str) -> bool:
    from kg_service.sparql_update import is_protected

    return is_protected(graph)


def present(store: Any, quads: Iterable[Quad]) -> set[Quad]:
    """Which of ``quads`` the store holds (VALUES lookups, blank nodes one by one)."""
    quads = list(quads)
    found: set[Quad] = set()
    plain = [q for q in quads if not any(isinstance(t, BNode) for t in q[:3])]
    for i in range(0, len(plain), _CHUNK):
        chunk = plain[i:i + _CHUNK]
        rows = " ".join(f"({s.n3()} {p.n3()} {o.n3()} <{g}>)" for s, p, o, g in chunk)
        for r in store.select("SELECT ?s ?p ?o ?g WHERE { VALUES (?s ?p ?o ?g) { " + rows
                              + " } GRAPH ?g { ?s ?p ?o } }"):
            found.add((r["s"], r["p"], r["o"], str(r["g"])))
    for s, p, o, g in quads:
        if any(isinstance(t, BNode) for t in (s, p, o)) and store.ask(
                "ASK { GRAPH ?g { ?s ?p ?o } }", s=s, p=p, o=o, g=URIRef(g)):
            found.add((s, p, o, g))
    return found


def locate(store: Any, triples: Iterable[Triple]) -> dict[Triple, list[str]]:
    """The writable graphs that hold each triple."""
    triples = list(dict.fromkeys(triples))
    out: dict[Triple, list[str]] = {t: [] for t in triples}
    plain = [t for t in triples if not any(isinstance(x, BNode) for x in t)]
    for i in range(0, len(plain), _CHUNK):
        rows = " ".join(f"({s.n3()} {p.n3()} {o.n3()})" for s, p, o in plain[i:i + _CHUNK])
        for r in store.select("SELECT ?s ?p ?o ?g WHERE { VALUES (?s ?p ?o) { " + rows
                              + " } GRAPH ?g { ?s ?p ?o } }"):
            out[(r["s"], r["p"], r["o"])].append(str(r["g"]))
    for t in triples:
        if any(isinstance(x, BNode) for x in t):
            out[t] = [str(r["g"]) for r in store.select(
                "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", s=t[0], p=t[1], o=t[2])]
    return {t: [g for g in gs if not _protected(g)] for t, gs in out.items()}


def route(store: Any, triples: Iterable[Triple]) -> dict[Triple, str]:
    """The graph each triple inserted into the default graph goes to (see module doc)."""
    triples = list(dict.fromkeys(triples))
    subjects = {s for s, _, _ in triples if isinstance(s, URIRef)}
    home: dict[Node, str] = {}
    subject_list = sorted(subjects)
    for i in range(0, len(subject_list), _CHUNK):
        values = " ".join(s.n3() for s in subject_list[i:i + _CHUNK])
        for r in store.select("SELECT DISTINCT ?s ?g WHERE { VALUES ?s { " + values
                              + " } GRAPH ?g { ?s ?p ?o } }"):
            g = str(r["g"])
            if _protected(g):
                continue
            if r["s"] not in home or g == ONTOLOGY_GRAPH or (
                    home[r["s"]] != ONTOLOGY_GRAPH and g < home[r["s"]]):
                home[r["s"]] = g
    for s in subjects - set(home):
        if str(s).startswith(str(CKM)):
            home[s] = ONTOLOGY_GRAPH
        elif str(s).startswith(CASE_GRAPH_PREFIX):
            home[s] = CASE_GRAPH_PREFIX + str(s)[len(CASE_GRAPH_PREFIX):].split("/")[0]
    # blank nodes follow the subject that points at them
    for _ in range(3):
        for s, _p, o in triples:
            if isinstance(o, BNode) and s in home and o not in home:
                home[o] = home[s]
    return {t: home.get(t[0], EDITS_GRAPH) for t in triples}
